"""ProductionConfig / ModelConfig: the content of production-model-config.yaml."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator

from fraud_jlab.models._base import DomainModel
from fraud_jlab.models.experiment import check_finite_metrics


class ModelConfig(DomainModel):
    """Model configuration details read by the production pipeline."""

    algorithm: str = Field(min_length=1)
    version: str = Field(min_length=1, description="The experiment (run) id the model comes from.")
    hyperparameters: dict[str, Any]
    performance: dict[str, float]
    tested_date: str = Field(description="YYYY-MM-DD")
    approved_by: str = Field(min_length=1)

    @field_validator("performance")
    @classmethod
    def _finite_performance(cls, value: dict[str, float]) -> dict[str, float]:
        return check_finite_metrics(value)

    @field_validator("tested_date")
    @classmethod
    def _check_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"tested_date must be YYYY-MM-DD, got {value!r}") from exc
        return value


class ProductionConfig(DomainModel):
    """Production model configuration (``production-model-config.yaml``)."""

    model: ModelConfig
