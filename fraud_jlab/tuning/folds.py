"""Input checks, the objective metric and the per-fold XGBoost matrices shared by all trials.

Each fold's ``QuantileDMatrix`` pair is built once per search and reused by
every trial: sketching the quantiles is the costly part of a fit on a large
dataset and does not depend on the hyperparameters.

Early stopping never looks at the rows a trial is scored on: each fold's
training rows are split once more (seeded, stratified,
:data:`EARLY_STOPPING_FRACTION` held out), the booster fits on the rest and
stops on the held-out part, and the chosen round is scored on the fold's
validation rows. Those inner matrices are built lazily, only when a search
uses early stopping (:func:`early_stopping_split`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from fraud_jlab.errors import ValidationError

#: Share of each fold's training rows held out to decide when to stop (early stopping only).
EARLY_STOPPING_FRACTION = 0.15

#: Objective metric name -> (scorer on (y_true, probability), XGBoost eval_metric name).
SCORERS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], float], str]] = {
    "average_precision": (average_precision_score, "aucpr"),
    "roc_auc": (roc_auc_score, "auc"),
}


CLASS_WEIGHTS: tuple[str | None, ...] = ("balanced", None)


def check_class_weight(value: object) -> str | None:
    """``"balanced"`` or None; ValidationError otherwise."""
    if value not in CLASS_WEIGHTS:
        raise ValidationError(
            f"class_weight must be 'balanced' or None, got {value!r}", field="class_weight"
        )
    return value


def balanced_scale_pos_weight(y: np.ndarray) -> float:
    """Negatives / positives: XGBoost's ``scale_pos_weight`` that balances the classes."""
    pos = int((np.asarray(y) == 1).sum())
    return float((np.asarray(y).size - pos) / pos)


def check_scoring(scoring: object) -> str:
    """Return ``scoring`` if it is a supported objective metric, else raise ValidationError."""
    if not isinstance(scoring, str) or scoring not in SCORERS:
        raise ValidationError(
            f"scoring {scoring!r} is not supported; allowed values: {', '.join(SCORERS)}",
            field="scoring",
        )
    return scoring


def score(scoring: str, y_true: np.ndarray, proba: np.ndarray) -> float:
    """The objective metric exactly as scikit-learn's scorer of the same name computes it."""
    return float(SCORERS[scoring][0](y_true, proba))


def check_positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValidationError(f"{name} must be an integer >= {minimum}, got {value!r}", field=name)
    return int(value)


def check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {value!r}", field="seed")
    return int(value)


def check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:  # noqa: N803
    """Validate features and binary labels; return ``(X, y, feature_names)``.

    Raises ValidationError for a non-2-D or empty ``X``, a length mismatch, or
    labels other than two classes 0/1.
    """
    feature_names: list[str] | None = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        feature_names = [str(c) for c in X.columns]
        x_arr = X.to_numpy()
    else:
        x_arr = np.asarray(X)
    if x_arr.ndim != 2 or x_arr.shape[0] == 0 or x_arr.shape[1] == 0:
        raise ValidationError(
            f"X must be a non-empty 2-D table (rows x features), got shape {x_arr.shape}", field="X"
        )
    if not np.issubdtype(x_arr.dtype, np.number) and x_arr.dtype != np.bool_:
        raise ValidationError(f"X must be numeric, got dtype {x_arr.dtype}", field="X")
    y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if y_arr.ndim != 1:
        raise ValidationError(f"y must be 1-D, got shape {y_arr.shape}", field="y")
    if len(y_arr) != x_arr.shape[0]:
        raise ValidationError(
            f"X has {x_arr.shape[0]} rows but y has {len(y_arr)} labels; they must match",
            field="y",
        )
    classes = np.unique(y_arr)
    if len(classes) != 2 or not set(classes.tolist()) <= {0, 1}:
        shown = ", ".join(repr(c) for c in classes[:5].tolist())
        raise ValidationError(
            f"y must be binary with both classes 0 and 1 present; found classes {shown}",
            field="y",
        )
    return x_arr, y_arr.astype(np.int64), feature_names


def make_folds(y: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded stratified K-fold (shuffled); ValidationError if a class has fewer rows than folds."""
    n_splits = check_positive_int(n_splits, "n_splits", minimum=2)
    minority = int(np.bincount(y).min())
    if minority < n_splits:
        raise ValidationError(
            f"n_splits={n_splits} needs at least {n_splits} rows of each class; "
            f"the rarest class has {minority}",
            field="n_splits",
        )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)), y)]


def check_folds(cv: Any, n_rows: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Explicit ``(train_idx, valid_idx)`` pairs (e.g. to reproduce another tool's folds)."""
    folds: list[tuple[np.ndarray, np.ndarray]] = []
    for i, pair in enumerate(cv):
        try:
            tr, va = (np.asarray(p, dtype=np.int64) for p in pair)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"cv[{i}] must be a (train, valid) index pair", field="cv"
            ) from exc
        if (
            len(tr) == 0
            or len(va) == 0
            or max(tr.max(), va.max()) >= n_rows
            or min(tr.min(), va.min()) < 0
        ):
            raise ValidationError(
                f"cv[{i}] must hold non-empty row indices in [0, {n_rows})", field="cv"
            )
        folds.append((tr, va))
    if len(folds) < 2:
        raise ValidationError("cv must hold at least 2 folds", field="cv")
    return folds


@dataclass
class Fold:
    """One fold: the training matrix, the validation matrix (same quantile cuts) and its labels."""

    index: int
    dtrain: xgb.QuantileDMatrix
    dvalid: xgb.QuantileDMatrix
    y_valid: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EarlyStoppingSplit:
    """A fold's training rows split for early stopping, and the fold's validation rows to score.

    ``dfit`` holds the rows the booster trains on, ``dstop`` the held-out training rows
    it stops on, ``dscore`` the fold's validation rows (quantised with ``dfit``'s cuts);
    ``fit_rows`` / ``stop_rows`` are row indices into the full ``X``.
    """

    dfit: xgb.QuantileDMatrix
    dstop: xgb.QuantileDMatrix
    dscore: xgb.QuantileDMatrix
    fit_rows: np.ndarray
    stop_rows: np.ndarray
    valid_rows: np.ndarray


def early_stopping_split(
    fold: Fold, seed: int, fraction: float = EARLY_STOPPING_FRACTION
) -> EarlyStoppingSplit:
    """The fold's inner early-stopping split, built on first use and cached per ``(seed, fraction)``.

    Needs the fold's source rows (``build_folds`` records them); ValidationError if
    the training rows are too few to hold out both classes.
    """
    key = f"early_stopping:{seed}:{fraction}"
    cached = fold.extra.get(key)
    if isinstance(cached, EarlyStoppingSplit):
        return cached
    source = fold.extra.get("source")
    if source is None:
        raise ValueError("this fold was built without its source rows; use build_folds")
    X, y, tr, va, n_jobs, names = source  # noqa: N806 - scikit-learn's name
    y_tr = y[tr]
    if int(np.bincount(y_tr, minlength=2).min()) < 2:
        raise ValidationError(
            f"fold {fold.index} has too few rows of a class in its training rows to hold out "
            "an early-stopping set (needs at least 2 of each class)",
            field="early_stopping_rounds",
        )
    fit_rows, stop_rows = train_test_split(
        tr, test_size=fraction, stratify=y_tr, random_state=seed, shuffle=True
    )
    fit_rows, stop_rows = np.sort(fit_rows), np.sort(stop_rows)
    dfit = xgb.QuantileDMatrix(X[fit_rows], y[fit_rows], nthread=n_jobs, feature_names=names)
    dstop = xgb.QuantileDMatrix(
        X[stop_rows], y[stop_rows], ref=dfit, nthread=n_jobs, feature_names=names
    )
    dscore = xgb.QuantileDMatrix(X[va], y[va], ref=dfit, nthread=n_jobs, feature_names=names)
    split = EarlyStoppingSplit(dfit, dstop, dscore, fit_rows, stop_rows, np.asarray(va))
    fold.extra[key] = split
    return split


def build_folds(
    X: np.ndarray,  # noqa: N803 - scikit-learn's name for the feature matrix
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    n_jobs: int | None,
    feature_names: list[str] | None,
    class_weight: str | None = None,
) -> list[Fold]:
    """Build each fold's matrices once; the validation matrix reuses the training cuts (``ref=``).

    With ``class_weight="balanced"`` each fold records ``scale_pos_weight`` = negatives /
    positives of its training rows, the weighting ``compare_algorithms`` gives XGBoost.
    """
    out: list[Fold] = []
    for i, (tr, va) in enumerate(folds):
        y_tr, y_va = y[tr], y[va]
        if len(np.unique(y_tr)) < 2 or len(np.unique(y_va)) < 2:
            raise ValidationError(
                f"fold {i} lacks one of the classes in its training or validation rows", field="cv"
            )
        dtrain = xgb.QuantileDMatrix(X[tr], y_tr, nthread=n_jobs, feature_names=feature_names)
        dvalid = xgb.QuantileDMatrix(
            X[va], y_va, ref=dtrain, nthread=n_jobs, feature_names=feature_names
        )
        fold = Fold(i, dtrain, dvalid, y_va)
        if class_weight == "balanced":
            fold.extra["scale_pos_weight"] = balanced_scale_pos_weight(y_tr)
        # kept for the lazily built early-stopping split (references, no copies)
        fold.extra["source"] = (X, y, tr, va, n_jobs, feature_names)
        out.append(fold)
    return out
