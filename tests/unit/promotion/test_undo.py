"""Undo: rollback target "before" restores the state before a record, from its backups."""

from __future__ import annotations

import pytest
import yaml
from promotion_env import AwsEnv, make_run

from fraud_jlab.errors import ValidationError
from fraud_jlab.promotion import ProductionIntegrator, PromotionRecord
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PREFIX = "/fraud-detection/hyperparameters/"
DEEP = {
    "max_depth": "9",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}
PRE_EXISTING = {
    PREFIX + "objective": "binary:logistic",
    PREFIX + "num_round": "100",
    PREFIX + "max_depth": "5",
    PREFIX + "eta": "0.2",
    PREFIX + "subsample": "0.8",
    PREFIX + "colsample_bytree": "0.8",
}
LEGACY_CONFIG = b"model:\n  version: legacy-2025\n  approved_by: ops\n"


def _promote(integ: ProductionIntegrator, run_id: str) -> PromotionRecord:
    record = integ.promote_run(run_id, approver="alice", reason="r")
    assert isinstance(record, PromotionRecord)
    return record


def _legacy_production(env: AwsEnv) -> None:
    """Production as the pipeline had it before fraud_jlab ever ran."""
    for name, value in PRE_EXISTING.items():
        env.ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    env.s3.put_object(
        Bucket="fraud-detection-config", Key="production-model-config.yaml", Body=LEGACY_CONFIG
    )


def test_before_undoes_a_promotion_and_after_restores_it(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    # Given two promotions
    first = _promote(integrator, make_run(tracker))
    after_first, config_first = aws_env.ssm_values(), aws_env.config_bytes()
    second = _promote(integrator, make_run(tracker, params=DEEP))
    assert aws_env.ssm_values()[PREFIX + "max_depth"] == "9"

    # When the second is undone
    undo = integrator.rollback_to(
        second.promotion_id, approver="carol", reason="regressed", target="before"
    )

    # Then production is what it was before it (the first's state), recorded as an undo
    assert undo.kind == "rollback" and undo.status == "completed"
    assert undo.rollback_of == second.promotion_id and undo.rollback_target == "before"
    assert aws_env.ssm_values() == after_first
    assert yaml.safe_load(aws_env.config_bytes() or b"") == yaml.safe_load(config_first or b"")
    # And undoing the undo restores the second again; "after" is today's behaviour
    redo = integrator.rollback_to(undo.promotion_id, approver="carol", reason="x", target="before")
    assert aws_env.ssm_values()[PREFIX + "max_depth"] == "9" and redo.rollback_target == "before"
    again = integrator.rollback_to(first.promotion_id, approver="carol", reason="x")
    assert again.rollback_target == "after" and aws_env.ssm_values() == after_first


def test_the_pre_fraud_jlab_baseline_is_listed_and_restorable(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    # Given production set up by hand before fraud_jlab, then two promotions
    _legacy_production(aws_env)
    # (the legacy model is not a tracked run, so the paired gate cannot pass: forced)
    first = integrator.promote_run(
        make_run(tracker), approver="alice", reason="first tracked model", force=True
    )
    assert isinstance(first, PromotionRecord) and first.forced_gates == [
        "average_precision_vs_production"
    ]
    _promote(integrator, make_run(tracker, params=DEEP))

    # When the history is listed
    page = integrator.list_promotions()

    # Then its first page offers the state before the first promotion
    assert page.baseline is not None and page.baseline.promotion_id == first.promotion_id
    assert page.baseline.state.ssm == PRE_EXISTING
    assert page.baseline.state.config == yaml.safe_load(LEGACY_CONFIG)
    assert integrator.list_promotions(1, page.promotions[0].promotion_id).baseline is None

    # And restoring it brings back the legacy values and config, all-or-nothing
    record = integrator.rollback_to(
        page.baseline.promotion_id, approver="ops", reason="back to legacy", target="before"
    )
    assert record.status == "completed"
    assert aws_env.ssm_values() == PRE_EXISTING
    assert yaml.safe_load(aws_env.config_bytes() or b"") == yaml.safe_load(LEGACY_CONFIG)


def test_undoing_the_first_promotion_on_an_empty_account_removes_everything(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    first = _promote(integrator, make_run(tracker))
    integrator.rollback_to(first.promotion_id, approver="c", reason="r", target="before")
    assert aws_env.ssm_values() == {} and aws_env.config_bytes() is None


def test_bad_target_and_missing_backup_write_nothing(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    first = _promote(integrator, make_run(tracker))
    keys, ssm = aws_env.key_set(), aws_env.ssm_values()
    with pytest.raises(ValidationError) as info:
        integrator.rollback_to(first.promotion_id, approver="c", reason="r", target="later")  # type: ignore[arg-type]
    assert info.value.field == "target" and "'before'" in str(info.value)
    aws_env.s3.delete_object(Bucket="fraud-detection-config", Key=first.parameter_store_backup_key)
    keys.discard(first.parameter_store_backup_key)
    with pytest.raises(ValidationError, match=r"backup .* is missing"):
        integrator.rollback_to(first.promotion_id, approver="c", reason="r", target="before")
    assert aws_env.key_set() == keys and aws_env.ssm_values() == ssm
