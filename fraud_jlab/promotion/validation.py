"""Validation of production hyperparameters, promotion reasons and the config schema.

The ranges are the design's (section "Error Handling"): every problem is
collected so the user sees all of them at once, each message naming the
parameter, the offending value and the allowed range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraud_jlab.errors import ValidationError
from fraud_jlab.hyperparameters import (
    ALIASES,
    ALLOWED_OBJECTIVES,
    DEFAULT_OBJECTIVE,
    HYPERPARAMETERS,
)
from fraud_jlab.models.production import ProductionConfig

MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class NumericRange:
    """An allowed numeric range; ``low_open`` means the lower bound is excluded."""

    kind: type
    low: float
    high: float
    low_open: bool

    def describe(self) -> str:
        if self.kind is int:
            return f"an integer in [{int(self.low)}, {int(self.high)}]"
        return f"a number in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


#: SageMaker XGBoost name -> allowed range (``objective`` is checked separately).
RANGES: dict[str, NumericRange] = {
    "max_depth": NumericRange(int, 1, 20, low_open=False),
    "eta": NumericRange(float, 0.0, 1.0, low_open=True),
    "num_round": NumericRange(int, 1, 1000, low_open=False),
    "subsample": NumericRange(float, 0.0, 1.0, low_open=True),
    "colsample_bytree": NumericRange(float, 0.0, 1.0, low_open=True),
}
#: The six hyperparameters the production pipeline reads, in Parameter Store order.
REQUIRED_PARAMS: tuple[str, ...] = HYPERPARAMETERS
#: scikit-learn style names logged by runs -> SageMaker XGBoost names.
SKLEARN_ALIASES: dict[str, str] = ALIASES
__all__ = [
    "ALLOWED_OBJECTIVES",
    "DEFAULT_OBJECTIVE",
    "RANGES",
    "REQUIRED_PARAMS",
    "SKLEARN_ALIASES",
]


def _coerce_number(name: str, raw: Any, rng: NumericRange) -> tuple[int | float | None, str | None]:
    """``(value, None)`` when ``raw`` is a valid number for ``rng``, else ``(None, message)``."""
    allowed = f"allowed: {rng.describe()}"
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return None, f"Hyperparameter '{name}' value {raw!r} is not a number ({allowed})"
    try:
        number = float(raw.strip()) if isinstance(raw, str) else float(raw)
    except ValueError:
        return None, f"Hyperparameter '{name}' value {raw!r} is not a number ({allowed})"
    if math.isnan(number) or math.isinf(number):
        return None, f"Hyperparameter '{name}' value {raw!r} is not a finite number ({allowed})"
    value: int | float = number
    if rng.kind is int:
        if not number.is_integer():
            return None, f"Hyperparameter '{name}' value {raw!r} is not an integer ({allowed})"
        value = int(number)
    if not rng.contains(number):
        return None, f"Hyperparameter '{name}' value {raw!r} out of valid range ({allowed})"
    return value, None


def validate_hyperparameters(hyperparameters: Mapping[str, Any]) -> bool:
    """The seed's check of the six Parameter Store hyperparameters: True when valid.

    Raises ValidationError (a ValueError) listing every missing name, unknown
    name and invalid value; ``field`` is the first offending name. The typed
    values come from :func:`normalise_hyperparameters`.
    """
    normalise_hyperparameters(hyperparameters)
    return True


def normalise_hyperparameters(hyperparameters: Mapping[str, Any]) -> dict[str, int | float | str]:
    """Check names and ranges; return the normalised values (ints, floats, the objective).

    Raises ValidationError exactly as :func:`validate_hyperparameters` does.
    """
    if not isinstance(hyperparameters, Mapping):
        raise ValidationError(
            f"hyperparameters must be a mapping of name -> value, got {type(hyperparameters).__name__}",
            field="hyperparameters",
        )
    errors: list[str] = []
    fields: list[str] = []
    missing = [p for p in REQUIRED_PARAMS if p not in hyperparameters]
    if missing:
        errors.append(f"Missing required hyperparameters: {', '.join(missing)}")
        fields.extend(missing)
    unknown = sorted(str(k) for k in hyperparameters if k not in REQUIRED_PARAMS)
    if unknown:
        errors.append(
            f"Unknown hyperparameters: {', '.join(unknown)} (allowed: {', '.join(REQUIRED_PARAMS)})"
        )
        fields.extend(unknown)
    out: dict[str, int | float | str] = {}
    for name, rng in RANGES.items():
        if name not in hyperparameters:
            continue
        value, problem = _coerce_number(name, hyperparameters[name], rng)
        if problem is not None:
            errors.append(problem)
            fields.append(name)
        elif value is not None:
            out[name] = value
    if "objective" in hyperparameters:
        objective = hyperparameters["objective"]
        text = objective.strip() if isinstance(objective, str) else None
        if text not in ALLOWED_OBJECTIVES:
            errors.append(
                f"Hyperparameter 'objective' value {objective!r} is not allowed "
                f"(allowed: one of {', '.join(ALLOWED_OBJECTIVES)})"
            )
            fields.append("objective")
        else:
            out["objective"] = str(text)
    if errors:
        raise ValidationError("; ".join(errors), field=fields[0], errors=errors)
    return {name: out[name] for name in REQUIRED_PARAMS}


def format_value(value: int | float | str) -> str:
    """The Parameter Store text of a value: ``repr`` for floats so ``float(text) == value``."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def hyperparameters_from_run_params(params: Mapping[str, str]) -> dict[str, str]:
    """Map a run's logged parameters to the six SageMaker XGBoost names.

    ``learning_rate`` -> ``eta``, ``n_estimators`` -> ``num_round``;
    ``objective`` defaults to ``binary:logistic``; unrelated parameters are
    ignored. Raises ValidationError when an alias and its target disagree.
    """
    mapped: dict[str, str] = {}
    errors: list[str] = []
    for name in REQUIRED_PARAMS:
        if name in params:
            mapped[name] = params[name]
    for alias, target in SKLEARN_ALIASES.items():
        if alias not in params:
            continue
        if target in mapped and mapped[target].strip() != params[alias].strip():
            errors.append(
                f"Run logs both '{alias}'={params[alias]!r} and '{target}'={mapped[target]!r}; "
                "they must agree"
            )
            continue
        mapped[target] = params[alias]
    if errors:
        raise ValidationError("; ".join(errors), field="params", errors=errors)
    mapped.setdefault("objective", DEFAULT_OBJECTIVE)
    return mapped


def check_approver(approver: Any) -> str:
    """A stripped, non-empty approver (the user approving); raises ValidationError."""
    if not isinstance(approver, str) or not approver.strip():
        raise ValidationError(
            "approver must be a non-empty string (the user approving)", field="approver"
        )
    return approver.strip()


def validate_reason(reason: Any) -> str:
    """A stripped, non-empty reason of at most 1000 characters; raises ValidationError."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("reason is required: a non-empty string", field="reason")
    if len(reason.strip()) > MAX_REASON_LENGTH:
        raise ValidationError(
            f"reason must be at most {MAX_REASON_LENGTH} characters, got {len(reason.strip())}",
            field="reason",
        )
    return reason.strip()


def validate_config_schema(config: Any) -> ProductionConfig:
    """Check a production config against ``ProductionConfig``; raises ValidationError.

    Every missing field or wrong type is named as ``model.<field>``.
    """
    if not isinstance(config, Mapping) or "model" not in config:
        raise ValidationError("Configuration missing required 'model' key", field="model")
    model = config["model"]
    if not isinstance(model, Mapping):
        raise ValidationError(
            f"Configuration field model has wrong type. Expected dict, got {type(model).__name__}",
            field="model",
        )
    expected: dict[str, type] = {
        "algorithm": str,
        "version": str,
        "hyperparameters": dict,
        "performance": dict,
        "tested_date": str,
        "approved_by": str,
    }
    errors: list[str] = []
    fields: list[str] = []
    for name, kind in expected.items():
        if name not in model:
            errors.append(f"Configuration missing required field: model.{name}")
            fields.append(f"model.{name}")
        elif not isinstance(model[name], kind):
            errors.append(
                f"Configuration field model.{name} has wrong type. "
                f"Expected {kind.__name__}, got {type(model[name]).__name__}"
            )
            fields.append(f"model.{name}")
    optional: dict[str, tuple[type, ...]] = {
        "run_id": (str,),
        "threshold": (int, float),
        "threshold_rule": (str,),
        "features": (list,),
        "feature_version": (str,),
        "dataset_hash": (str,),
        "model_artifact_uri": (str,),
        "sagemaker_model_data_url": (str,),
        "parameter_store_applies": (bool,),
    }
    for name, kinds in optional.items():
        value = model.get(name)
        if value is None:
            continue  # absent or null: configs written before these fields stay valid
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            errors.append(
                f"Configuration field model.{name} has wrong type. "
                f"Expected {' or '.join(k.__name__ for k in kinds)}, got {type(value).__name__}"
            )
            fields.append(f"model.{name}")
    threshold = model.get("threshold")
    if (
        isinstance(threshold, (int, float))
        and not isinstance(threshold, bool)
        and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0)
    ):
        errors.append(
            f"Configuration field model.threshold value {threshold!r} out of valid range "
            "(allowed: a number in [0, 1])"
        )
        fields.append("model.threshold")
    if errors:
        raise ValidationError("; ".join(errors), field=fields[0], errors=errors)
    return ProductionConfig.parse(dict(config))


def config_json_schema() -> dict[str, Any]:
    """The JSON schema of ``production-model-config.yaml`` (from :class:`ProductionConfig`)."""
    return ProductionConfig.model_json_schema()
