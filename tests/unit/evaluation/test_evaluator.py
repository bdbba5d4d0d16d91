"""ModelEvaluator: the seed's API, run logging, warnings, baseline comparison."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from fraud_jlab import Run
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import (
    HEADLINE_METRICS,
    HOLDOUT_ARTIFACT,
    LowAccuracyWarning,
    ModelEvaluator,
    holdout_hash,
    read_holdout_scores,
)
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


class FixedScoreModel:
    """A 'model' whose fraud probability for row i is scores[i] (X is the row index)."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.scores[np.asarray(X, dtype=int).ravel()]
        return np.column_stack([1 - p, p])


def _index(n: int) -> np.ndarray:
    return np.arange(n).reshape(-1, 1)


def test_evaluate_model_returns_the_seed_keys_plus_cis_and_figures(
    holdout: tuple[np.ndarray, np.ndarray],
) -> None:
    y, score = holdout
    result = ModelEvaluator(n_bootstrap=100).evaluate_model(
        FixedScoreModel(score), _index(y.size), y
    )
    assert {"metrics", "confusion_matrix", "comparison", "meets_production_threshold"} <= set(
        result
    )
    assert set(HEADLINE_METRICS) <= set(result["metrics"])
    assert result["comparison"] is None
    assert result["meets_production_threshold"] is (result["metrics"]["accuracy"] >= 0.90)
    cm = result["confusion_matrix"]
    assert sum(map(sum, cm)) == y.size
    assert cm[1][0] + cm[1][1] == int(y.sum())
    for name in HEADLINE_METRICS:
        ci = result["confidence_intervals"][name]
        assert ci["low"] <= result["metrics"][name] <= ci["high"]
    assert set(result["figures"]) == {"confusion_matrix", "roc", "pr", "calibration", "cost"}
    assert result["cost"]["threshold"] > 0


def test_evaluate_model_with_run_logs_metrics_cis_figures_and_holdout(
    tracker: SqliteTrackerStore, holdout: tuple[np.ndarray, np.ndarray]
) -> None:
    y, score = holdout
    with Run("eval-test", "xgb", tracker=tracker) as run:
        result = ModelEvaluator(n_bootstrap=50).evaluate_model(
            FixedScoreModel(score), _index(y.size), y, run=run, threshold=0.3
        )
    detail = tracker.get_run(run.run_id)
    for name in HEADLINE_METRICS:
        assert detail.metrics[name] == pytest.approx(result["metrics"][name])
        assert (
            detail.metrics[f"{name}_ci_low"]
            <= detail.metrics[name]
            <= detail.metrics[f"{name}_ci_high"]
        )
    assert detail.tags["evaluation.holdout_hash"] == holdout_hash(y)
    assert detail.tags["evaluation.threshold"] == "0.3"
    paths = {a.path for a in detail.artifacts}
    assert {HOLDOUT_ARTIFACT, "evaluation/figures.html", "evaluation/figures/roc.json"} <= paths
    report = tracker.read_artifact(run.run_id, "evaluation/figures.html").decode()
    # offline: plotly.js embedded exactly once, no CDN script
    assert re.search(r"<script[^>]*\bsrc=", report) is None
    assert report.count("plotly.js v") == 1
    stored = read_holdout_scores(tracker.read_artifact(run.run_id, HOLDOUT_ARTIFACT))
    assert stored.y_true.dtype == np.int8 and stored.y_score.dtype == np.float32
    np.testing.assert_array_equal(stored.y_true, y)
    np.testing.assert_allclose(stored.y_score, score, rtol=1e-6)
    roc = json.loads(tracker.read_artifact(run.run_id, "evaluation/figures/roc.json"))
    assert len(roc["data"][0]["x"]) <= 500


def test_low_accuracy_warns_and_tags_the_run(tracker: SqliteTrackerStore) -> None:
    # Given a model that is right on 3 of 4 rows (accuracy 0.75)
    y = np.array([0, 1, 0, 1] * 25)
    score = np.array([0.1, 0.9, 0.8, 0.7] * 25)
    with (
        Run("eval-test", "weak", tracker=tracker) as run,
        pytest.warns(LowAccuracyWarning) as record,
    ):
        result = ModelEvaluator(n_bootstrap=20).evaluate_model(
            FixedScoreModel(score), _index(y.size), y, run=run
        )
    assert str(record[0].message) == (
        "accuracy 0.75 is below the 0.80 warning threshold; results are below production threshold 0.90"
    )
    assert result["meets_production_threshold"] is False
    assert tracker.get_run(run.run_id).tags["warning.low_accuracy"] == "true"


def test_acceptable_accuracy_does_not_tag(tracker: SqliteTrackerStore, holdout: tuple) -> None:
    y, score = holdout
    with Run("eval-test", "good", tracker=tracker) as run:
        ModelEvaluator(n_bootstrap=20).evaluate_model(
            FixedScoreModel(score), _index(y.size), y, run=run
        )
    assert "warning.low_accuracy" not in tracker.get_run(run.run_id).tags


def test_production_threshold_is_configurable() -> None:
    assert ModelEvaluator().meets_production_threshold({"accuracy": 0.90})
    assert not ModelEvaluator().meets_production_threshold({"accuracy": 0.8999})
    assert ModelEvaluator(threshold_accuracy=0.99).meets_production_threshold({"accuracy": 0.995})
    assert not ModelEvaluator(threshold_accuracy=0.99).meets_production_threshold(
        {"accuracy": 0.95}
    )
    with pytest.raises(ValidationError) as err:
        ModelEvaluator().meets_production_threshold({"precision": 0.9})
    assert err.value.field == "metrics"


def test_compare_to_baseline_reports_none_percent_change_for_zero_baseline() -> None:
    comp = ModelEvaluator().compare_to_baseline(
        {"accuracy": 0.96, "recall": 0.5, "extra": 1.0}, {"accuracy": 0.952, "recall": 0.0}
    )
    assert set(comp) == {"accuracy", "recall"}
    acc = comp["accuracy"]
    assert acc["difference"] == pytest.approx(0.008)
    assert acc["percent_change"] == pytest.approx(0.008 / 0.952 * 100)
    assert acc["improved"] is True
    assert acc["paired"] is False
    assert comp["recall"]["percent_change"] is None
    assert "baseline is 0" in comp["recall"]["note"]


def test_compare_to_baseline_with_scores_adds_paired_cis(holdout: tuple) -> None:
    y, good = holdout
    rng = np.random.default_rng(2)
    bad = np.clip(good + rng.normal(scale=0.5, size=good.size), 0, 1)
    ev = ModelEvaluator(n_bootstrap=200)
    result = ev.evaluate_model(FixedScoreModel(good), _index(y.size), y, baseline_scores=bad)
    ap = result["comparison"]["average_precision"]
    assert ap["paired"] is True
    assert ap["significant"] is True
    assert ap["ci_low"] > 0
    assert ap["improved"] is True


def test_compare_to_baseline_needs_all_paired_inputs() -> None:
    with pytest.raises(ValidationError) as err:
        ModelEvaluator().compare_to_baseline(
            {"accuracy": 1.0}, {"accuracy": 0.9}, current_scores=[0.1]
        )
    assert err.value.field == "baseline_scores"


def test_calculate_metrics_with_given_predictions() -> None:
    ev = ModelEvaluator()
    m = ev.calculate_metrics([0, 1, 0, 1], [0, 1, 1, 1], [0.2, 0.9, 0.6, 0.4])
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == 1.0
    assert m["threshold"] is None
    derived = ev.calculate_metrics([0, 1, 0, 1], None, [0.2, 0.9, 0.6, 0.4], threshold=0.5)
    assert derived["recall"] == 0.5 and derived["threshold"] == 0.5


def test_calculate_metrics_rejects_non_probabilities() -> None:
    with pytest.raises(ValidationError) as err:
        ModelEvaluator().calculate_metrics([0, 1], [0, 1], [-0.5, 2.0])
    assert err.value.field == "y_pred_proba"


def test_evaluate_model_rejects_models_without_predict_proba() -> None:
    with pytest.raises(ValidationError) as err:
        ModelEvaluator().evaluate_model(object(), [[0]], [1])
    assert err.value.field == "model"


def test_evaluate_model_rejects_length_mismatch_and_writes_nothing(
    tracker: SqliteTrackerStore,
) -> None:
    model = FixedScoreModel(np.array([0.1, 0.9, 0.2]))
    with Run("eval-test", "bad", tracker=tracker) as run, pytest.raises(ValidationError) as err:
        ModelEvaluator().evaluate_model(model, _index(3), [0, 1], run=run)
    assert err.value.field == "y_pred_proba"
    detail = tracker.get_run(run.run_id)
    assert detail.metrics == {} and detail.artifacts == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"threshold_accuracy": 1.5}, "threshold_accuracy"),
        ({"warn_accuracy": -0.1}, "warn_accuracy"),
        ({"n_bootstrap": 0}, "n_bootstrap"),
        ({"ci_level": 0}, "ci_level"),
        ({"target_fpr": 0}, "target_fpr"),
    ],
)
def test_evaluator_settings_are_validated(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        ModelEvaluator(**kwargs)
    assert err.value.field == field


def test_amount_column_feeds_the_cost_curve() -> None:
    import pandas as pd

    y = np.array([1, 0, 1, 0] * 10)
    X = pd.DataFrame({"row": np.arange(40), "Amount": [1000.0, 5.0, 2.0, 1.0] * 10})
    score = np.array([0.9, 0.7, 0.5, 0.1] * 10)

    class ByRow(FixedScoreModel):
        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            return super().predict_proba(X[["row"]].to_numpy())

    ev = ModelEvaluator(
        warn_accuracy=0.5, n_bootstrap=10, fn_cost=1.0, fp_cost=3.0, amount_column="Amount"
    )
    result = ev.evaluate_model(ByRow(score), X, y)
    assert result["cost"]["threshold"] == pytest.approx(0.9)
    with pytest.raises(ValidationError) as err:
        ModelEvaluator(amount_column="amt").evaluate_model(ByRow(score), X, y)
    assert err.value.field == "amount_column"
