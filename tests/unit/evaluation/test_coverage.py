"""Measured coverage of the ranking-metric intervals at 20 frauds (seeded simulation)."""

from __future__ import annotations

import time
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

from fraud_jlab.evaluation.intervals import MIN_FRAUDS, TOO_FEW, ranking_intervals
from fraud_jlab.evaluation.metrics import average_precision, classification_metrics

NORMAL = NormalDist()
N_POS, N_NEG = 20, 11_700  # 0.17% fraud: a 11,720-row holdout holds 20 frauds
SIMS = 300


def _truth(mu: float) -> dict[str, float]:
    """Population values of the binormal model (negatives N(0,1), frauds N(mu,1))."""
    rng = np.random.default_rng(77)
    n = 3_000_000
    y = (rng.random(n) < N_POS / (N_POS + N_NEG)).astype(np.int8)
    threshold = NORMAL.inv_cdf(1 - 0.001)
    return {
        "auc_roc": NORMAL.cdf(mu / np.sqrt(2)),
        "average_precision": average_precision(y, rng.normal(size=n) + mu * y),
        "recall_at_fpr": 1 - NORMAL.cdf(threshold - mu),
    }


@pytest.mark.parametrize("mu", [2.5, 3.5, 4.5])
def test_intervals_cover_at_least_93_percent_at_20_frauds(mu: float) -> None:
    truth = _truth(mu)
    rng = np.random.default_rng(int(mu * 10))
    y = np.r_[np.ones(N_POS, dtype=np.int8), np.zeros(N_NEG, dtype=np.int8)]
    scores = rng.normal(size=(SIMS, y.size)) + mu * y
    hits = dict.fromkeys(truth, 0)
    started = time.perf_counter()
    for i in range(SIMS):
        intervals = ranking_intervals(y, scores[i], n_bootstrap=2000, random_state=i)
        for name, value in truth.items():
            ci = intervals[name]
            assert ci.low is not None and ci.high is not None and ci.n_pos == N_POS
            hits[name] += ci.low <= value <= ci.high
    coverage = {name: hits[name] / SIMS for name in truth}
    print(
        f"\ncoverage at {N_POS} frauds, separation {mu} "
        + ", ".join(f"{k} {truth[k]:.3f}: {v:.1%}" for k, v in coverage.items())
        + f" ({SIMS} holdouts, {time.perf_counter() - started:.1f}s)"
    )
    assert all(v >= 0.93 for v in coverage.values()), coverage


def test_point_estimates_are_the_reported_metrics() -> None:
    rng = np.random.default_rng(4)
    y = np.r_[np.ones(30, dtype=np.int8), np.zeros(5000, dtype=np.int8)]
    s = np.round(rng.normal(size=y.size) + 3 * y, 1)  # ties between frauds and legitimate rows
    metrics = classification_metrics(y, s)
    intervals = ranking_intervals(y, s, n_bootstrap=200)
    for name, ci in intervals.items():
        assert ci.estimate == pytest.approx(metrics[name], abs=1e-12)
        assert ci.low is not None and ci.high is not None and ci.low <= ci.estimate <= ci.high


def test_too_few_frauds_give_no_interval() -> None:
    y = np.r_[np.ones(MIN_FRAUDS - 1, dtype=np.int8), np.zeros(2000, dtype=np.int8)]
    s = np.random.default_rng(0).normal(size=y.size) + 3 * y
    for ci in ranking_intervals(y, s).values():
        assert ci.low is None and ci.high is None and not ci.estimable
        assert ci.method == TOO_FEW and ci.n_pos == MIN_FRAUDS - 1


class _Model:
    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.c_[1 - self.scores, self.scores]


def test_evaluator_reports_n_pos_and_too_few_frauds(tmp_path: Any) -> None:
    from fraud_jlab.evaluation import ModelEvaluator
    from fraud_jlab.evaluation.intervals import ci_summary
    from fraud_jlab.magic.display import run_detail_text
    from fraud_jlab.tracking.run import Run
    from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

    tracker = SqliteTrackerStore(tmp_path / "runs.db")
    rng = np.random.default_rng(1)
    for n_pos, expect_ci in ((40, True), (MIN_FRAUDS - 1, False)):
        y = np.r_[np.ones(n_pos, dtype=np.int8), np.zeros(4000, dtype=np.int8)]
        p = 1 / (1 + np.exp(-(rng.normal(size=y.size) + 3 * y - 4)))
        with Run("e", f"n{n_pos}", tracker=tracker) as run:
            result = ModelEvaluator(n_bootstrap=200).evaluate_model(
                _Model(p), np.zeros((y.size, 1)), y, run=run
            )
        ap = result["confidence_intervals"]["average_precision"]
        assert ap["n_pos"] == n_pos
        assert result["confidence_intervals"]["accuracy"]["n_pos"] == n_pos
        detail = tracker.get_run(run.run_id)
        summary = ci_summary(dict(detail.metrics), dict(detail.tags))
        text = run_detail_text(detail)
        if expect_ci:
            assert ap["method"] == "bca_logit_expanded" and ap["low"] is not None
            assert f"({n_pos} frauds)" in summary["average_precision"]
            assert "average_precision_ci_low" in detail.metrics
        else:
            assert ap["low"] is None and ap["method"] == TOO_FEW
            assert "average_precision_ci_low" not in detail.metrics
            assert summary["average_precision"].endswith(f"{TOO_FEW} ({n_pos} frauds)")
            assert TOO_FEW in text
    tracker.close()
