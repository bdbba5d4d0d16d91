"""Shared base for fraud_jlab domain models: strict, validated, JSON and YAML round trips."""

from __future__ import annotations

import math
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from fraud_jlab.errors import ValidationError

M = TypeVar("M", bound="DomainModel")


def check_finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Reject NaN/inf metric values, naming the metric."""
    for name, value in metrics.items():
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number, got {value}")
    return metrics


class DomainModel(BaseModel):
    """Validated on construction; unknown fields rejected; frozen-by-convention value objects."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=True)

    def to_json(self) -> str:
        """Serialise to JSON (datetimes as ISO 8601)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls: type[M], text: str | bytes) -> M:
        """Parse JSON; raises :class:`fraud_jlab.errors.ValidationError` naming each bad field."""
        try:
            return cls.model_validate_json(text)
        except PydanticValidationError as exc:
            raise _as_validation_error(cls, exc) from exc

    def to_yaml(self) -> str:
        """Serialise to YAML (plain types only, so any YAML reader can load it)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_yaml(cls: type[M], text: str | bytes) -> M:
        """Parse YAML; raises :class:`fraud_jlab.errors.ValidationError` for bad YAML or fields."""
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError(f"{cls.__name__}: invalid YAML: {exc}") from exc
        return cls.parse(data)

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Validate a plain mapping; raises :class:`fraud_jlab.errors.ValidationError`."""
        try:
            return cls.model_validate(data)
        except PydanticValidationError as exc:
            raise _as_validation_error(cls, exc) from exc


def _as_validation_error(cls: type[BaseModel], exc: PydanticValidationError) -> ValidationError:
    messages = []
    first_field = None
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        first_field = first_field or loc
        messages.append(f"{cls.__name__}.{loc}: {err['msg']}")
    return ValidationError("; ".join(messages), field=first_field, errors=messages)
