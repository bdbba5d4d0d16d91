"""PromotionEvent: the seed's record of one promotion to production."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from fraud_jlab.models._base import DomainModel
from fraud_jlab.models.experiment import check_finite_metrics


class PromotionEvent(DomainModel):
    """Record of experiment promotion to production."""

    promotion_id: str = Field(min_length=1)
    experiment_id: str = Field(min_length=1)
    timestamp: datetime
    approver: str = Field(min_length=1)

    hyperparameters: dict[str, Any]
    metrics: dict[str, float]

    parameter_store_backup_key: str = Field(min_length=1)
    config_file_backup_key: str | None = Field(
        default=None, description="None when no config file existed before the promotion."
    )

    pipeline_execution_arn: str | None = None
    status: Literal["completed", "failed", "rolled_back"]

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return check_finite_metrics(value)

    @field_validator("pipeline_execution_arn")
    @classmethod
    def _check_arn(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("arn:aws:states:"):
            raise ValueError(
                f"pipeline_execution_arn must start with 'arn:aws:states:', got {value!r}"
            )
        return value
