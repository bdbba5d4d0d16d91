"""refit_best: CV-only selection, refit on the training split, one holdout evaluation."""

from __future__ import annotations

import boto3
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import HEADLINE_METRICS, ModelEvaluator
from fraud_jlab.modelstore import load_model
from fraud_jlab.promotion import ProductionIntegrator, PromotionRecord
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tuning import grid_search, refit_best

Split = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]


@pytest.fixture(scope="module")
def split() -> Split:
    X, y = make_classification(
        n_samples=900, n_features=6, n_informative=4, weights=[0.9], flip_y=0.01,
        random_state=3,
    )  # fmt: skip
    frame = pd.DataFrame(X, columns=[f"V{i}" for i in range(1, 7)])
    return frame.iloc[:600], y[:600], frame.iloc[600:], y[600:]


def _search(split: Split, tracker: TrackerStore) -> str:
    X_train, y_train, _, _ = split
    result = grid_search(
        X_train, y_train, {"max_depth": [3, 5], "n_estimators": [50]}, n_splits=3,
        tracker=tracker, n_jobs=1,
    )  # fmt: skip
    assert result.parent_run_id is not None
    return result.parent_run_id


def test_refit_is_a_promotable_child_evaluated_once_on_the_holdout(
    split: Split, tracker: TrackerStore, moto_env: None
) -> None:
    X_train, y_train, X_test, y_test = split
    parent_id = _search(split, tracker)
    parent = tracker.get_run(parent_id)
    # When the best configuration is refitted
    refit = refit_best(
        parent_id, X_train, y_train, X_test, y_test, tracker=tracker,
        evaluator=ModelEvaluator(n_bootstrap=30), n_jobs=1,
    )  # fmt: skip
    run = tracker.get_run(refit.run_id)
    # Then it is a child of the tuning run, selected by CV only
    assert run.parent_run_id == parent_id
    assert refit.run_id in tracker.get_run(parent_id).children
    assert run.tags["refit.of_trial"] == parent.tags["best_trial_run_id"]
    assert "cross-validation folds" in run.tags["refit.selected_by"]
    assert refit.cv_score == parent.metrics["best_average_precision"]
    assert run.metrics["cv_mean_average_precision"] == refit.cv_score
    # ... refitted on the whole training split, weighted like the comparison
    neg, pos = int((y_train == 0).sum()), int((y_train == 1).sum())
    assert float(run.params["scale_pos_weight"]) == pytest.approx(neg / pos)
    assert run.params["n_estimators"] == "50" and run.params["tree_method"] == "hist"
    assert run.datasets["training"] == parent.datasets["training"]
    # ... and evaluated on the holdout with every metric and its CI
    for m in HEADLINE_METRICS:
        assert run.metrics[f"{m}_ci_low"] <= run.metrics[m] <= run.metrics[f"{m}_ci_high"]
    loaded = load_model(refit.run_id, tracker=tracker)
    score = loaded.predict_proba(X_test)[:, 1]
    assert run.metrics["average_precision"] == pytest.approx(
        average_precision_score(y_test, score), abs=1e-12
    )
    # It promotes without force, with every trained hyperparameter in the config
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    sfn = boto3.client("stepfunctions")
    settings = FraudJlab()
    provision_sandbox(settings, s3_client=s3, sfn_client=sfn)
    integrator = ProductionIntegrator(
        settings, tracker=tracker, s3_client=s3, ssm_client=ssm, sfn_client=sfn
    )
    record = integrator.promote_run(refit.run_id, approver="alice", reason="refit best")
    assert isinstance(record, PromotionRecord) and not record.forced
    config = yaml.safe_load(
        s3.get_object(Bucket=settings.config_bucket, Key="production-model-config.yaml")[
            "Body"
        ].read()
    )["model"]
    assert config["hyperparameters"]["scale_pos_weight"] == pytest.approx(neg / pos)
    assert config["hyperparameters"]["max_depth"] == refit.params["max_depth"]
    assert config["model_artifact_uri"] == f"runs:/{refit.run_id}/model"
    assert config["features"] == list(X_train.columns)


def test_refit_refuses_other_training_data_or_a_leaked_holdout(
    split: Split, tracker: TrackerStore
) -> None:
    X_train, y_train, X_test, y_test = split
    parent_id = _search(split, tracker)
    with pytest.raises(ValidationError) as other:
        refit_best(parent_id, X_train.iloc[:-1], y_train[:-1], X_test, y_test, tracker=tracker)
    assert other.value.field == "X_train"
    with pytest.raises(ValidationError) as leaked:
        refit_best(parent_id, X_train, y_train, X_train, y_train, tracker=tracker)
    assert leaked.value.field == "X_holdout"
    trial = tracker.get_run(parent_id).tags["best_trial_run_id"]
    with pytest.raises(ValidationError) as not_a_search:
        refit_best(trial, X_train, y_train, X_test, y_test, tracker=tracker)
    assert not_a_search.value.field == "tuning_run_id"
    # nothing was logged by the refused calls
    assert len(tracker.get_run(parent_id).children) == 2
