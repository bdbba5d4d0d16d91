"""The out-of-sample decision threshold of an evaluation: chosen on validation rows.

Either on the caller's validation set (``X_val``/``y_val``) or on a split of the holdout
(stratified, or the earliest rows by a time column), reported on the rows that did not choose it.
"""

# ruff: noqa: N803 - X_test follows the scikit-learn naming the seed uses

from __future__ import annotations

from typing import Any

import numpy as np

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.holdout import holdout_identity
from fraud_jlab.evaluation.metrics import as_labels, as_scores
from fraud_jlab.evaluation.thresholds import (
    SplitKind,
    ThresholdRule,
    ThresholdSelection,
    rows_digest,
    select_threshold,
    validation_split,
)


def column_amounts(X: Any, amount_column: str | None, name: str) -> np.ndarray[Any, Any] | None:
    """The transaction amounts of ``X`` (its ``amount_column``), or None without one."""
    if amount_column is None:
        return None
    if not hasattr(X, "columns") or amount_column not in X.columns:
        raise ValidationError(
            f"{name} has no column {amount_column!r} (amount_column)",
            field="amount_column",
        )
    return np.asarray(X[amount_column], dtype=np.float64)


def choose_threshold(
    model: Any,
    y: np.ndarray[Any, Any],
    score: np.ndarray[Any, Any],
    amounts: np.ndarray[Any, Any] | None,
    X_test: Any,
    identity: str,
    *,
    X_val: Any,
    y_val: Any,
    rule: ThresholdRule,
    fraction: float,
    split: SplitKind,
    time_column: str,
    target_fpr: float,
    fn_cost: float,
    fp_cost: float,
    random_state: int,
    amount_column: str | None,
) -> tuple[ThresholdSelection | None, np.ndarray[Any, Any] | None, str]:
    """The out-of-sample threshold, the holdout rows that chose it (None: X_val did), and why
    no validation rows could be split off ("" when they could; the selection is then None)."""
    common = {
        "rule": rule,
        "target_fpr": target_fpr,
        "fn_cost": fn_cost,
        "fp_cost": fp_cost,
    }
    if X_val is not None or y_val is not None:
        if X_val is None or y_val is None:
            raise ValidationError("pass X_val and y_val together", field="y_val")
        yv = as_labels(y_val, field="y_val")
        sv = as_scores(np.asarray(model.predict_proba(X_val))[:, 1], yv.size, field="X_val")
        rows = holdout_identity(X_val, yv)
        where = f"the given validation set {rows[:12]} ({yv.size} rows, {int(yv.sum())} frauds)"
        selection = select_threshold(
            yv,
            sv,
            y,
            score,
            amounts_val=column_amounts(X_val, amount_column, "X_val"),
            amounts_test=amounts,
            where=where,
            rows=rows,
            **common,  # type: ignore[arg-type]
        )
        return selection, None, ""
    if split not in ("stratified", "time"):
        raise ValidationError(f"split must be 'stratified' or 'time', got {split!r}", field="split")
    time = None
    if split == "time":
        if not hasattr(X_test, "columns") or time_column not in X_test.columns:
            raise ValidationError(
                f"X_test has no {time_column!r} column for split='time'", field="time_column"
            )
        time = np.asarray(X_test[time_column], dtype=np.float64)
    try:
        val, test = validation_split(
            y, fraction=fraction, random_state=int(random_state), time=time
        )
    except ValidationError as exc:
        if exc.field != "validation_fraction" or not 0 < fraction < 1:
            raise
        return None, None, str(exc)
    rows = rows_digest(val, identity)
    how = (
        f"earliest {fraction:.0%} by {time_column}"
        if split == "time"
        else f"stratified {fraction:.0%}, seed {random_state}"
    )
    where = (
        f"validation split {rows[:12]} ({val.size} holdout rows, {int(y[val].sum())} frauds; "
        f"{how}), reported on the other {test.size} rows"
    )
    selection = select_threshold(
        y[val],
        score[val],
        y[test],
        score[test],
        amounts_val=None if amounts is None else amounts[val],
        amounts_test=None if amounts is None else amounts[test],
        where=where,
        rows=rows,
        **common,  # type: ignore[arg-type]
    )
    return selection, val, ""


__all__ = ["choose_threshold", "column_amounts"]
