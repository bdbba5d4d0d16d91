"""Only a completed run is promotable without ``force``."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from promotion_env import GOOD_METRICS, GOOD_PARAMS, AwsEnv

from fraud_jlab.errors import ValidationError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


def _run(tracker: SqliteTrackerStore, status: str | None) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", "r", user="t", start_time=now)
    tracker.log_params(run_id, GOOD_PARAMS)
    tracker.log_metrics(run_id, GOOD_METRICS)
    if status is not None:
        tracker.end_run(run_id, status, end_time=now)  # type: ignore[arg-type]
    return run_id


@pytest.mark.parametrize("status", [None, "failed"])
def test_unfinished_or_failed_run_needs_force(
    aws_env: AwsEnv,
    tracker: SqliteTrackerStore,
    integrator: ProductionIntegrator,
    status: str | None,
) -> None:
    run_id = _run(tracker, status)
    keys = aws_env.key_set()
    with pytest.raises(ValidationError, match="run_status") as info:
        integrator.promote_run(run_id, approver="bob", reason="try")
    assert info.value.field == "gates"
    assert any("only a completed run" in e for e in info.value.errors)
    assert aws_env.key_set() == keys and aws_env.ssm_values() == {}
    record = integrator.promote_run(run_id, approver="bob", reason="hotfix", force=True)
    assert isinstance(record, PromotionRecord) and record.forced
    [gate] = [g for g in record.gates if g.name == "run_status"]
    assert not gate.passed and repr(status or "running") in gate.detail


def test_completed_run_passes_the_run_status_gate(
    tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    plan = integrator.promote_run(_run(tracker, "completed"), approver="b", dry_run=True)
    assert not isinstance(plan, PromotionRecord)
    [gate] = [g for g in plan.gates if g.name == "run_status"]
    assert gate.passed and plan.gates_passed
