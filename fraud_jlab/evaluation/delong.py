"""DeLong's test for the difference of two correlated ROC AUCs (same labels, same rows).

DeLong, DeLong & Clarke-Pearson (1988), in the fast midrank form of Sun & Xu (2014): with
``m`` positives and ``n`` negatives, each model's AUC is the mean of its structural
components ``V10`` (per positive: share of negatives scored below it, ties 1/2) and ``V01``
(per negative: share of positives scored above it). The variance of ``AUC_a - AUC_b`` is
``(S10_aa + S10_bb - 2 S10_ab) / m + (S01_aa + S01_bb - 2 S01_ab) / n`` where ``S10``/``S01``
are the sample covariance matrices of the components; the test is a two-sided normal test.

:func:`delong_paired` is for one holdout; :func:`delong_paired_batch` runs the same test on
many score pairs at once (rows of 2-D arrays, one shared label vector) for simulations.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.bootstrap import PairedDelta, paired_bootstrap
from fraud_jlab.evaluation.metrics import as_labels, as_scores, require_both_classes

FloatArray = NDArray[np.float64]


def midranks(x: Any) -> FloatArray:
    """1-based ranks along the last axis, ties getting the mean of their positions."""
    a = np.asarray(x, dtype=np.float64)
    n = a.shape[-1]
    order = np.argsort(a, axis=-1, kind="mergesort")
    xs = np.take_along_axis(a, order, axis=-1)
    idx = np.broadcast_to(np.arange(n), a.shape)
    new_group = np.ones(a.shape, dtype=bool)
    new_group[..., 1:] = xs[..., 1:] != xs[..., :-1]
    start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=-1)
    group_end = np.ones(a.shape, dtype=bool)
    group_end[..., :-1] = new_group[..., 1:]
    end_rev = np.minimum.accumulate(np.where(group_end, idx, n - 1)[..., ::-1], axis=-1)
    end = end_rev[..., ::-1]
    mid = (start + end) / 2.0 + 1.0
    ranks = np.empty(a.shape, dtype=np.float64)
    np.put_along_axis(ranks, order, mid, axis=-1)
    return ranks


def _components(pos: FloatArray, neg: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """AUC, V10 (per positive) and V01 (per negative) along the last axis."""
    m, n = pos.shape[-1], neg.shape[-1]
    r_all = midranks(np.concatenate([pos, neg], axis=-1))
    r_pos = midranks(pos)
    r_neg = midranks(neg)
    v10 = (r_all[..., :m] - r_pos) / n
    v01 = 1.0 - (r_all[..., m:] - r_neg) / m
    auc = v10.mean(axis=-1)
    return auc, v10, v01


def _norm_sf2(z: FloatArray) -> FloatArray:
    """Two-sided normal p-value ``P(|Z| >= |z|)``."""
    erfc = np.frompyfunc(math.erfc, 1, 1)
    return np.asarray(erfc(np.abs(z) / math.sqrt(2.0)), dtype=np.float64)


def delong_paired_batch(
    y_true: Any, score_a: Any, score_b: Any, ci_level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Vectorised :func:`delong_paired` over the rows of ``score_a``/``score_b`` (k, n_rows).

    Returns arrays (delta, se, z, p, ci_low, ci_high) of length k. ``p`` is 1 and ``z`` 0
    where the variance is 0 (identical rankings).
    """
    y = as_labels(y_true)
    require_both_classes(y)
    if not 0 < ci_level < 1:
        raise ValidationError(f"ci_level must be in (0, 1), got {ci_level!r}", field="ci_level")
    a = np.atleast_2d(np.asarray(score_a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(score_b, dtype=np.float64))
    if a.shape != b.shape or a.shape[-1] != y.size:
        raise ValidationError(
            f"score_a and score_b must both have shape (k, {y.size}), got {a.shape}, {b.shape}",
            field="score_b",
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValidationError("scores must be finite", field="score_a")
    pos, neg = y == 1, y == 0
    m, n = int(pos.sum()), int(neg.sum())
    auc_a, v10_a, v01_a = _components(a[:, pos], a[:, neg])
    auc_b, v10_b, v01_b = _components(b[:, pos], b[:, neg])
    d10 = v10_a - v10_b  # component of the difference, per positive
    d01 = v01_a - v01_b
    var10 = d10.var(axis=-1, ddof=1) if m > 1 else np.zeros(a.shape[0])
    var01 = d01.var(axis=-1, ddof=1) if n > 1 else np.zeros(a.shape[0])
    var = var10 / m + var01 / n
    se = np.sqrt(np.maximum(var, 0.0))
    delta = auc_a - auc_b
    safe = se > 1e-15
    z = np.where(safe, delta / np.where(safe, se, 1.0), 0.0)
    p = np.where(safe, _norm_sf2(z), 1.0)
    q = NormalDist().inv_cdf(0.5 + ci_level / 2)
    return delta, se, z, p, delta - q * se, delta + q * se


def delong_paired(
    y_true: Any, score_a: Any, score_b: Any, ci_level: float = 0.95
) -> tuple[float, float, float, float, float, float]:
    """DeLong's paired test of ``AUC(a) - AUC(b)`` on one holdout.

    Returns ``(delta, se, z, p, ci_low, ci_high)``: the AUC difference, its standard error,
    the z statistic, the two-sided p-value and the normal ``ci_level`` interval.
    """
    y = as_labels(y_true)
    sa = as_scores(score_a, y.size, field="score_a")
    sb = as_scores(score_b, y.size, field="score_b")
    out = delong_paired_batch(y, sa[None, :], sb[None, :], ci_level)
    delta, se, z, p, low, high = (float(v[0]) for v in out)
    return delta, se, z, p, low, high


def paired_deltas(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    **bootstrap_args: Any,
) -> tuple[dict[str, PairedDelta], dict[str, str]]:
    """Paired deltas of every headline metric, ``auc_roc`` from DeLong, the rest bootstrapped.

    ``bootstrap_args`` go to :func:`~fraud_jlab.evaluation.bootstrap.paired_bootstrap`.
    Returns the deltas and, per metric, the method: ``"delong"`` or ``"paired_bootstrap"``.
    The DeLong entry has ``n_bootstrap`` 0 and its normal ``ci_level`` interval.
    """
    paired = paired_bootstrap(y_true, score_a, score_b, **bootstrap_args)
    methods = dict.fromkeys(paired, "paired_bootstrap")
    if "auc_roc" in paired:
        level = float(bootstrap_args.get("ci_level", 0.95))
        delta, _se, _z, p, low, high = delong_paired(y_true, score_a, score_b, level)
        paired["auc_roc"] = PairedDelta(
            delta=delta,
            low=low,
            high=high,
            level=level,
            n_bootstrap=0,
            significant=bool(p < 1 - level),
            p_value=p,
        )
        methods["auc_roc"] = "delong"
    return paired, methods
