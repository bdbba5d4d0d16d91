"""Serialisation of fitted models in each library's own format.

* XGBoost (``XGBClassifier`` or ``Booster``): the booster's native JSON, which the
  SageMaker XGBoost container and any XGBoost >= 1.0 load.
* LightGBM (``LGBMClassifier`` or ``Booster``): LightGBM's native text model.
* scikit-learn (RandomForest, a Pipeline ending in an MLP, any estimator with
  ``predict_proba``): joblib (skops is not a dependency). A joblib file is a pickle:
  it only loads under the scikit-learn and Python versions that wrote it, so the
  versions are recorded and :func:`deserialise` refuses a mismatch with a message
  naming both (a silently different model is worse than no model).

Every flavor is loaded back as the library's own object wrapped in
:class:`fraud_jlab.tracking.saved_models.store.LoadedModel`, whose ``predict_proba`` gives
exactly the probabilities of the saved model.
"""

from __future__ import annotations

import io
import platform
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from fraud_jlab.errors import ValidationError

Flavor = Literal["xgboost", "lightgbm", "sklearn"]
#: File name of each flavor's model inside the run's ``model/`` artifact folder.
MODEL_FILES: dict[str, str] = {
    "xgboost": "xgboost-model.json",
    "lightgbm": "model.txt",
    "sklearn": "model.joblib",
}


class ModelVersionMismatch(ValidationError):
    """A pickled model was written by another scikit-learn or Python version."""


@dataclass
class Serialised:
    """A model's bytes and what is needed to read them back."""

    flavor: Flavor
    file_name: str
    data: bytes
    algorithm: str
    estimator_class: str
    library_version: str
    extra: dict[str, Any]


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def algorithm_of(model: Any) -> str:
    """``xgboost``, ``lightgbm``, ``random_forest``, ``mlp`` or the estimator's class name."""
    module = type(model).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    final = model
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        final = steps[-1][1]
    name = type(final).__name__
    if name in ("RandomForestClassifier",):
        return "random_forest"
    if name in ("MLPClassifier",):
        return "mlp"
    return name


def runtime_versions() -> dict[str, str]:
    """The versions a joblib pickle depends on."""
    import joblib  # type: ignore[import-untyped]
    import sklearn

    return {
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }


def _python_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def serialise(model: Any) -> Serialised:
    """The native bytes of a fitted model; ValidationError for an unfitted or unknown one."""
    module = type(model).__module__
    if module.startswith("xgboost"):
        import xgboost as xgb

        booster = model if isinstance(model, xgb.Booster) else _fitted(model, "get_booster")
        extra: dict[str, Any] = {}
        best = (
            getattr(model, "best_iteration", None) if not isinstance(model, xgb.Booster) else None
        )
        if isinstance(best, int):
            extra["iteration_range"] = [0, best + 1]
        return Serialised(
            "xgboost",
            MODEL_FILES["xgboost"],
            bytes(booster.save_raw("json")),
            "xgboost",
            _class_path(model),
            xgb.__version__,
            extra,
        )
    if module.startswith("lightgbm"):
        import lightgbm as lgb

        booster = model if isinstance(model, lgb.Booster) else _fitted(model, "booster_")
        return Serialised(
            "lightgbm",
            MODEL_FILES["lightgbm"],
            booster.model_to_string().encode(),
            "lightgbm",
            _class_path(model),
            lgb.__version__,
            {},
        )
    if not callable(getattr(model, "predict_proba", None)):
        raise ValidationError(
            f"model must be an XGBoost or LightGBM model or a scikit-learn estimator with "
            f"predict_proba, got {type(model).__name__}",
            field="model",
        )
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ValidationError(f"model is not fitted: {exc}", field="model") from exc
    except TypeError:
        pass  # not a scikit-learn estimator; predict_proba is all we rely on
    versions = runtime_versions()
    buffer = io.BytesIO()
    import joblib

    joblib.dump(model, buffer)
    return Serialised(
        "sklearn",
        MODEL_FILES["sklearn"],
        buffer.getvalue(),
        algorithm_of(model),
        _class_path(model),
        versions["sklearn"],
        {"format": "joblib", "versions": versions},
    )


def _fitted(model: Any, attribute: str) -> Any:
    try:
        return (
            getattr(model, attribute)() if attribute == "get_booster" else getattr(model, attribute)
        )
    except Exception as exc:  # XGBoost NotFittedError / LightGBM LGBMNotFittedError
        raise ValidationError(f"model is not fitted: {exc}", field="model") from exc


def check_versions(recorded: dict[str, str], *, where: str) -> None:
    """Raise :class:`ModelVersionMismatch` unless scikit-learn and Python (major.minor) match."""
    now = runtime_versions()
    problems = []
    if recorded.get("sklearn") != now["sklearn"]:
        problems.append(f"scikit-learn {recorded.get('sklearn')} (installed: {now['sklearn']})")
    if _python_minor(str(recorded.get("python", ""))) != _python_minor(now["python"]):
        problems.append(f"Python {recorded.get('python')} (running: {now['python']})")
    if problems:
        raise ModelVersionMismatch(
            f"{where} was pickled with {' and '.join(problems)}; a pickle only loads "
            "reliably under the versions that wrote it. Install the recorded versions "
            "or refit and log the model again.",
            field="model",
        )


def deserialise(flavor: str, data: bytes, extra: dict[str, Any], *, where: str) -> Any:
    """The library object saved by :func:`serialise` (a Booster, or the estimator)."""
    if flavor == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        return booster
    if flavor == "lightgbm":
        import lightgbm as lgb

        return lgb.Booster(model_str=data.decode())
    if flavor == "sklearn":
        fmt = extra.get("format")
        if fmt != "joblib":
            raise ValidationError(f"{where} has unknown format {fmt!r}", field="model")
        check_versions(dict(extra.get("versions") or {}), where=where)
        import joblib

        return joblib.load(io.BytesIO(data))
    raise ValidationError(f"{where} has unknown flavor {flavor!r}", field="model")


def class_probabilities(
    flavor: str,
    native: Any,
    X: np.ndarray[Any, Any],  # noqa: N803 - scikit-learn's name
    extra: dict[str, Any],
    feature_names: list[str],
) -> np.ndarray[Any, Any]:
    """``(n, 2)`` class probabilities, computed as each library's own ``predict_proba`` does."""
    if flavor == "xgboost":
        import xgboost as xgb

        rng = extra.get("iteration_range")
        matrix = xgb.DMatrix(X, feature_names=feature_names if native.feature_names else None)
        kwargs = {"iteration_range": tuple(rng)} if rng else {}
        return _two_columns(np.asarray(native.predict(matrix, **kwargs)))
    if flavor == "lightgbm":
        return _two_columns(np.asarray(native.predict(X)))
    if getattr(native, "feature_names_in_", None) is not None:
        import pandas as pd

        # fitted on a DataFrame: scikit-learn checks the names (and warns without them)
        return np.asarray(native.predict_proba(pd.DataFrame(X, columns=feature_names)))
    return np.asarray(native.predict_proba(X))


def _two_columns(score: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    # as XGBClassifier / LGBMClassifier.predict_proba stack them
    return np.vstack((1 - score, score)).transpose()
