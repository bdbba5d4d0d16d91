"""The production config records exactly the evaluated model, for all four algorithms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from promotion_env import BUCKET, GOOD_METRICS, AwsEnv, make_run
from sklearn.datasets import make_classification

from fraud_jlab.comparison import compare_algorithms
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, read_holdout_scores
from fraud_jlab.modelstore import load_model
from fraud_jlab.promotion import ProductionIntegrator, PromotionRecord
from fraud_jlab.promotion.algorithms import normalise_for_algorithm
from fraud_jlab.promotion.spec import DEFAULT_THRESHOLD_RULE, THRESHOLD_RULE_TAG
from fraud_jlab.promotion.validation import (
    REQUIRED_PARAMS,
    config_json_schema,
    validate_config_schema,
)
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

CONFIG_KEY = "production-model-config.yaml"
PREFIX = "/fraud-detection/hyperparameters/"
Comparison = tuple[SqliteTrackerStore, dict[str, str], pd.DataFrame]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Comparison]:
    """The four default algorithms compared on 1,500 rows (one run each, models saved)."""
    X, y = make_classification(
        n_samples=1500, n_features=6, n_informative=4, weights=[0.93], flip_y=0.0,
        class_sep=1.5, random_state=1,
    )  # fmt: skip
    frame = pd.DataFrame(X, columns=["Time", "V1", "V2", "V3", "V4", "Amount"])
    store = SqliteTrackerStore(Path(tmp_path_factory.mktemp("spec")) / "runs.db")
    result = compare_algorithms(
        frame.iloc[:1100], y[:1100], frame.iloc[1100:], y[1100:],
        tracker=store, n_bootstrap=20, n_jobs=1,
    )  # fmt: skip
    yield store, result.runs, frame.iloc[1100:]
    store.close()


def _integrator(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> ProductionIntegrator:
    return ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())


def _config(aws_env: AwsEnv) -> dict[str, Any]:
    return dict(yaml.safe_load(aws_env.read(CONFIG_KEY))["model"])


@pytest.mark.parametrize(
    ("name", "algorithm"),
    [("XGBoost", "xgboost"), ("LightGBM", "lightgbm"), ("RandomForest", "random_forest"),
     ("NeuralNetwork", "mlp")],
)  # fmt: skip
def test_a_comparison_run_of_each_algorithm_promotes_with_its_own_spec(
    aws_env: AwsEnv, comparison: Comparison, name: str, algorithm: str
) -> None:
    tracker, runs, X_test = comparison
    run = tracker.get_run(runs[name])
    before_ssm = aws_env.ssm_values()
    # When the comparison run is promoted without force
    record = _integrator(aws_env, tracker).promote_run(
        run.run_id, approver="alice", reason="best of the comparison"
    )
    assert isinstance(record, PromotionRecord) and not record.forced
    model = _config(aws_env)
    # Then the config names the algorithm and every hyperparameter the model was trained with
    assert model["algorithm"] == algorithm
    assert model["hyperparameters"] == normalise_for_algorithm(algorithm, run.params)
    assert model["run_id"] == model["version"] == run.run_id
    # the decision threshold the evaluation fitted on its validation rows, and how
    assert model["threshold"] == run.metrics["threshold"]
    assert model["threshold_rule"] == run.tags["evaluation.threshold_rule"]
    assert model["threshold_rule"] != DEFAULT_THRESHOLD_RULE
    assert model["features"] == list(X_test.columns)
    assert model["feature_version"] == "1"
    assert model["dataset_hash"] == run.datasets["training"]
    assert model["model_artifact_uri"] == f"runs:/{run.run_id}/model"
    assert model["parameter_store_applies"] is (algorithm == "xgboost")
    validate_config_schema({"model": model})
    # ... and the model it points at is the evaluated one
    loaded = load_model(model["model_artifact_uri"], tracker=tracker)
    assert loaded.algorithm == algorithm
    holdout = read_holdout_scores(tracker.read_artifact(run.run_id, HOLDOUT_ARTIFACT))
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test)[:, 1].astype(holdout.y_score.dtype), holdout.y_score
    )
    hp = model["hyperparameters"]
    ssm = aws_env.ssm_values()
    if algorithm == "xgboost":
        assert hp["scale_pos_weight"] == pytest.approx(float(run.params["scale_pos_weight"]))
        assert hp["tree_method"] == "hist" and hp["seed"] == 0
        assert hp["eta"] == 0.2 and hp["num_round"] == 100
        assert {k.removeprefix(PREFIX): v for k, v in ssm.items()} == {
            "objective": "binary:logistic", "num_round": "100", "max_depth": "5",
            "eta": "0.2", "subsample": "0.8", "colsample_bytree": "0.8",
        }  # fmt: skip
    else:
        # other algorithms leave the XGBoost Parameter Store values as they were
        assert ssm == before_ssm
    if algorithm == "lightgbm":
        assert hp["min_child_weight"] == 1.0 and hp["num_leaves"] == 31
        assert hp["learning_rate"] == 0.2 and hp["max_delta_step"] == 2.0
        assert hp["subsample_freq"] == 1 and "objective" not in hp
        assert record.hyperparameters["num_leaves"] == "31"
    if algorithm == "random_forest":
        assert hp["class_weight"] == "balanced_subsample" and hp["max_features"] == "sqrt"
        assert hp["bootstrap"] is True and hp["n_estimators"] == 100
    if algorithm == "mlp":
        assert hp["hidden_layer_sizes"] == [128, 64, 32] and hp["early_stopping"] is True
        assert hp["scaler__with_mean"] is True and "verbose" not in hp


def test_threshold_and_rule_come_from_the_evaluated_run(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    run_id = make_run(tracker, metrics={**GOOD_METRICS, "threshold": 0.37})
    rule = "recall_at_fpr 0.001 on validation split 3f2a"
    tracker.set_tags(run_id, {THRESHOLD_RULE_TAG: rule})
    _integrator(aws_env, tracker).promote_run(run_id, approver="alice", reason="tuned threshold")
    model = _config(aws_env)
    assert model["threshold"] == 0.37 and model["threshold_rule"] == rule
    # no model was saved with this run: the fields say so instead of inventing one
    assert model["model_artifact_uri"] is None and model["features"] is None


def test_a_config_written_before_the_spec_still_reads(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    old = {
        "model": {
            "algorithm": "xgboost", "version": "run-1",
            "hyperparameters": {"objective": "binary:logistic", "num_round": 100,
                                "max_depth": 6, "eta": 0.1, "subsample": 0.8,
                                "colsample_bytree": 1.0},
            "performance": {"accuracy": 0.97}, "tested_date": "2025-01-01",
            "approved_by": "bob",
        }
    }  # fmt: skip
    parsed = validate_config_schema(old)
    assert parsed.model.threshold is None and parsed.model.run_id is None
    aws_env.s3.put_object(Bucket=BUCKET, Key=CONFIG_KEY, Body=yaml.safe_dump(old).encode())
    integrator = _integrator(aws_env, tracker)
    view = integrator.current_production()
    assert view.config == old
    # and a new promotion replaces it with a complete spec (forced: the old config's run is
    # not in this tracker, so non-inferiority against it cannot be shown)
    record = integrator.promote_run(make_run(tracker), approver="alice", reason="r", force=True)
    assert isinstance(record, PromotionRecord) and record.forced
    assert record.before.config == old and _config(aws_env)["threshold"] == 0.5


def test_config_schema_names_bad_spec_fields() -> None:
    base = {
        "algorithm": "xgboost", "version": "r", "hyperparameters": {}, "performance": {},
        "tested_date": "2025-01-01", "approved_by": "a",
    }  # fmt: skip
    with pytest.raises(ValidationError) as info:
        validate_config_schema({"model": {**base, "threshold": 1.5, "features": "V1,V2"}})
    assert info.value.field == "model.features"
    text = " | ".join(info.value.errors)
    assert "model.threshold value 1.5 out of valid range (allowed: a number in [0, 1])" in text
    assert "model.features has wrong type. Expected list, got str" in text
    with pytest.raises(ValidationError, match="parameter_store_applies"):
        validate_config_schema({"model": {**base, "parameter_store_applies": "yes"}})
    props = config_json_schema()["$defs"]["ModelConfig"]["properties"]
    assert {"threshold", "threshold_rule", "features", "model_artifact_uri", "run_id"} <= set(props)


def test_per_algorithm_validation_names_the_field_and_range() -> None:
    with pytest.raises(ValidationError) as info:
        normalise_for_algorithm(
            "lightgbm", {"num_leaves": "1", "learning_rate": "2", "colsample_bytree": "0.5"}
        )
    assert info.value.field == "learning_rate"
    assert info.value.errors == [
        "lightgbm hyperparameter 'learning_rate' value '2' is out of valid range "
        "(allowed: a number in (0, 1])",
        "lightgbm hyperparameter 'num_leaves' value '1' is out of valid range "
        "(allowed: an integer in [2, 131072])",
    ]
    with pytest.raises(ValidationError) as unknown:
        normalise_for_algorithm("random_forest", {"n_estimators": "10", "eta": "0.1"})
    assert unknown.value.field == "eta"
    assert "Unknown random_forest hyperparameters: eta (allowed: bootstrap, ccp_alpha" in str(
        unknown.value
    )
    with pytest.raises(ValidationError, match="'hidden_layer_sizes' value '\\(0, 3\\)'"):
        normalise_for_algorithm("mlp", {"mlp__hidden_layer_sizes": "(0, 3)"})
    with pytest.raises(ValidationError, match=r"'tree_method' value 'gpu'.*one of auto, exact"):
        normalise_for_algorithm("xgboost", {**_six(), "tree_method": "gpu"})
    with pytest.raises(ValidationError) as algo:
        normalise_for_algorithm("LogisticRegression", {})
    assert algo.value.field == "algorithm"


def _six() -> dict[str, str]:
    values = {"objective": "binary:logistic", "num_round": "10", "max_depth": "3",
              "eta": "0.3", "subsample": "1.0", "colsample_bytree": "1.0"}  # fmt: skip
    assert set(values) == set(REQUIRED_PARAMS)
    return values


def test_a_run_with_an_unsupported_algorithm_is_refused_before_anything_is_written(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    run_id = make_run(tracker, params={"C": "1.0"})
    tracker.set_tags(run_id, {"algorithm": "LogisticRegression"})
    with pytest.raises(ValidationError) as info:
        _integrator(aws_env, tracker).promote_run(run_id, approver="alice", reason="r")
    assert info.value.field == "algorithm" and "random_forest" in str(info.value)
    assert aws_env.key_set() == set() and aws_env.ssm_values() == {}


def test_switching_algorithms_and_rolling_back_restores_the_xgboost_spec(
    aws_env: AwsEnv, comparison: Comparison
) -> None:
    tracker, runs, _ = comparison
    integrator = _integrator(aws_env, tracker)
    first = integrator.promote_run(runs["XGBoost"], approver="alice", reason="xgb")
    assert isinstance(first, PromotionRecord)
    xgb_ssm, xgb_config = aws_env.ssm_values(), _config(aws_env)
    # a LightGBM promotion replaces the config and leaves the XGBoost parameters alone
    second = integrator.promote_run(runs["LightGBM"], approver="alice", reason="lgbm", force=True)
    assert isinstance(second, PromotionRecord)
    assert _config(aws_env)["algorithm"] == "lightgbm" and aws_env.ssm_values() == xgb_ssm
    assert second.after.ssm == second.before.ssm
    # rolling back to the XGBoost promotion restores its complete spec
    integrator.rollback_to(first.promotion_id, approver="alice", reason="back to xgb")
    assert _config(aws_env) == xgb_config and aws_env.ssm_values() == xgb_ssm
