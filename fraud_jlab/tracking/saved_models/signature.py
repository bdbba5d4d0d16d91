"""``ModelSignature``: what a saved model expects as input.

The feature names in training order, their dtypes and the feature-engineering
version the columns were built with. :func:`infer_signature` reads them from
the training matrix; :meth:`ModelSignature.check` refuses a frame whose columns
differ, so a model is never scored on columns in another order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fraud_jlab.errors import ValidationError
from fraud_jlab.features.engineer import FEATURE_ENGINEERING_VERSION


@dataclass(frozen=True)
class ModelSignature:
    """Input contract of a saved model."""

    feature_names: tuple[str, ...]
    dtypes: tuple[str, ...]
    feature_version: str = FEATURE_ENGINEERING_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_names": list(self.feature_names),
            "dtypes": list(self.dtypes),
            "feature_version": self.feature_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        return cls(
            feature_names=tuple(str(n) for n in data["feature_names"]),
            dtypes=tuple(str(d) for d in data["dtypes"]),
            feature_version=str(data.get("feature_version", FEATURE_ENGINEERING_VERSION)),
        )

    def check(self, X: Any) -> np.ndarray[Any, Any]:  # noqa: N803 - scikit-learn's name
        """``X`` as a float matrix in the signature's column order; ValidationError if it differs."""
        if isinstance(X, pd.DataFrame):
            names = [str(c) for c in X.columns]
            if names != list(self.feature_names):
                missing = [n for n in self.feature_names if n not in names]
                extra = [n for n in names if n not in self.feature_names]
                raise ValidationError(
                    f"X columns differ from the model's signature (missing {missing}, "
                    f"unexpected {extra}; the order must be the training order)",
                    field="X",
                )
            return X.to_numpy(dtype=np.float64)
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.feature_names):
            raise ValidationError(
                f"X must be 2-D with {len(self.feature_names)} columns "
                f"({', '.join(self.feature_names[:5])}...), got shape {arr.shape}",
                field="X",
            )
        return arr


def infer_signature(
    X: Any,  # noqa: N803 - scikit-learn's name
    *,
    feature_names: Sequence[str] | None = None,
    feature_version: str | None = None,
) -> ModelSignature:
    """The signature of training matrix ``X`` (a DataFrame, or an array with ``feature_names``)."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        dtypes = [str(X[c].dtype) for c in X.columns]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValidationError(f"X must be 2-D, got shape {arr.shape}", field="X")
        names = (
            [str(n) for n in feature_names]
            if feature_names is not None
            else [f"x{i}" for i in range(arr.shape[1])]
        )
        if len(names) != arr.shape[1]:
            raise ValidationError(
                f"feature_names has {len(names)} names for {arr.shape[1]} columns",
                field="feature_names",
            )
        dtypes = [str(arr.dtype)] * arr.shape[1]
    if feature_names is not None and isinstance(X, pd.DataFrame) and list(feature_names) != names:
        raise ValidationError(
            "feature_names must equal the DataFrame's columns", field="feature_names"
        )
    if len(set(names)) != len(names):
        raise ValidationError("feature names must be unique", field="feature_names")
    version = FEATURE_ENGINEERING_VERSION if feature_version is None else feature_version
    if not isinstance(version, str) or not version.strip():
        raise ValidationError("feature_version must be a non-empty string", field="feature_version")
    return ModelSignature(tuple(names), tuple(dtypes), version.strip())
