"""Fraud metrics on a labelled holdout: validated inputs, point estimates, cost-optimal threshold.

Every function takes ``y_true`` (0/1 labels; bools and pandas Series accepted) and
``y_score`` (a score per row; higher = more likely fraud) and raises
:class:`fraud_jlab.errors.ValidationError` naming the field for empty input, length
mismatch, NaN/inf scores, labels other than 0/1, or a holdout with only one class. A row is
predicted positive when ``score >= threshold``.

Example::

    from fraud_jlab.evaluation.metrics import classification_metrics
    m = classification_metrics(y_test, model.predict_proba(X_test)[:, 1], threshold=0.5)
    m["average_precision"], m["recall_at_fpr"]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.weighted import (
    FloatArray,
    SortedScores,
    allowed_false_positives,
    unit_weights,
    weighted_metrics,
)

#: Metrics that get a bootstrap confidence interval and are logged to runs.
HEADLINE_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1_score",
    "auc_roc",
    "average_precision",
    "recall_at_fpr",
)
#: The seed's required metrics (Property 14).
REQUIRED_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1_score", "auc_roc")

DEFAULT_TARGET_FPR = 0.001


class MetricWarning(UserWarning):
    """A metric was given a defined fallback value (e.g. precision 0.0 with no predicted positives)."""


def as_labels(y_true: Any, field: str = "y_true") -> NDArray[np.int8]:
    """``y_true`` as an int8 0/1 array; ValidationError when empty, not 1-D or not binary."""
    try:
        arr = np.asarray(y_true)
    except Exception as exc:
        raise ValidationError(
            f"{field} must be an array of 0/1 labels: {exc}", field=field
        ) from exc
    if arr.ndim != 1:
        raise ValidationError(
            f"{field} must be one-dimensional, got shape {arr.shape}", field=field
        )
    if arr.size == 0:
        raise ValidationError(f"{field} is empty; at least one row is required", field=field)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValidationError(
            f"{field} must contain only 0 and 1, got dtype {arr.dtype}", field=field
        )
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        sample = arr[bad][:3].tolist()
        raise ValidationError(f"{field} must contain only 0 and 1, found {sample}", field=field)
    return arr.astype(np.int8)


def as_scores(
    y_score: Any, n: int, field: str = "y_score", *, probabilities: bool = False
) -> FloatArray:
    """``y_score`` as a float64 array of length ``n``; ValidationError for NaN/inf, wrong length,
    or (with ``probabilities``) values outside [0, 1]."""
    try:
        arr = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{field} must be numeric: {exc}", field=field) from exc
    if arr.ndim != 1:
        raise ValidationError(
            f"{field} must be one-dimensional, got shape {arr.shape}", field=field
        )
    if arr.size != n:
        raise ValidationError(
            f"{field} has {arr.size} rows but y_true has {n}; they must have the same length",
            field=field,
        )
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValidationError(
            f"{field} contains {int((~finite).sum())} NaN or infinite values", field=field
        )
    if probabilities and ((arr < 0).any() or (arr > 1).any()):
        raise ValidationError(
            f"{field} must be probabilities in [0, 1], found values in "
            f"[{arr.min():.4g}, {arr.max():.4g}]",
            field=field,
        )
    return arr


def as_predictions(y_pred: Any, n: int, field: str = "y_pred") -> NDArray[np.bool_]:
    """Hard 0/1 predictions of length ``n`` as a bool array."""
    labels = as_labels(y_pred, field=field)
    if labels.size != n:
        raise ValidationError(
            f"{field} has {labels.size} rows but y_true has {n}; they must have the same length",
            field=field,
        )
    return labels.astype(bool)


def require_both_classes(y: NDArray[np.int8], field: str = "y_true") -> tuple[int, int]:
    """(n_pos, n_neg); ValidationError when one class is missing (AUC/AP are then undefined)."""
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        missing = "fraud (1)" if n_pos == 0 else "legitimate (0)"
        raise ValidationError(
            f"{field} has no {missing} rows; ranking metrics (auc_roc, average_precision, "
            "recall_at_fpr) need both classes in the holdout",
            field=field,
        )
    return n_pos, n_neg


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_threshold(threshold: float, field: str = "threshold") -> float:
    """``threshold`` as a float; ValidationError unless it is a finite number."""
    if not _is_real(threshold) or not np.isfinite(threshold):
        raise ValidationError(f"{field} must be a finite number, got {threshold!r}", field=field)
    return float(threshold)


def check_target_fpr(target_fpr: float) -> float:
    """``target_fpr`` as a float; ValidationError unless 0 < target_fpr < 1."""
    if not _is_real(target_fpr) or not 0 < target_fpr < 1:
        raise ValidationError(
            f"target_fpr must be in (0, 1), got {target_fpr!r}", field="target_fpr"
        )
    return float(target_fpr)


def sorted_scores(y: NDArray[np.int8], score: FloatArray, pred: NDArray[np.bool_]) -> SortedScores:
    pos = y == 1
    return SortedScores.build(score[pos], score[~pos], pred[pos], pred[~pos])


def classification_metrics(
    y_true: Any,
    y_score: Any,
    *,
    threshold: float = 0.5,
    y_pred: Any = None,
    target_fpr: float = DEFAULT_TARGET_FPR,
    probabilities: bool = False,
) -> dict[str, float]:
    """Every headline metric (``HEADLINE_METRICS``) plus ``threshold``.

    Hard predictions are ``y_score >= threshold`` unless ``y_pred`` is given. With no predicted
    positive, precision is 0.0 and a :class:`MetricWarning` is issued. Raises ValidationError
    for degenerate input (see module docstring).
    """
    y = as_labels(y_true)
    score = as_scores(y_score, y.size, probabilities=probabilities)
    require_both_classes(y)
    thr = check_threshold(threshold)
    fpr = check_target_fpr(target_fpr)
    pred = score >= thr if y_pred is None else as_predictions(y_pred, y.size)
    if not pred.any():
        warnings.warn(
            f"no row is predicted positive (threshold {thr:g}); precision and f1_score are "
            "reported as 0.0",
            MetricWarning,
            stacklevel=2,
        )
    s = sorted_scores(y, score, pred)
    values = weighted_metrics(s, *unit_weights(s), fpr)
    result = {name: float(values[name][0]) for name in HEADLINE_METRICS}
    result["threshold"] = thr
    return result


def threshold_metrics(y_true: Any, y_score: Any, threshold: float = 0.5) -> dict[str, float]:
    """accuracy, precision, recall, f1_score at ``threshold`` (precision 0.0 + warning if nothing flagged)."""
    y = as_labels(y_true)
    score = as_scores(y_score, y.size)
    thr = check_threshold(threshold)
    pred = score >= thr
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    if tp + fp == 0:
        warnings.warn(
            f"no row is predicted positive (threshold {thr:g}); precision is reported as 0.0",
            MetricWarning,
            stacklevel=2,
        )
    if tp + fn == 0:
        warnings.warn(
            "y_true has no positive rows; recall is reported as 0.0", MetricWarning, stacklevel=2
        )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
    return {
        "accuracy": float(np.mean(pred == (y == 1))),
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "threshold": thr,
    }


def _ranking(y_true: Any, y_score: Any, target_fpr: float = DEFAULT_TARGET_FPR) -> dict[str, float]:
    y = as_labels(y_true)
    score = as_scores(y_score, y.size)
    require_both_classes(y)
    s = sorted_scores(y, score, np.zeros(y.size, dtype=bool))
    values = weighted_metrics(s, *unit_weights(s), check_target_fpr(target_fpr))
    return {k: float(v[0]) for k, v in values.items()}


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve (ties count one half)."""
    return _ranking(y_true, y_score)["auc_roc"]


def average_precision(y_true: Any, y_score: Any) -> float:
    """Average precision (area under the precision-recall curve, step-wise)."""
    return _ranking(y_true, y_score)["average_precision"]


def recall_at_fpr(y_true: Any, y_score: Any, target_fpr: float = DEFAULT_TARGET_FPR) -> float:
    """Highest recall of any threshold whose false-positive rate is <= ``target_fpr``."""
    return _ranking(y_true, y_score, target_fpr)["recall_at_fpr"]


def threshold_at_fpr(y_true: Any, y_score: Any, target_fpr: float = DEFAULT_TARGET_FPR) -> float:
    """The lowest threshold (a score value, or +inf) whose false-positive rate is <= ``target_fpr``."""
    y = as_labels(y_true)
    score = as_scores(y_score, y.size)
    require_both_classes(y)
    neg = np.sort(score[y == 0])[::-1]
    k = allowed_false_positives(neg.size, check_target_fpr(target_fpr))
    if k >= neg.size:
        return float(score.min())
    v = neg[k]
    above = score[score > v]
    return float(above.min()) if above.size else float("inf")


@dataclass
class CostResult:
    """The cost-optimal threshold and the cost curve it was picked from."""

    threshold: float
    total_cost: float
    expected_cost: float  # total cost / number of rows
    false_negatives: int
    false_positives: int
    thresholds: FloatArray = field(repr=False)
    costs: FloatArray = field(repr=False)  # total cost at each threshold

    def to_dict(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "total_cost": self.total_cost,
            "expected_cost": self.expected_cost,
            "false_negatives": self.false_negatives,
            "false_positives": self.false_positives,
        }


def cost_optimal_threshold(
    y_true: Any,
    y_score: Any,
    *,
    fn_cost: float,
    fp_cost: float,
    amounts: Any = None,
) -> CostResult:
    """The threshold minimising ``fn_cost * missed fraud + fp_cost * false alarms``.

    With ``amounts`` (e.g. the ``Amount`` column), a missed fraud of row i costs
    ``fn_cost * amounts[i]`` (``fn_cost=1.0``: the transaction amount is lost); otherwise each
    missed fraud costs ``fn_cost``. Each false alarm costs ``fp_cost``. Candidate thresholds are
    the distinct scores plus +inf (flag nothing); ties pick the highest threshold.
    Raises ValidationError for negative costs, negative/NaN amounts or degenerate labels/scores.
    """
    y = as_labels(y_true)
    score = as_scores(y_score, y.size)
    for name, value in (("fn_cost", fn_cost), ("fp_cost", fp_cost)):
        if not _is_real(value) or not np.isfinite(value) or value < 0:
            raise ValidationError(f"{name} must be a finite number >= 0, got {value!r}", field=name)
    if amounts is None:
        miss = np.full(y.size, float(fn_cost))
    else:
        amt = as_scores(amounts, y.size, field="amounts")
        if (amt < 0).any():
            raise ValidationError("amounts must be >= 0", field="amounts")
        miss = float(fn_cost) * amt
    order = np.argsort(-score, kind="stable")
    s_desc = score[order]
    y_desc = y[order].astype(np.float64)
    miss_desc = miss[order] * y_desc
    # Threshold t flags rows with score >= t; candidate t = each distinct score (desc) then +inf.
    last = np.r_[np.flatnonzero(s_desc[1:] != s_desc[:-1]), s_desc.size - 1]
    fp_cum = np.cumsum(1.0 - y_desc)[last]
    caught = np.cumsum(miss_desc)[last]
    total_miss = float(miss_desc.sum())
    thresholds = np.r_[np.inf, s_desc[last]]
    costs = np.r_[total_miss, (total_miss - caught) + float(fp_cost) * fp_cum]
    best = int(np.argmin(costs))  # first minimum = highest threshold among ties
    flagged = score >= thresholds[best]
    return CostResult(
        threshold=float(thresholds[best]),
        total_cost=float(costs[best]),
        expected_cost=float(costs[best] / y.size),
        false_negatives=int(np.sum(~flagged & (y == 1))),
        false_positives=int(np.sum(flagged & (y == 0))),
        thresholds=thresholds,
        costs=costs,
    )


def confusion_counts(y_true: Any, y_pred: Any) -> NDArray[np.int64]:
    """2x2 confusion matrix ``[[tn, fp], [fn, tp]]`` (rows: true class, columns: predicted)."""
    y = as_labels(y_true)
    pred = as_predictions(y_pred, y.size)
    truth = y == 1
    return np.array(
        [
            [int(np.sum(~truth & ~pred)), int(np.sum(~truth & pred))],
            [int(np.sum(truth & ~pred)), int(np.sum(truth & pred))],
        ],
        dtype=np.int64,
    )
