"""ProductionConfig / ModelConfig: the content of production-model-config.yaml."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator

from fraud_jlab.models._base import DomainModel, check_finite_metrics


class ModelConfig(DomainModel):
    """Model configuration details read by the production pipeline."""

    algorithm: str = Field(min_length=1)
    version: str = Field(min_length=1, description="The experiment (run) id the model comes from.")
    hyperparameters: dict[str, Any]
    performance: dict[str, float]
    tested_date: str = Field(description="YYYY-MM-DD")
    approved_by: str = Field(min_length=1)
    # Written by promotions since the production spec (all optional: older configs lack them).
    run_id: str | None = Field(default=None, description="The promoted run's id.")
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Decision threshold: flag when score >= it."
    )
    threshold_rule: str | None = Field(
        default=None, description="How and on which rows the threshold was chosen."
    )
    features: list[str] | None = Field(
        default=None, description="Feature names in the order the model reads them."
    )
    feature_version: str | None = Field(
        default=None, description="Feature-engineering version the features were built with."
    )
    dataset_hash: str | None = Field(default=None, description="Training dataset content hash.")
    model_artifact_uri: str | None = Field(
        default=None, description="runs:/<run_id>/model: the evaluated model, saved."
    )
    sagemaker_model_data_url: str | None = Field(
        default=None, description="s3://.../model.tar.gz packaged for a SageMaker endpoint."
    )
    parameter_store_applies: bool | None = Field(
        default=None,
        description=(
            "True when the six Parameter Store hyperparameters are this model's (XGBoost); "
            "false for other algorithms, whose hyperparameters are only in this file."
        ),
    )

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
