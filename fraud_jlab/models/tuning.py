"""HyperparameterTuningJob / ParameterRange (SageMaker Automatic Model Tuning shapes)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fraud_jlab.models._base import DomainModel

_TUNING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
OBJECTIVE_METRICS = ("validation:auc", "validation:aucpr", "validation:accuracy", "validation:f1")


class ParameterRange(DomainModel):
    """Range specification for one hyperparameter."""

    type: Literal["Integer", "Continuous", "Categorical"]
    min_value: float | None = None
    max_value: float | None = None
    values: list[Any] | None = None
    scaling_type: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _check_shape(self) -> ParameterRange:
        if self.type == "Categorical":
            if not self.values:
                raise ValueError("a Categorical range needs a non-empty 'values' list")
            if self.min_value is not None or self.max_value is not None:
                raise ValueError("a Categorical range takes 'values', not min_value/max_value")
            if len(set(map(str, self.values))) != len(self.values):
                raise ValueError("Categorical 'values' must be distinct")
            return self
        if self.min_value is None or self.max_value is None:
            raise ValueError(f"an {self.type} range needs both min_value and max_value")
        if self.values is not None:
            raise ValueError(f"an {self.type} range takes min_value/max_value, not 'values'")
        if self.min_value > self.max_value:
            raise ValueError(
                f"min_value {self.min_value} must not exceed max_value {self.max_value}"
            )
        if self.type == "Integer" and not (
            float(self.min_value).is_integer() and float(self.max_value).is_integer()
        ):
            raise ValueError("an Integer range needs whole-number min_value and max_value")
        if self.scaling_type == "Logarithmic" and self.min_value <= 0:
            raise ValueError("Logarithmic scaling needs min_value > 0")
        return self


class HyperparameterTuningJob(DomainModel):
    """Configuration (and outcome) of one hyperparameter tuning job."""

    tuning_job_name: str
    algorithm: str = Field(min_length=1)
    objective_metric: str
    objective_type: Literal["Maximize", "Minimize"] = "Maximize"

    hyperparameter_ranges: dict[str, ParameterRange] = Field(min_length=1)
    max_jobs: int = Field(ge=1, le=750)
    max_parallel_jobs: int = Field(ge=1, le=100)
    strategy: Literal["Bayesian", "Random", "Grid", "Hyperband"] = "Bayesian"

    training_data_path: str
    validation_data_path: str

    status: str = "NotStarted"
    best_training_job: str | None = None
    best_hyperparameters: dict[str, Any] | None = None
    best_metric_value: float | None = None

    @field_validator("tuning_job_name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _TUNING_JOB_NAME.match(value):
            raise ValueError(
                "tuning_job_name must be 1-32 characters of letters, digits and hyphens, "
                f"starting and ending with a letter or digit; got {value!r}"
            )
        return value

    @field_validator("objective_metric")
    @classmethod
    def _check_objective(cls, value: str) -> str:
        if value not in OBJECTIVE_METRICS:
            raise ValueError(
                f"objective_metric must be one of {list(OBJECTIVE_METRICS)}, got {value!r}"
            )
        return value

    @field_validator("training_data_path", "validation_data_path")
    @classmethod
    def _check_s3(cls, value: str) -> str:
        if not value.startswith("s3://") or len(value) <= len("s3://"):
            raise ValueError(f"must be an s3:// URI, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_jobs(self) -> HyperparameterTuningJob:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(
                f"max_parallel_jobs ({self.max_parallel_jobs}) must not exceed max_jobs ({self.max_jobs})"
            )
        if self.strategy == "Grid":
            non_categorical = [
                k for k, r in self.hyperparameter_ranges.items() if r.type != "Categorical"
            ]
            if non_categorical:
                raise ValueError(
                    "the Grid strategy takes only Categorical ranges; not categorical: "
                    + ", ".join(sorted(non_categorical))
                )
        return self
