"""DeLong's paired AUC test against a direct O(n_pos * n_neg) computation."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.delong import delong_paired, delong_paired_batch, midranks


def _direct(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """AUC difference and DeLong variance from the pairwise kernel, no ranks."""

    def psi(s: np.ndarray) -> np.ndarray:
        x, z = s[y == 1][:, None], s[y == 0][None, :]
        return (x > z) + 0.5 * (x == z)

    ka, kb = psi(a), psi(b)
    m, n = ka.shape
    v10 = np.stack([ka.mean(axis=1), kb.mean(axis=1)])
    v01 = np.stack([ka.mean(axis=0), kb.mean(axis=0)])
    s10, s01 = np.cov(v10), np.cov(v01)
    c = np.array([1.0, -1.0])
    var = c @ s10 @ c / m + c @ s01 @ c / n
    return float(ka.mean() - kb.mean()), float(var)


def test_midranks_average_ties() -> None:
    assert midranks([3.0, 1.0, 3.0, 2.0]).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert midranks([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0]]).tolist() == [[2, 2, 2], [3, 1, 2]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_direct_computation_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(60) < 0.3).astype(int)
    y[:2] = [0, 1]
    a = np.round(rng.normal(size=60) + y, 1)  # rounding makes ties
    b = np.round(0.5 * a + rng.normal(size=60), 1)
    delta, se, z, p, low, high = delong_paired(y, a, b)
    d_direct, var_direct = _direct(y, a, b)
    assert delta == pytest.approx(d_direct, abs=1e-12)
    assert se == pytest.approx(np.sqrt(var_direct), rel=1e-9)
    assert z == pytest.approx(delta / se)
    assert 0 < p <= 1 and low < delta < high
    assert high - low == pytest.approx(2 * 1.959963984540054 * se)


def test_batch_equals_single_and_identical_scores_give_p_one() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(200) < 0.1).astype(int)
    y[:2] = [0, 1]
    a, b = rng.normal(size=(3, 200)) + y, rng.normal(size=(3, 200)) + y
    batch = delong_paired_batch(y, a, b)
    for i in range(3):
        single = delong_paired(y, a[i], b[i])
        assert np.allclose([v[i] for v in batch], single)
    same = delong_paired(y, a[0], a[0])
    assert same[0] == 0 and same[3] == 1.0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        delong_paired([0, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(ValidationError):
        delong_paired([0, 1, 0], [0.1, 0.2], [0.1, 0.2, 0.3])


def test_evaluator_comparison_uses_delong_for_auc() -> None:
    from fraud_jlab.evaluation import ModelEvaluator

    rng = np.random.default_rng(8)
    y = (rng.random(3000) < 0.05).astype(int)
    y[:2] = [0, 1]
    good = 1 / (1 + np.exp(-(rng.normal(size=3000) + 3.0 * y - 3.0)))
    weak = 1 / (1 + np.exp(-(rng.normal(size=3000) + 1.0 * y - 3.0)))
    ev = ModelEvaluator(n_bootstrap=100)
    cur = ev.calculate_metrics(y, good >= 0.5, good)
    base = ev.calculate_metrics(y, weak >= 0.5, weak)
    out = ev.compare_to_baseline(cur, base, y_true=y, current_scores=good, baseline_scores=weak)
    auc = out["auc_roc"]
    _delta, _se, _z, p, low, high = delong_paired(y, good, weak)
    assert auc["method"] == "delong" and auc["paired"] is True
    assert (auc["ci_low"], auc["ci_high"], auc["p_value"]) == pytest.approx((low, high, p))
    assert auc["significant"] is True
    assert out["average_precision"]["method"] == "paired_bootstrap"
    assert 0 < out["average_precision"]["p_value"] <= 1
