"""ExperimentMetadata: the seed's record of one experiment run."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fraud_jlab.models._base import DomainModel

ExperimentStatus = Literal["running", "completed", "failed"]


def check_finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Reject NaN/inf metric values, naming the metric."""
    for name, value in metrics.items():
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number, got {value}")
    return metrics


class ExperimentMetadata(DomainModel):
    """Metadata for a single experiment run (seed "Data Models")."""

    experiment_id: str = Field(min_length=1)
    experiment_name: str = Field(min_length=1)
    run_name: str = Field(min_length=1)
    start_timestamp: datetime
    end_timestamp: datetime | None = None
    status: ExperimentStatus
    user: str = Field(min_length=1)

    algorithm: str = Field(min_length=1)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    feature_set: list[str] = Field(default_factory=list)

    metrics: dict[str, float] = Field(default_factory=dict)

    model_artifact_path: str | None = None
    confusion_matrix_path: str | None = None

    dataset_version: str = Field(min_length=1)
    code_version: str = Field(min_length=1)
    dependencies: dict[str, str] = Field(default_factory=dict)

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return check_finite_metrics(value)

    @model_validator(mode="after")
    def _check_times(self) -> ExperimentMetadata:
        if self.end_timestamp is not None and self.end_timestamp < self.start_timestamp:
            raise ValueError("end_timestamp must not be before start_timestamp")
        if self.status == "running" and self.end_timestamp is not None:
            raise ValueError("a running experiment has no end_timestamp")
        return self
