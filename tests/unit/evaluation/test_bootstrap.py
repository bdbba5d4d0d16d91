"""Bootstrap CIs: coverage, stratification, seeding, paired significance, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.stats import norm

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import HEADLINE_METRICS, bootstrap_ci, paired_bootstrap
from fraud_jlab.evaluation.weighted import chunk_rounds, stratified_counts


def test_ci_contains_the_population_auc_on_a_known_problem() -> None:
    # Given scores N(0,1) for legitimate and N(1.5,1) for fraud, the population AUC is
    # Phi(1.5 / sqrt(2)) ~= 0.856.
    truth = float(norm.cdf(1.5 / np.sqrt(2)))
    covered = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = (rng.random(3000) < 0.05).astype(int)
        score = rng.normal(size=3000) + 1.5 * y
        ci = bootstrap_ci(y, score, n_bootstrap=300, random_state=seed)["auc_roc"]
        assert ci.low <= ci.estimate <= ci.high
        covered += ci.low <= truth <= ci.high
    # A 95% interval should cover the truth in ~19 of 20 samples; 16 is a generous floor.
    assert covered >= 16


def test_every_replicate_keeps_both_classes() -> None:
    rng = np.random.default_rng(0)
    counts = stratified_counts(rng, 3, 500)
    # Each replicate draws exactly n rows from the n of its class.
    assert (counts.sum(axis=1) == 3).all()
    # Even with a single fraud row the interval is defined (every replicate has it).
    y = np.r_[np.zeros(200), 1]
    score = np.r_[np.linspace(0, 0.5, 200), 0.9]
    ci = bootstrap_ci(y, score, n_bootstrap=50)
    assert ci["auc_roc"].low == ci["auc_roc"].high == 1.0


def test_bootstrap_is_seeded(holdout: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = holdout
    a = bootstrap_ci(y, score, n_bootstrap=100, random_state=7)
    b = bootstrap_ci(y, score, n_bootstrap=100, random_state=7)
    c = bootstrap_ci(y, score, n_bootstrap=100, random_state=8)
    assert a == b
    assert a["average_precision"] != c["average_precision"]
    assert set(a) == set(HEADLINE_METRICS)


def test_chunks_cover_every_round() -> None:
    assert sum(chunk_rounds(57_000, 1000)) == 1000
    assert sum(chunk_rounds(10, 7)) == 7


def test_paired_bootstrap_finds_a_clearly_better_model_significant(
    holdout: tuple[np.ndarray, np.ndarray],
) -> None:
    y, good = holdout
    rng = np.random.default_rng(1)
    bad = np.clip(good + rng.normal(scale=0.5, size=good.size), 0, 1)
    result = paired_bootstrap(y, good, bad, n_bootstrap=500)
    ap = result["average_precision"]
    assert ap.delta > 0
    assert ap.significant
    assert ap.low > 0
    assert result["auc_roc"].significant


def test_paired_bootstrap_same_model_is_not_significant(
    holdout: tuple[np.ndarray, np.ndarray],
) -> None:
    y, score = holdout
    result = paired_bootstrap(y, score, score.copy(), n_bootstrap=200)
    for delta in result.values():
        assert delta.delta == 0.0
        assert (delta.low, delta.high) == (0.0, 0.0)
        assert not delta.significant


def test_paired_bootstrap_of_near_identical_models_is_not_significant(
    holdout: tuple[np.ndarray, np.ndarray],
) -> None:
    y, score = holdout
    rng = np.random.default_rng(3)
    jitter = np.clip(score + rng.normal(scale=1e-4, size=score.size), 0, 1)
    ap = paired_bootstrap(y, score, jitter, n_bootstrap=300)["average_precision"]
    assert ap.low <= 0 <= ap.high
    assert not ap.significant


def test_paired_interval_is_narrower_than_unpaired(holdout: tuple[np.ndarray, np.ndarray]) -> None:
    # Pairing removes the holdout-sampling noise both models share.
    y, a = holdout
    rng = np.random.default_rng(5)
    b = np.clip(a + rng.normal(scale=0.05, size=a.size), 0, 1)
    paired = paired_bootstrap(y, a, b, n_bootstrap=300)["auc_roc"]
    ci_a = bootstrap_ci(y, a, n_bootstrap=300)["auc_roc"]
    assert paired.high - paired.low < ci_a.high - ci_a.low


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_bootstrap": 0}, "n_bootstrap"),
        ({"n_bootstrap": 2.5}, "n_bootstrap"),
        ({"ci_level": 1.0}, "ci_level"),
        ({"threshold": float("nan")}, "threshold"),
    ],
)
def test_bootstrap_arguments_are_validated(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        bootstrap_ci([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], **kwargs)
    assert err.value.field == field


def test_paired_bootstrap_rejects_length_mismatch() -> None:
    with pytest.raises(ValidationError) as err:
        paired_bootstrap([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [0.1, 0.9])
    assert err.value.field == "score_b"


def test_thousand_rounds_on_57k_rows_is_fast() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(57_000) < 0.0017).astype(int)
    score = np.clip(rng.normal(0.1 + 0.6 * y, 0.15), 0, 1)
    start = time.perf_counter()
    bootstrap_ci(y, score, n_bootstrap=1000)
    elapsed = time.perf_counter() - start
    # ~0.9 s on an idle 2-core machine; the bound leaves room for a busy CI runner.
    assert elapsed < 10.0
