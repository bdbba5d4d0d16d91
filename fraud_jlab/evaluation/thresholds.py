"""Decision thresholds chosen on validation rows and reported on other rows (out-of-sample).

A threshold tuned on the rows it is scored on flatters itself: the recall-at-FPR threshold
then meets its FPR target by construction, and the cost-optimal threshold's cost is the
minimum of a noisy curve. :func:`select_threshold` fits the threshold on a validation part
and reports recall, FPR, precision and cost on the remaining test part.

Without a validation set of its own, the evaluator splits the holdout it was given:
:func:`validation_split` (stratified and seeded, or out-of-time: the earliest rows by
``Time`` choose the threshold, the later ones report it). :func:`out_of_time_split` is the
same idea for train/test: train on earlier ``Time``, test on later, because fraud drifts.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import (
    as_labels,
    as_scores,
    cost_optimal_threshold,
    threshold_at_fpr,
)

ThresholdRule = Literal["recall_at_fpr", "cost"]
SplitKind = Literal["stratified", "time"]
IntArray = NDArray[np.int64]
#: The rule the production config falls back to when a run records none.
DEFAULT_RULE = "default 0.5 (not tuned)"


def _check_fraction(fraction: float, field: str) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise ValidationError(f"{field} must be a number in (0, 1)", field=field)
    if not 0 < fraction < 1:
        raise ValidationError(f"{field} must be in (0, 1), got {fraction!r}", field=field)
    return float(fraction)


def validation_split(
    y_true: Any,
    *,
    fraction: float = 0.3,
    random_state: int = 0,
    time: Any = None,
) -> tuple[IntArray, IntArray]:
    """(validation rows, test rows) as positions, each part holding frauds.

    Stratified and seeded (``fraction`` of the frauds and of the legitimate rows, at least
    one fraud each side), or with ``time`` the earliest ``fraction`` of rows by time.
    Raises ValidationError when a part would hold no fraud.
    """
    y = as_labels(y_true)
    frac = _check_fraction(fraction, "validation_fraction")
    if time is not None:
        t = as_scores(time, y.size, field="time_column")
        order = np.argsort(t, kind="stable")
        cut = round(frac * y.size)
        val, test = np.sort(order[:cut]), np.sort(order[cut:])
    else:
        rng = np.random.default_rng(random_state)
        val_parts, test_parts = [], []
        for label in (1, 0):
            rows = np.flatnonzero(y == label)
            rows = rows[rng.permutation(rows.size)]
            k = round(frac * rows.size)
            if label == 1 and rows.size >= 2:
                k = min(max(k, 1), rows.size - 1)
            val_parts.append(rows[:k])
            test_parts.append(rows[k:])
        val, test = np.sort(np.concatenate(val_parts)), np.sort(np.concatenate(test_parts))
    for name, part in (("validation", val), ("test", test)):
        if not y[part].any() or y[part].all():
            raise ValidationError(
                f"the {name} part of the holdout has no "
                f"{'fraud' if not y[part].any() else 'legitimate'} rows; "
                "use a larger holdout or pass X_val/y_val",
                field="validation_fraction",
            )
    return val.astype(np.int64), test.astype(np.int64)


def out_of_time_split(
    frame: Any, *, time_column: str = "Time", test_fraction: float = 0.2
) -> tuple[Any, Any]:
    """(train, test) of a DataFrame: the earliest rows by ``time_column`` train, the latest
    ``test_fraction`` test. Raises ValidationError for a missing column or bad fraction."""
    frac = _check_fraction(test_fraction, "test_fraction")
    if not hasattr(frame, "columns") or time_column not in frame.columns:
        raise ValidationError(
            f"the data has no {time_column!r} column for an out-of-time split",
            field="time_column",
        )
    ordered = frame.sort_values(time_column, kind="stable")
    cut = round((1 - frac) * len(ordered))
    return ordered.iloc[:cut], ordered.iloc[cut:]


def rows_digest(positions: Any, identity: str | None = None) -> str:
    """Hex sha256 naming which rows (positions in the holdout ``identity``) chose a threshold."""
    digest = hashlib.sha256(b"fraud_jlab.threshold_rows.v1")
    digest.update((identity or "").encode())
    digest.update(np.ascontiguousarray(np.asarray(positions, dtype=np.int64)).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ThresholdSelection:
    """A threshold fitted on validation rows and its out-of-sample numbers on test rows."""

    threshold: float
    rule: str  # e.g. "recall_at_fpr 0.001 on validation split 3f2a... (..)"
    rows: str  # rows_digest of the validation rows
    n_validation: int
    n_test: int
    n_test_pos: int
    test_recall: float
    test_fpr: float
    test_precision: float
    test_cost: float  # fn_cost x missed fraud (x amount) + fp_cost x false alarms, test rows
    validation_cost: float  # the same on the validation rows (where it was minimised)

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def select_threshold(
    y_val: Any,
    s_val: Any,
    y_test: Any,
    s_test: Any,
    *,
    rule: ThresholdRule = "recall_at_fpr",
    target_fpr: float = 0.001,
    fn_cost: float = 10.0,
    fp_cost: float = 1.0,
    amounts_val: Any = None,
    amounts_test: Any = None,
    where: str = "validation rows",
    rows: str = "",
) -> ThresholdSelection:
    """Fit the threshold on the validation rows by ``rule``, report it on the test rows."""
    yv, yt = as_labels(y_val, field="y_val"), as_labels(y_test, field="y_test")
    sv = as_scores(s_val, yv.size, field="validation scores")
    st = as_scores(s_test, yt.size, field="test scores")
    cost_val = cost_optimal_threshold(yv, sv, fn_cost=fn_cost, fp_cost=fp_cost, amounts=amounts_val)
    if rule == "recall_at_fpr":
        thr = threshold_at_fpr(yv, sv, target_fpr)
        text = f"recall_at_fpr {target_fpr:g} on {where}"
    elif rule == "cost":
        thr = cost_val.threshold
        text = f"cost-optimal (fn {fn_cost:g}, fp {fp_cost:g}) on {where}"
    else:
        raise ValidationError(
            f"threshold_rule must be 'recall_at_fpr' or 'cost', got {rule!r}",
            field="threshold_rule",
        )
    flagged = st >= thr
    pos, neg = yt == 1, yt == 0
    tp = int(np.sum(flagged & pos))
    fp = int(np.sum(flagged & neg))
    miss = (
        float(fn_cost) * as_scores(amounts_test, yt.size, field="amounts")
        if amounts_test is not None
        else np.full(yt.size, float(fn_cost))
    )
    test_cost = float(np.sum(miss[~flagged & pos]) + float(fp_cost) * fp)
    flagged_val = sv >= thr
    miss_val = (
        float(fn_cost) * as_scores(amounts_val, yv.size, field="amounts")
        if amounts_val is not None
        else np.full(yv.size, float(fn_cost))
    )
    val_cost = float(
        np.sum(miss_val[~flagged_val & (yv == 1)])
        + float(fp_cost) * np.sum(flagged_val & (yv == 0))
    )
    return ThresholdSelection(
        threshold=float(thr),
        rule=text,
        rows=rows,
        n_validation=int(yv.size),
        n_test=int(yt.size),
        n_test_pos=int(pos.sum()),
        test_recall=tp / max(int(pos.sum()), 1),
        test_fpr=fp / max(int(neg.sum()), 1),
        test_precision=tp / (tp + fp) if tp + fp else 0.0,
        test_cost=test_cost,
        validation_cost=val_cost,
    )


__all__ = [
    "DEFAULT_RULE",
    "ThresholdSelection",
    "out_of_time_split",
    "rows_digest",
    "select_threshold",
    "validation_split",
]
