"""The champion/challenger traffic-split template (design section 8) as an ``ABTestConfig``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fraud_jlab.abtest.naming import format_timestamp, token_from_endpoint_name
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import ABTestConfig, SuccessCriteria

#: The design's gradual rollout: 1% for a day, 10% for two, 50% for three, then everything.
DEFAULT_ROLLOUT_PLAN: tuple[dict[str, int], ...] = (
    {"stage": 1, "challenger_traffic": 1, "duration_hours": 24},
    {"stage": 2, "challenger_traffic": 10, "duration_hours": 48},
    {"stage": 3, "challenger_traffic": 50, "duration_hours": 72},
    {"stage": 4, "challenger_traffic": 100, "duration_hours": 0},
)
DEFAULT_MAX_LATENCY_MS = 100.0
DEFAULT_MIN_IMPROVEMENT_PCT = 1.0


def default_success_criteria(min_accuracy: float) -> SuccessCriteria:
    """The design's criteria: ``min_accuracy``, at most 100 ms latency, at least 1% better."""
    return SuccessCriteria(
        min_accuracy=min_accuracy,
        max_latency_ms=DEFAULT_MAX_LATENCY_MS,
        min_improvement_pct=DEFAULT_MIN_IMPROVEMENT_PCT,
    )


def check_traffic_pct(value: Any) -> int:
    """``value`` as an integer percentage 0..100; ValidationError naming ``challenger_traffic_pct``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError(
            f"challenger_traffic_pct must be an integer between 0 and 100, got {value!r}",
            field="challenger_traffic_pct",
        )
    return value


def build_traffic_split_config(
    champion_endpoint: str,
    challenger_endpoint: str,
    challenger_traffic_pct: int,
    *,
    start_date: datetime,
    min_accuracy: float,
    experiment_id: str | None = None,
    success_criteria: SuccessCriteria | None = None,
) -> ABTestConfig:
    """An :class:`ABTestConfig` splitting traffic ``100 - pct`` / ``pct`` with the design's plan.

    ``current_stage`` is the last rollout stage whose challenger traffic does not exceed
    ``pct`` (stage 1 when ``pct`` is below 1). The experiment id defaults to the one encoded
    in a fraud_jlab challenger endpoint name, else the challenger endpoint name itself.
    Raises ValidationError naming the offending field (percentage, endpoint names).
    """
    pct = check_traffic_pct(challenger_traffic_pct)
    criteria = success_criteria or default_success_criteria(min_accuracy)
    stage = max([s["stage"] for s in DEFAULT_ROLLOUT_PLAN if s["challenger_traffic"] <= pct] or [1])
    if experiment_id is None and isinstance(challenger_endpoint, str):
        experiment_id = token_from_endpoint_name(challenger_endpoint) or challenger_endpoint
    digest = hashlib.sha256(f"{champion_endpoint}\n{challenger_endpoint}".encode()).hexdigest()
    return ABTestConfig.parse(
        {
            "test_id": f"abtest-{format_timestamp(start_date)}-{digest[:8]}",
            "champion_endpoint": champion_endpoint,
            "challenger_endpoint": challenger_endpoint,
            "challenger_experiment_id": experiment_id,
            "traffic_split": {
                "champion_percentage": 100 - pct,
                "challenger_percentage": pct,
            },
            "rollout_plan": [dict(s) for s in DEFAULT_ROLLOUT_PLAN],
            "success_criteria": criteria.model_dump(),
            "start_date": start_date,
            "current_stage": stage,
        }
    )
