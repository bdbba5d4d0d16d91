"""Hyperparameter validation, run-parameter mapping, reasons and the config schema."""

from __future__ import annotations

import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.noninferiority import PairedApBound
from fraud_jlab.promotion.gates import evaluate_gates
from fraud_jlab.promotion.pipeline import execution_name
from fraud_jlab.promotion.validation import (
    format_value,
    hyperparameters_from_run_params,
    normalise_hyperparameters,
    validate_config_schema,
    validate_hyperparameters,
    validate_reason,
)

VALID = {
    "objective": "binary:logistic",
    "num_round": 100,
    "max_depth": 6,
    "eta": 0.1,
    "subsample": 0.8,
    "colsample_bytree": 1.0,
}


def test_valid_values_are_normalised() -> None:
    as_strings = {k: str(v) for k, v in VALID.items()} | {"max_depth": "6.0"}
    assert normalise_hyperparameters(as_strings) == VALID
    # the seed's contract: validate_hyperparameters returns True for valid input
    assert validate_hyperparameters(as_strings) is True


def test_every_problem_is_reported_at_once() -> None:
    bad = {
        "max_depth": 7.5,
        "eta": 0.0,
        "subsample": True,
        "colsample_bytree": float("nan"),
        "objective": "multi:softmax",
        "gamma": 1,
    }
    with pytest.raises(ValidationError) as info:
        validate_hyperparameters(bad)
    errors = info.value.errors
    assert errors[0] == "Missing required hyperparameters: num_round"
    assert "Unknown hyperparameters: gamma" in errors[1]
    assert (
        "Hyperparameter 'max_depth' value 7.5 is not an integer (allowed: an integer in [1, 20])"
        in errors
    )
    assert "'eta' value 0.0 out of valid range (allowed: a number in (0, 1])" in " ".join(errors)
    assert any("'subsample' value True" in e for e in errors)
    assert any("'colsample_bytree' value nan is not a finite number" in e for e in errors)
    assert any("'objective' value 'multi:softmax'" in e and "binary:hinge" in e for e in errors)
    assert info.value.field == "num_round"


def test_floats_are_written_so_they_read_back_exactly() -> None:
    for value in (0.1, 1e-05, 0.30000000000000004, 1.0):
        assert float(format_value(value)) == value
    assert format_value(7) == "7"


def test_run_params_map_to_sagemaker_names_and_ignore_others() -> None:
    mapped = hyperparameters_from_run_params(
        {
            "learning_rate": "0.05",
            "n_estimators": "300",
            "max_depth": "4",
            "subsample": "1",
            "colsample_bytree": "0.7",
            "random_state": "0",
            "scale_pos_weight": "500",
        }
    )
    assert mapped == {
        "eta": "0.05",
        "num_round": "300",
        "max_depth": "4",
        "subsample": "1",
        "colsample_bytree": "0.7",
        "objective": "binary:logistic",
    }
    assert hyperparameters_from_run_params({"eta": "0.1", "learning_rate": "0.1"})["eta"] == "0.1"


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 1001])
def test_reason_is_required_and_bounded(reason: object) -> None:
    with pytest.raises(ValidationError) as info:
        validate_reason(reason)
    assert info.value.field == "reason"


def test_config_schema_names_each_missing_or_mistyped_field() -> None:
    with pytest.raises(ValidationError, match="missing required 'model' key"):
        validate_config_schema({})
    with pytest.raises(ValidationError) as info:
        validate_config_schema(
            {
                "model": {
                    "algorithm": "xgboost",
                    "version": 3,
                    "hyperparameters": {},
                    "performance": {},
                    "tested_date": "2026-01-01",
                }
            }
        )
    assert info.value.errors == [
        "Configuration field model.version has wrong type. Expected str, got int",
        "Configuration missing required field: model.approved_by",
    ]
    with pytest.raises(ValidationError, match="tested_date"):
        validate_config_schema(
            {
                "model": {
                    "algorithm": "x",
                    "version": "v",
                    "hyperparameters": {},
                    "performance": {},
                    "tested_date": "yesterday",
                    "approved_by": "a",
                }
            }
        )


def test_execution_names_are_valid_and_bounded() -> None:
    from datetime import datetime, timezone

    name = execution_name(
        "experiment-" + "ä b/c" * 40, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    )
    assert len(name) <= 80 and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    assert "-20260102-030405-" in name


def test_gates() -> None:
    # The issue adds the AP and recall floors and the paired production comparison, and a
    # missing comparison now fails instead of being skipped.
    paired = PairedApBound(
        candidate=0.7,
        production=0.75,
        difference=-0.05,
        lower_bound=-0.08,
        level=0.95,
        n_bootstrap=2000,
        n_rows=5000,
        n_pos=100,
    )
    metrics = {
        "accuracy": 0.95,
        "average_precision": 0.7,
        "recall_at_fpr": 0.6,
        "holdout_fraud_rate": 0.02,
    }
    gates = evaluate_gates(
        metrics,
        min_accuracy=0.9,
        max_average_precision_drop=0.01,
        production_run_id="P",
        paired=paired,
    )
    assert [g.passed for g in gates] == [True, True, True, False]
    assert "drops by 0.05 (allowed 0.01)" in gates[3].detail
    gates = evaluate_gates(
        {},
        min_accuracy=0.9,
        max_average_precision_drop=0.01,
        production_run_id="P",
        paired=None,
    )
    assert [g.passed for g in gates] == [False, False, False, False]
    assert "no accuracy" in gates[0].detail
