"""Feature selection fitted on training data only.

Call these with the TRAINING split; use :class:`FeatureSelector` to apply the columns
chosen on the training split to the test split (``fit(X_train, y_train).transform(X_test)``),
so no information from the test rows leaks into the choice.
"""

# ruff: noqa: N803 - X / X_train follow the scikit-learn naming the seed uses

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.feature_selection import RFE, f_classif

from fraud_jlab.errors import ValidationError

Method = Literal["univariate", "rfe", "importance"]
METHODS: tuple[Method, ...] = ("univariate", "rfe", "importance")


class FeatureSelectionWarning(UserWarning):
    """More features were requested than exist; all of them were selected."""


def validate_xy(X: Any, y: Any) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """X as a numeric, NaN-free DataFrame with at least one column; y as labels of matching length."""
    if not isinstance(X, pd.DataFrame):
        raise ValidationError(f"X must be a pandas DataFrame, got {type(X).__name__}", field="X")
    if X.shape[1] == 0 or X.shape[0] == 0:
        raise ValidationError(
            f"X must have at least one row and one column, got shape {X.shape}", field="X"
        )
    non_numeric = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValidationError(f"X has non-numeric columns {non_numeric}", field="X")
    if X.isna().to_numpy().any():
        raise ValidationError("X contains missing values; impute or drop them first", field="X")
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size != X.shape[0]:
        raise ValidationError(f"y must be 1-D with {X.shape[0]} rows (one per row of X)", field="y")
    if np.unique(labels).size < 2:
        raise ValidationError("y must contain at least two classes", field="y")
    return X, labels.astype(np.int64)


def effective_k(k: Any, n_features: int, field: str = "k") -> int:
    """``k`` capped at the number of features (with a warning); ValidationError for k < 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValidationError(f"{field} must be an integer >= 1, got {k!r}", field=field)
    if k < 1:
        raise ValidationError(f"{field} must be >= 1, got {k}", field=field)
    if k > n_features:
        warnings.warn(
            f"{field}={k} is more than the {n_features} available features; selecting all {n_features}",
            FeatureSelectionWarning,
            stacklevel=3,
        )
        return n_features
    return int(k)


def univariate(X: Any, y: Any, k: int) -> tuple[list[str], pd.DataFrame]:
    frame, labels = validate_xy(X, y)
    k_eff = effective_k(k, frame.shape[1])
    values = frame.to_numpy(dtype=np.float64)
    # Constant columns carry no information; scoring them 0 here keeps f_classif from
    # dividing by a zero within-class variance.
    varying = values.max(axis=0) > values.min(axis=0)
    scores = np.zeros(values.shape[1])
    if varying.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            f_scores, _ = f_classif(values[:, varying], labels)
        scores[varying] = np.nan_to_num(f_scores, nan=0.0, posinf=np.finfo(np.float64).max)
    table = pd.DataFrame({"feature": [str(c) for c in frame.columns], "score": scores})
    table = table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return table["feature"].head(k_eff).tolist(), table


def rfe(
    X: Any, y: Any, n_features: int, *, step: float = 0.1, random_state: int = 0, n_jobs: int = -1
) -> tuple[list[str], pd.DataFrame]:
    frame, labels = validate_xy(X, y)
    n_eff = effective_k(n_features, frame.shape[1], field="n_features")
    if not isinstance(step, (int, float)) or step <= 0 or (isinstance(step, float) and step >= 1):
        raise ValidationError(
            f"step must be a fraction in (0, 1) or an integer >= 1, got {step!r}", field="step"
        )
    # Extra trees: fast, seeded, and class-balanced so the 0.17% fraud class shapes the ranking.
    estimator = ExtraTreesClassifier(
        n_estimators=50,
        max_depth=8,
        class_weight="balanced",
        random_state=random_state,
        n_jobs=n_jobs,
    )
    selector = RFE(estimator, n_features_to_select=n_eff, step=step)
    selector.fit(frame.to_numpy(dtype=np.float64), labels)
    names = [str(c) for c in frame.columns]
    selected = [n for n, keep in zip(names, selector.support_, strict=True) if keep]
    ranking = pd.DataFrame({"feature": names, "ranking": selector.ranking_})
    return selected, ranking.sort_values("ranking", kind="stable").reset_index(drop=True)


def importance(
    X: Any, y: Any, *, n_estimators: int = 100, random_state: int = 0, n_jobs: int = -1
) -> pd.DataFrame:
    frame, labels = validate_xy(X, y)
    if isinstance(n_estimators, bool) or not isinstance(n_estimators, int) or n_estimators < 1:
        raise ValidationError(
            f"n_estimators must be an integer >= 1, got {n_estimators!r}", field="n_estimators"
        )
    forest = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=10,
        class_weight="balanced_subsample",
        random_state=random_state,
        n_jobs=n_jobs,
    )
    forest.fit(frame.to_numpy(dtype=np.float64), labels)
    table = pd.DataFrame(
        {"feature": [str(c) for c in frame.columns], "importance": forest.feature_importances_}
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


class FeatureSelector:
    """Choose columns on the training split, then apply the same columns to any split.

    ``FeatureSelector("univariate", k=25).fit(X_train, y_train).transform(X_test)``.
    """

    def __init__(
        self, method: Method = "univariate", k: int = 20, *, random_state: int = 0, n_jobs: int = -1
    ) -> None:
        if method not in METHODS:
            raise ValidationError(
                f"method must be one of {list(METHODS)}, got {method!r}", field="method"
            )
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValidationError(f"k must be an integer >= 1, got {k!r}", field="k")
        self.method = method
        self.k = int(k)
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.selected_features_: list[str] | None = None
        self.scores_: pd.DataFrame | None = None

    def fit(self, X_train: Any, y_train: Any) -> FeatureSelector:
        """Choose up to ``k`` columns of ``X_train``."""
        if self.method == "univariate":
            selected, scores = univariate(X_train, y_train, self.k)
        elif self.method == "rfe":
            selected, scores = rfe(
                X_train, y_train, self.k, random_state=self.random_state, n_jobs=self.n_jobs
            )
        else:
            scores = importance(
                X_train, y_train, random_state=self.random_state, n_jobs=self.n_jobs
            )
            k_eff = effective_k(self.k, scores.shape[0])
            selected = scores["feature"].head(k_eff).tolist()
        self.selected_features_, self.scores_ = selected, scores
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """``X`` restricted to the columns chosen by :meth:`fit` (in that order)."""
        if self.selected_features_ is None:
            raise ValidationError(
                "FeatureSelector is not fitted; call fit(X_train, y_train) first", field="X"
            )
        if not isinstance(X, pd.DataFrame):
            raise ValidationError(
                f"X must be a pandas DataFrame, got {type(X).__name__}", field="X"
            )
        by_name = {str(c): c for c in X.columns}
        missing = [f for f in self.selected_features_ if f not in by_name]
        if missing:
            raise ValidationError(f"X lacks the selected column(s) {missing}", field="X")
        return X[[by_name[f] for f in self.selected_features_]].copy()

    def fit_transform(self, X_train: Any, y_train: Any) -> pd.DataFrame:
        return self.fit(X_train, y_train).transform(X_train)
