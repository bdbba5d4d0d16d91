"""Domain models: validated on construction, JSON and YAML round trips."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_jlab.errors import ValidationError
from fraud_jlab.models import (
    ABTestConfig,
    HyperparameterTuningJob,
    ModelConfig,
    ParameterRange,
    ProductionConfig,
    RolloutStage,
    SuccessCriteria,
    TrafficSplit,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def _abtest(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "test_id": "ab-1",
        "champion_endpoint": "fraud-detection-production",
        "challenger_endpoint": "fraud-detection-challenger-exp1-20261126-120000",
        "challenger_experiment_id": "exp1",
        "traffic_split": {"champion_percentage": 90, "challenger_percentage": 10},
        "rollout_plan": [
            {"stage": 1, "challenger_traffic": 1, "duration_hours": 24},
            {"stage": 2, "challenger_traffic": 10, "duration_hours": 48},
            {"stage": 3, "challenger_traffic": 50, "duration_hours": 72},
            {"stage": 4, "challenger_traffic": 100, "duration_hours": 0},
        ],
        "success_criteria": {
            "min_accuracy": 0.9,
            "max_latency_ms": 100,
            "min_improvement_pct": 1.0,
        },
        "start_date": NOW,
        "current_stage": 1,
        "status": "running",
    }
    base.update(over)
    return base


def _tuning(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "tuning_job_name": "fraud-xgb-tuning-1",
        "algorithm": "xgboost",
        "objective_metric": "validation:aucpr",
        "objective_type": "Maximize",
        "hyperparameter_ranges": {
            "max_depth": {"type": "Integer", "min_value": 3, "max_value": 10},
            "eta": {"type": "Continuous", "min_value": 0.01, "max_value": 0.3},
        },
        "max_jobs": 20,
        "max_parallel_jobs": 5,
        "strategy": "Bayesian",
        "training_data_path": "s3://fraud-detection-data/train/",
        "validation_data_path": "s3://fraud-detection-data/validation/",
    }
    base.update(over)
    return base


SAMPLES = [
    (ABTestConfig, _abtest()),
    (HyperparameterTuningJob, _tuning()),
    (
        ProductionConfig,
        {
            "model": {
                "algorithm": "xgboost",
                "version": "01JABC",
                "hyperparameters": {"max_depth": 5, "eta": 0.2},
                "performance": {"accuracy": 0.96},
                "tested_date": "2026-11-26",
                "approved_by": "ds@example.com",
            }
        },
    ),
]


@pytest.mark.parametrize(("model", "data"), SAMPLES, ids=[m.__name__ for m, _ in SAMPLES])
def test_json_and_yaml_round_trip(model: type, data: dict[str, object]) -> None:
    # Given a valid model
    obj = model.parse(data)
    # When it goes through JSON and YAML
    # Then it comes back equal
    assert model.from_json(obj.to_json()) == obj
    assert model.from_yaml(obj.to_yaml()) == obj


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (
            ABTestConfig,
            _abtest(traffic_split={"champion_percentage": 80, "challenger_percentage": 10}),
            "traffic_split",
        ),
        (ABTestConfig, _abtest(current_stage=9), "<root>"),
        (ABTestConfig, _abtest(challenger_endpoint="bad_name!"), "challenger_endpoint"),
        (HyperparameterTuningJob, _tuning(max_parallel_jobs=30), "<root>"),
        (HyperparameterTuningJob, _tuning(max_jobs=751), "max_jobs"),
        (HyperparameterTuningJob, _tuning(objective_metric="validation:rmse"), "objective_metric"),
        (HyperparameterTuningJob, _tuning(training_data_path="/tmp/x"), "training_data_path"),
        (HyperparameterTuningJob, _tuning(strategy="Grid"), "<root>"),
    ],
)
def test_invalid_input_names_the_field(model: type, data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        model.parse(data)
    assert info.value.field is not None
    assert info.value.field.startswith(field)
    assert field.split(".")[0] in str(info.value) or field == "<root>"


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        HyperparameterTuningJob.parse(_tuning(surprise=1))


def test_bad_yaml_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="invalid YAML"):
        ProductionConfig.from_yaml("model: [unclosed")


def test_model_config_rejects_bad_date() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ModelConfig(
            algorithm="xgboost",
            version="v",
            hyperparameters={},
            performance={},
            tested_date="26/11/2026",
            approved_by="a",
        )


@given(
    low=st.integers(min_value=-1000, max_value=1000),
    width=st.integers(min_value=0, max_value=1000),
)
@settings(max_examples=50, deadline=None)
def test_integer_ranges_round_trip(low: int, width: int) -> None:
    rng = ParameterRange(type="Integer", min_value=low, max_value=low + width)
    assert ParameterRange.from_yaml(rng.to_yaml()) == rng
    with pytest.raises(ValueError):
        ParameterRange(type="Integer", min_value=low + width + 1, max_value=low)


@given(share=st.integers(min_value=0, max_value=100), other=st.integers(min_value=0, max_value=100))
@settings(max_examples=50, deadline=None)
def test_traffic_split_must_sum_to_100(share: int, other: int) -> None:
    if share + other == 100:
        assert (
            TrafficSplit(
                champion_percentage=share, challenger_percentage=other
            ).challenger_percentage
            == other
        )
    else:
        with pytest.raises(ValueError, match="must be 100"):
            TrafficSplit(champion_percentage=share, challenger_percentage=other)


def test_rollout_plan_must_not_decrease() -> None:
    with pytest.raises(ValidationError, match="must not decrease"):
        ABTestConfig.parse(
            _abtest(
                rollout_plan=[
                    RolloutStage(stage=1, challenger_traffic=50, duration_hours=1).model_dump(),
                    RolloutStage(stage=2, challenger_traffic=10, duration_hours=1).model_dump(),
                ]
            )
        )
    assert (
        SuccessCriteria(min_accuracy=0.9, max_latency_ms=100, min_improvement_pct=0).min_accuracy
        == 0.9
    )
