"""The promotion gates: floors on the fraud metrics, no skipped gate, paired comparison, force."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from evaluated_runs import N_POS, N_ROWS, SCORES, Y
from promotion_env import AwsEnv, make_run

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.evaluation.evaluator import LowAccuracyWarning
from fraud_jlab.evaluation.metrics import MetricWarning
from fraud_jlab.promotion import ProductionIntegrator, PromotionPlan, PromotionRecord
from fraud_jlab.promotion.gates import GatePolicy, change_words, evaluate_gates
from fraud_jlab.promotion.noninferiority import Unpaired
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


class FlagsNothing:
    """Calls every transaction legitimate: the same low score for every row."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.99, 0.01], (len(x), 1))


def _flags_nothing_run(tracker: SqliteTrackerStore) -> str:
    rng = np.random.default_rng(0)
    y = (rng.random(60_000) < 0.0017).astype(int)
    x = rng.normal(size=(y.size, 3))
    with Run("fraud-detection-optimization", "all-legit", tracker=tracker) as run:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetricWarning)
            warnings.simplefilter("ignore", LowAccuracyWarning)
            result = ModelEvaluator(n_bootstrap=50).evaluate_model(FlagsNothing(), x, y, run=run)
        run.log_parameters(
            {
                "max_depth": "6",
                "learning_rate": "0.1",
                "n_estimators": "200",
                "subsample": "0.8",
                "colsample_bytree": "0.9",
            }
        )
    assert result["metrics"]["accuracy"] > 0.99  # the trap: accuracy alone says "promote"
    return run.run_id


def test_a_model_that_flags_nothing_fails_the_gates(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    # Given an evaluated model that flags nothing (accuracy 0.998, AP = the fraud rate)
    run_id = _flags_nothing_run(tracker)
    run = tracker.get_run(run_id)
    assert run.metrics["holdout_fraud_rate"] == pytest.approx(
        run.metrics["holdout_n_pos"] / run.metrics["holdout_n_rows"]
    )

    # When it is planned with no production run recorded
    plan = integrator.promote_run(run_id, approver="bob", dry_run=True)

    # Then accuracy passes, but the AP and recall floors fail, so the plan fails
    assert isinstance(plan, PromotionPlan) and not plan.gates_passed
    by_name = {g.name: g for g in plan.gates}
    assert by_name["min_accuracy"].passed
    assert not by_name["average_precision_floor"].passed
    assert "3 x the holdout's fraud rate" in by_name["average_precision_floor"].detail
    assert not by_name["recall_at_fpr_floor"].passed
    assert by_name["average_precision_vs_production"].passed  # nothing in production yet
    with pytest.raises(ValidationError, match="average_precision_floor"):
        integrator.promote_run(run_id, approver="bob", reason="looks accurate")
    assert aws_env.ssm_values() == {}


def test_every_missing_metric_fails_its_gate() -> None:
    gates = evaluate_gates({"accuracy": 0.99}, production_run_id=None)
    assert [(g.name, g.passed) for g in gates] == [
        ("min_accuracy", True),
        ("average_precision_floor", False),
        ("recall_at_fpr_floor", False),
        ("average_precision_vs_production", True),
    ]
    assert "no average_precision metric" in gates[1].detail
    assert "no recall_at_fpr metric" in gates[2].detail
    # AP present but the holdout's fraud rate unknown: the floor cannot be checked
    gates = evaluate_gates({"accuracy": 0.99, "average_precision": 0.9, "recall_at_fpr": 0.8})
    assert not gates[1].passed and "does not record its holdout's fraud rate" in gates[1].detail
    # ... older runs carry it as tags
    gates = evaluate_gates(
        {"accuracy": 0.99, "average_precision": 0.9, "recall_at_fpr": 0.8},
        tags={"evaluation.n_positives": "20", "evaluation.n_rows": "10000"},
    )
    assert gates[1].passed and gates[1].n_pos == 20 and "0.002" in gates[1].detail


def test_recall_floor_needs_the_gate_false_positive_rate() -> None:
    metrics = {"accuracy": 0.99, "average_precision": 0.9, "recall_at_fpr": 0.8}
    gate = evaluate_gates(metrics, tags={"evaluation.target_fpr": "0.01"})[2]
    assert not gate.passed and "measured at FPR 0.01" in gate.detail
    gate = evaluate_gates(metrics, policy=GatePolicy(min_recall_at_fpr=0.85))[2]
    assert not gate.passed and "recall 0.8 at FPR 0.001 < required 0.85" in gate.detail


def test_change_wording_never_shows_a_negative_drop() -> None:
    assert change_words(0.011, 0.01) == "improves by 0.011"
    assert change_words(-0.011, 0.01) == "drops by 0.011 (allowed 0.01)"
    assert change_words(0.0, 0.01) == "is unchanged"


def test_unpaired_production_comparison_fails_saying_why() -> None:
    gate = evaluate_gates(
        {"accuracy": 0.99},
        production_run_id="P",
        paired=Unpaired("the two runs were not scored on the same rows (x)"),
    )[3]
    assert not gate.passed and "not scored on the same rows" in gate.detail


def test_runs_scored_on_different_rows_fail_and_force_is_recorded(
    tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    # Given production and a candidate evaluated on a different holdout
    first = make_run(tracker)
    integrator.promote_run(first, approver="alice", reason="baseline")
    other = make_run(tracker, params=None, scores=SCORES)
    tracker_identity = "0" * 64
    from evaluated_runs import log_evaluation

    log_evaluation(tracker, other, identity=tracker_identity)  # overwrite: other rows

    # When it is planned
    plan = integrator.promote_run(other, approver="bob", dry_run=True)

    # Then the production gate fails, saying the rows differ
    assert isinstance(plan, PromotionPlan) and not plan.gates_passed
    gate = plan.gates[3]
    assert "not scored on the same rows" in gate.detail

    # And force without a reason is refused; with one it is recorded as an override
    with pytest.raises(ValidationError, match="reason"):
        integrator.promote_run(other, approver="bob", force=True)
    record = integrator.promote_run(other, approver="bob", reason="new holdout", force=True)
    assert isinstance(record, PromotionRecord) and record.forced
    assert record.forced_gates == ["average_precision_vs_production"]
    stored = integrator.ledger_get(record.promotion_id)
    assert stored.forced_gates == ["average_precision_vs_production"]


def test_shared_holdout_fixture_is_a_useful_model() -> None:
    from fraud_jlab.evaluation.metrics import average_precision

    assert Y.size == N_ROWS and int(Y.sum()) == N_POS
    assert average_precision(Y, SCORES) > 0.5
