"""``FeatureEngineer`` (seed section 5): new time, amount and interaction features.

Every method returns a new DataFrame; the caller's frame is never modified.

Example::

    fe = FeatureEngineer()
    df2 = fe.create_interaction_features(fe.create_amount_features(fe.create_time_features(df)),
                                         [("V1", "V2"), ("V3", "V4")])
    selected, scores = fe.select_features_univariate(X_train, y_train, k=25)
"""

# ruff: noqa: N803 - X / X_train follow the scikit-learn naming the seed uses

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fraud_jlab.errors import ValidationError
from fraud_jlab.features import selection

#: Hours counted as night: 22:00-23:59 and 00:00-05:59.
NIGHT_HOURS: frozenset[int] = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
#: Version of the features ``FeatureEngineer`` produces; saved in every model signature.
#: Bump it whenever a method here changes what it computes, so a model is never served
#: features built differently from the ones it was trained on.
FEATURE_ENGINEERING_VERSION = "1"


def _require_frame(df: Any, columns: Iterable[str], field: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(
            f"{field} must be a pandas DataFrame, got {type(df).__name__}", field=field
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(f"{field} has no column(s) {missing}", field=field)
    return df


def _numeric(df: pd.DataFrame, column: str) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
        raise ValidationError(
            f"column {column!r} must be numeric, got {df[column].dtype}", field=column
        )
    return df[column]


class FeatureEngineer:
    """Utilities for feature engineering experiments (seeded, never mutating their input)."""

    def __init__(self, random_state: int = 0, n_jobs: int = -1) -> None:
        self.random_state = random_state
        self.n_jobs = n_jobs

    def create_time_features(self, df: pd.DataFrame, *, origin: str = "1970-01-01") -> pd.DataFrame:
        """Add hour, day_of_week, is_weekend, is_night from ``Time`` (seconds since ``origin``).

        ``is_night`` is 1 for hours 22-23 and 0-5. Raises ValidationError when ``Time`` is
        missing, not numeric or has missing/negative values.
        """
        frame = _require_frame(df, ["Time"])
        seconds = _numeric(frame, "Time")
        if seconds.isna().any() or (seconds < 0).any():
            raise ValidationError(
                "column 'Time' must be seconds >= 0 with no missing values", field="Time"
            )
        stamps = pd.to_datetime(seconds, unit="s", origin=pd.Timestamp(origin))
        out = frame.copy()
        out["hour"] = stamps.dt.hour.astype(np.int64)
        out["day_of_week"] = stamps.dt.day_of_week.astype(np.int64)
        out["is_weekend"] = out["day_of_week"].isin([5, 6]).astype(np.int64)
        out["is_night"] = out["hour"].isin(sorted(NIGHT_HOURS)).astype(np.int64)
        return out

    def create_amount_features(self, df: pd.DataFrame) -> pd.DataFrame:
        """Add amount_log (log1p), amount_squared, amount_sqrt; ValidationError for negative/missing Amount."""
        frame = _require_frame(df, ["Amount"])
        amount = _numeric(frame, "Amount").astype(np.float64)
        if amount.isna().any() or (amount < 0).any():
            raise ValidationError(
                "column 'Amount' must be >= 0 with no missing values", field="Amount"
            )
        out = frame.copy()
        out["amount_log"] = np.log1p(amount)
        out["amount_squared"] = amount**2
        out["amount_sqrt"] = np.sqrt(amount)
        return out

    def create_interaction_features(
        self, df: pd.DataFrame, feature_pairs: Sequence[tuple[str, str]]
    ) -> pd.DataFrame:
        """Add ``<a>_x_<b>`` = a * b for each pair; ValidationError for unknown or non-numeric columns."""
        pairs = list(feature_pairs)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValidationError(
                    f"feature_pairs must be (column, column) pairs, got {pair!r}",
                    field="feature_pairs",
                )
        frame = _require_frame(df, sorted({c for pair in pairs for c in pair}))
        out = frame.copy()
        for a, b in pairs:
            out[f"{a}_x_{b}"] = _numeric(frame, a) * _numeric(frame, b)
        return out

    def select_features_univariate(
        self, X: pd.DataFrame, y: Any, k: int = 20
    ) -> tuple[list[str], pd.DataFrame]:
        """Top ``k`` features by ANOVA F-score, fitted on the (training) data given.

        Returns (selected feature names, DataFrame of feature/score sorted by score). ``k`` larger
        than the number of features selects them all (with a FeatureSelectionWarning); ``k < 1``
        raises ValidationError.
        """
        return selection.univariate(X, y, k)

    def select_features_rfe(
        self, X: pd.DataFrame, y: Any, n_features: int = 20, *, step: float = 0.1
    ) -> tuple[list[str], pd.DataFrame]:
        """Recursive feature elimination with a seeded extra-trees estimator.

        Returns (selected names, DataFrame of feature/ranking, 1 = selected).
        """
        return selection.rfe(
            X, y, n_features, step=step, random_state=self.random_state, n_jobs=self.n_jobs
        )

    def analyze_feature_importance(
        self, X: pd.DataFrame, y: Any, *, n_estimators: int = 100
    ) -> pd.DataFrame:
        """Random-forest impurity importances (seeded, class-balanced), sorted descending."""
        return selection.importance(
            X, y, n_estimators=n_estimators, random_state=self.random_state, n_jobs=self.n_jobs
        )
