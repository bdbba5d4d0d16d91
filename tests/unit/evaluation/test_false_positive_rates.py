"""Seeded null simulations: measured false-positive rates of the comparison's tests.

Under the null both "models" are exchangeable (same signal, same noise law, correlated
through a shared noise term) on the same holdout rows, so every true metric difference is
0 and a 5% test must reject in about 5% of datasets. Each simulation PRINTS its measured
rate (run pytest with ``-s`` to see it) and asserts it within [3%, 7%].

* DeLong's AUC test: 2,000 null datasets, 4,000 rows at 5% fraud (~200 positives), run
  batched (one shared label vector per block of 100 datasets).
* The primary test that decides "significant" in ``compare_runs`` (average precision,
  paired stratified bootstrap, 200 rounds, two-sided p-value): 1,500 null datasets of
  2,000 rows at 5% fraud. The same datasets also give the rate at which any Holm-corrected
  secondary headline metric is marked significant (printed and bounded by 7%).
"""

from __future__ import annotations

import time

import numpy as np

from fraud_jlab.comparison.runs import SIGNIFICANCE_LEVEL, holm_adjust
from fraud_jlab.evaluation.bootstrap import paired_bootstrap
from fraud_jlab.evaluation.delong import delong_paired_batch
from fraud_jlab.evaluation.metrics import HEADLINE_METRICS

LOW, HIGH = 0.03, 0.07


def _null_scores(
    rng: np.random.Generator, y: np.ndarray, k: int, signal: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """k pairs of exchangeable probability-like score vectors for labels ``y``."""
    n = y.size
    shared = rng.normal(size=(k, n))
    a = signal * y + shared + rng.normal(size=(k, n))
    b = signal * y + shared + rng.normal(size=(k, n))
    return 1 / (1 + np.exp(-(a - 3.0))), 1 / (1 + np.exp(-(b - 3.0)))


def test_delong_auc_test_size_under_the_null() -> None:
    rng = np.random.default_rng(20261203)
    n_rows, blocks, per_block = 4000, 20, 100
    start = time.perf_counter()
    rejections = 0
    for _ in range(blocks):
        y = (rng.random(n_rows) < 0.05).astype(np.int8)
        a, b = _null_scores(rng, y, per_block)
        _delta, _se, _z, p, _low, _high = delong_paired_batch(y, a, b)
        rejections += int(np.count_nonzero(p < SIGNIFICANCE_LEVEL))
    rate = rejections / (blocks * per_block)
    print(
        f"\nDeLong AUC test: {rate:.2%} false positives at nominal 5% "
        f"({blocks * per_block} null datasets, {time.perf_counter() - start:.1f}s)"
    )
    assert LOW <= rate <= HIGH


def test_primary_metric_test_size_under_the_null() -> None:
    rng = np.random.default_rng(7)
    n_rows, n_datasets, rounds = 2000, 1500, 200
    start = time.perf_counter()
    primary = secondary_any = 0
    for i in range(n_datasets):
        y = (rng.random(n_rows) < 0.05).astype(np.int8)
        y[:2] = [0, 1]
        a, b = (v[0] for v in _null_scores(rng, y, 1))
        paired = paired_bootstrap(y, a, b, n_bootstrap=rounds, random_state=i)
        primary += paired["average_precision"].p_value < SIGNIFICANCE_LEVEL
        others = [m for m in HEADLINE_METRICS if m != "average_precision"]
        p_auc = delong_paired_batch(y, a[None, :], b[None, :])[3][0]
        p_values = [p_auc if m == "auc_roc" else paired[m].p_value for m in others]
        secondary_any += any(p < SIGNIFICANCE_LEVEL for p in holm_adjust(p_values))
    rate = primary / n_datasets
    secondary_rate = secondary_any / n_datasets
    print(
        f"\nprimary (average_precision, paired bootstrap {rounds} rounds): {rate:.2%} "
        f"false positives at nominal 5%; any Holm-corrected secondary significant: "
        f"{secondary_rate:.2%} ({n_datasets} null datasets, "
        f"{time.perf_counter() - start:.1f}s)"
    )
    assert LOW <= rate <= HIGH
    assert secondary_rate <= HIGH
