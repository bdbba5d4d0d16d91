"""The traffic-split template: the design's plan and criteria, validated percentages."""

from __future__ import annotations

from typing import Any

import pytest

from fraud_jlab.abtest import ABTestingManager
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import ABTestConfig

from .abtest_env import NOW, PRODUCTION

CHALLENGER = "fraud-detection-challenger-exp-20240115-001-20240115-103000"


@pytest.fixture
def manager() -> ABTestingManager:
    # A bare object as client: building the template must not call AWS at all.
    return ABTestingManager(
        FraudJlab(min_accuracy=0.9), sagemaker_client=object(), clock=lambda: NOW
    )


def test_default_split_follows_the_design(manager: ABTestingManager) -> None:
    config = manager.generate_traffic_split_config(PRODUCTION, CHALLENGER)

    assert config.traffic_split.champion_percentage == 90
    assert config.traffic_split.challenger_percentage == 10
    assert [(s.stage, s.challenger_traffic, s.duration_hours) for s in config.rollout_plan] == [
        (1, 1, 24),
        (2, 10, 48),
        (3, 50, 72),
        (4, 100, 0),
    ]
    assert config.success_criteria.min_accuracy == 0.90
    assert config.success_criteria.max_latency_ms == 100
    assert config.success_criteria.min_improvement_pct == 1.0
    assert config.current_stage == 2
    assert config.challenger_experiment_id == "exp-20240115-001"
    assert config.start_date == NOW
    assert config.status == "running"


def test_yaml_round_trips(manager: ABTestingManager) -> None:
    config = manager.generate_traffic_split_config(PRODUCTION, CHALLENGER, 50)

    text = config.to_yaml()

    assert "challenger_percentage: 50" in text
    assert ABTestConfig.from_yaml(text) == config


@pytest.mark.parametrize(("pct", "stage"), [(0, 1), (1, 1), (9, 1), (10, 2), (75, 3), (100, 4)])
def test_current_stage_matches_the_split(manager: ABTestingManager, pct: int, stage: int) -> None:
    config = manager.generate_traffic_split_config(PRODUCTION, CHALLENGER, pct)

    assert config.current_stage == stage
    assert config.traffic_split.champion_percentage == 100 - pct


@pytest.mark.parametrize("pct", [-1, 101, 10.5, True, "10", None])
def test_percentage_outside_0_to_100_is_rejected(manager: ABTestingManager, pct: Any) -> None:
    with pytest.raises(ValidationError) as err:
        manager.generate_traffic_split_config(PRODUCTION, CHALLENGER, pct)

    assert err.value.field == "challenger_traffic_pct"
    assert "between 0 and 100" in str(err.value)


def test_same_endpoint_on_both_sides_is_rejected(manager: ABTestingManager) -> None:
    with pytest.raises(ValidationError, match="must differ"):
        manager.generate_traffic_split_config(PRODUCTION, PRODUCTION)


def test_invalid_endpoint_name_is_rejected_naming_the_field(manager: ABTestingManager) -> None:
    with pytest.raises(ValidationError) as err:
        manager.generate_traffic_split_config("prod_endpoint!", CHALLENGER)

    assert err.value.field == "champion_endpoint"


def test_explicit_experiment_id_wins(manager: ABTestingManager) -> None:
    config = manager.generate_traffic_split_config(
        PRODUCTION, "my-challenger", 5, experiment_id="01HMBX9ZQK4W8V2T6R3N5P7Y0A"
    )

    assert config.challenger_experiment_id == "01HMBX9ZQK4W8V2T6R3N5P7Y0A"
