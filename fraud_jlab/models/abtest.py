"""ABTestConfig and its parts: champion/challenger traffic split, rollout plan, success criteria."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from fraud_jlab.models._base import DomainModel

#: SageMaker endpoint names: at most 63 characters, letters, digits and hyphens.
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class TrafficSplit(DomainModel):
    """Traffic distribution between endpoints (percentages summing to 100)."""

    champion_percentage: int = Field(ge=0, le=100)
    challenger_percentage: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _check_sum(self) -> TrafficSplit:
        total = self.champion_percentage + self.challenger_percentage
        if total != 100:
            raise ValueError(
                f"champion_percentage + challenger_percentage must be 100, got {total}"
            )
        return self


class RolloutStage(DomainModel):
    """Single stage in gradual rollout."""

    stage: int = Field(ge=1)
    challenger_traffic: int = Field(ge=0, le=100)
    duration_hours: int = Field(ge=0)


class SuccessCriteria(DomainModel):
    """Criteria for promoting the challenger."""

    min_accuracy: float = Field(ge=0.0, le=1.0)
    max_latency_ms: float = Field(gt=0.0)
    min_improvement_pct: float = Field(ge=0.0)


class ABTestConfig(DomainModel):
    """Configuration of one champion/challenger A/B test."""

    test_id: str = Field(min_length=1)
    champion_endpoint: str
    challenger_endpoint: str
    challenger_experiment_id: str = Field(min_length=1)

    traffic_split: TrafficSplit
    rollout_plan: list[RolloutStage] = Field(min_length=1)
    success_criteria: SuccessCriteria

    start_date: datetime
    current_stage: int = Field(ge=1)
    status: Literal["running", "completed", "rolled_back"] = "running"

    @field_validator("champion_endpoint", "challenger_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(
                "endpoint names are 1-63 letters, digits and hyphens, starting and ending "
                f"with a letter or digit; got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _check_plan(self) -> ABTestConfig:
        if self.champion_endpoint == self.challenger_endpoint:
            raise ValueError("champion_endpoint and challenger_endpoint must differ")
        stages = [s.stage for s in self.rollout_plan]
        if stages != list(range(1, len(stages) + 1)):
            raise ValueError(
                f"rollout_plan stages must be numbered 1..{len(stages)} in order, got {stages}"
            )
        traffic = [s.challenger_traffic for s in self.rollout_plan]
        if any(b < a for a, b in itertools.pairwise(traffic)):
            raise ValueError(f"rollout_plan challenger_traffic must not decrease, got {traffic}")
        if self.current_stage > len(self.rollout_plan):
            raise ValueError(
                f"current_stage must be between 1 and {len(self.rollout_plan)}, got {self.current_stage}"
            )
        return self
