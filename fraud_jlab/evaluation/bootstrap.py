"""Stratified bootstrap confidence intervals, single-model and paired.

Positives and negatives are resampled separately (each replicate keeps the holdout's class
counts, so AUC and average precision are always defined). Intervals are percentile
intervals. A paired comparison draws the same rows for both models in every replicate, so
the interval is for the difference of the two metrics on the same transactions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import (
    DEFAULT_TARGET_FPR,
    HEADLINE_METRICS,
    as_labels,
    as_predictions,
    as_scores,
    check_target_fpr,
    check_threshold,
    require_both_classes,
    sorted_scores,
)
from fraud_jlab.evaluation.weighted import (
    FloatArray,
    SortedScores,
    chunk_rounds,
    stratified_counts,
    unit_weights,
    weighted_metrics,
)

MAX_BOOTSTRAP = 100_000


@dataclass(frozen=True)
class ConfidenceInterval:
    """Point estimate with its interval (percentile bootstrap unless ``method`` says otherwise).

    ``low``/``high`` are None when the holdout holds too few frauds to estimate one
    (``method`` is then "too few frauds to estimate"); ``n_pos`` is the number of frauds.
    """

    estimate: float
    low: float | None
    high: float | None
    level: float
    n_bootstrap: int
    n_pos: int | None = None
    method: str = "percentile"

    def to_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


@dataclass(frozen=True)
class PairedDelta:
    """``metric(a) - metric(b)`` on the same holdout with its paired bootstrap interval."""

    delta: float
    low: float
    high: float
    level: float
    n_bootstrap: int
    significant: bool  # the interval excludes 0
    #: Two-sided bootstrap p-value ``min(1, 2 * min(#(d<=0)+1, #(d>=0)+1) / (B+1))`` over the
    #: paired replicate differences ``d``.
    p_value: float = 1.0

    def to_dict(self) -> dict[str, float | int | bool]:
        return asdict(self)


def check_bootstrap_args(n_bootstrap: int, ci_level: float) -> None:
    """ValidationError unless 1 <= n_bootstrap <= 100000 and 0 < ci_level < 1."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)):
        raise ValidationError("n_bootstrap must be an integer", field="n_bootstrap")
    if not 1 <= int(n_bootstrap) <= MAX_BOOTSTRAP:
        raise ValidationError(
            f"n_bootstrap must be in [1, {MAX_BOOTSTRAP}], got {n_bootstrap}", field="n_bootstrap"
        )
    if not isinstance(ci_level, (int, float)) or not 0 < ci_level < 1:
        raise ValidationError(f"ci_level must be in (0, 1), got {ci_level!r}", field="ci_level")


def _replicates(
    models: list[SortedScores],
    n_bootstrap: int,
    random_state: int | None,
    target_fpr: float,
) -> list[dict[str, FloatArray]]:
    """Metric values per replicate for each model, all models on the same resampled rows."""
    rng = np.random.default_rng(random_state)
    first = models[0]
    # Draw counts indexed by the first model's sorted negative order (counts of a uniform
    # multinomial are exchangeable, so this is the same distribution); the other models get
    # the same rows through the permutation between the two orders.
    inverse = np.empty(first.n_neg, dtype=np.int64)
    inverse[first.neg_order] = np.arange(first.n_neg)
    to_model = [inverse[s.neg_order] for s in models]
    out: list[dict[str, list[FloatArray]]] = [{m: [] for m in HEADLINE_METRICS} for _ in models]
    for rounds in chunk_rounds(first.n_pos + first.n_neg, n_bootstrap):
        w_pos = stratified_counts(rng, first.n_pos, rounds)
        w_neg_first = stratified_counts(rng, first.n_neg, rounds)
        for i, (store, s) in enumerate(zip(out, models, strict=True)):
            w_neg = w_neg_first if i == 0 else w_neg_first[:, to_model[i]]
            values = weighted_metrics(s, w_pos, w_neg, target_fpr)
            for name in HEADLINE_METRICS:
                store[name].append(values[name])
    return [{k: np.concatenate(v) for k, v in store.items()} for store in out]


def _prepare(
    y: np.ndarray[Any, Any], y_score: Any, threshold: float, y_pred: Any, field: str
) -> SortedScores:
    score = as_scores(y_score, y.size, field=field)
    pred = score >= threshold if y_pred is None else as_predictions(y_pred, y.size)
    return sorted_scores(y, score, pred)


def bootstrap_ci(
    y_true: Any,
    y_score: Any,
    *,
    threshold: float = 0.5,
    y_pred: Any = None,
    n_bootstrap: int = 1000,
    ci_level: float = 0.95,
    random_state: int | None = 0,
    target_fpr: float = DEFAULT_TARGET_FPR,
) -> dict[str, ConfidenceInterval]:
    """A stratified percentile bootstrap interval for every metric in ``HEADLINE_METRICS``.

    Raises ValidationError for degenerate labels/scores or out-of-range arguments.
    """
    check_bootstrap_args(n_bootstrap, ci_level)
    y = as_labels(y_true)
    require_both_classes(y)
    s = _prepare(y, y_score, check_threshold(threshold), y_pred, "y_score")
    fpr = check_target_fpr(target_fpr)
    point = weighted_metrics(s, *unit_weights(s), fpr)
    reps = _replicates([s], int(n_bootstrap), random_state, fpr)[0]
    alpha = (1 - ci_level) / 2
    result = {}
    for name in HEADLINE_METRICS:
        low, high = np.quantile(reps[name], [alpha, 1 - alpha])
        result[name] = ConfidenceInterval(
            estimate=float(point[name][0]),
            low=float(low),
            high=float(high),
            level=float(ci_level),
            n_bootstrap=int(n_bootstrap),
            n_pos=s.n_pos,
        )
    return result


def paired_bootstrap(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    threshold: float = 0.5,
    threshold_b: float | None = None,
    n_bootstrap: int = 1000,
    ci_level: float = 0.95,
    random_state: int | None = 0,
    target_fpr: float = DEFAULT_TARGET_FPR,
) -> dict[str, PairedDelta]:
    """``metric(a) - metric(b)`` with a paired stratified bootstrap interval per headline metric.

    Both score vectors must be for the same rows of the same holdout (``y_true``).
    ``threshold`` applies to ``score_a`` and ``threshold_b`` (default: the same) to ``score_b``.
    ``significant`` is True when the interval excludes 0.
    """
    check_bootstrap_args(n_bootstrap, ci_level)
    y = as_labels(y_true)
    require_both_classes(y)
    thr = check_threshold(threshold)
    fpr = check_target_fpr(target_fpr)
    sa = _prepare(y, score_a, thr, None, "score_a")
    thr_b = thr if threshold_b is None else check_threshold(threshold_b, "threshold_b")
    sb = _prepare(y, score_b, thr_b, None, "score_b")
    pa = weighted_metrics(sa, *unit_weights(sa), fpr)
    pb = weighted_metrics(sb, *unit_weights(sb), fpr)
    ra, rb = _replicates([sa, sb], int(n_bootstrap), random_state, fpr)
    alpha = (1 - ci_level) / 2
    result = {}
    for name in HEADLINE_METRICS:
        diff = ra[name] - rb[name]
        low, high = (float(v) for v in np.quantile(diff, [alpha, 1 - alpha]))
        result[name] = PairedDelta(
            delta=float(pa[name][0] - pb[name][0]),
            low=low,
            high=high,
            level=float(ci_level),
            n_bootstrap=int(n_bootstrap),
            significant=bool(low > 0 or high < 0),
            p_value=bootstrap_p_value(diff),
        )
    return result


def bootstrap_p_value(diff: Any) -> float:
    """Two-sided p-value for "no difference" from paired bootstrap differences (+1 corrected)."""
    d = np.asarray(diff, dtype=np.float64)
    b = d.size
    below = (int(np.count_nonzero(d <= 0)) + 1) / (b + 1)
    above = (int(np.count_nonzero(d >= 0)) + 1) / (b + 1)
    return float(min(1.0, 2.0 * min(below, above)))
