"""A promotion whose process dies mid-way: unfinished_attempts() and recover()."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from promotion_env import BUCKET, AwsEnv, make_run

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ConflictError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY
from fraud_jlab.promotion.recovery import RECOVERY_GRACE_SECONDS
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

BASELINE = {
    "max_depth": "3",
    "eta": "0.3",
    "num_round": "50",
    "subsample": "1.0",
    "colsample_bytree": "1.0",
}


class ProcessDied(KeyboardInterrupt):
    """Stands for kill -9: a BaseException the transaction does not catch."""


def _die_after_puts(env: AwsEnv, k: int) -> None:
    """The process "dies" at the (k+1)-th SSM put; its lock release never happens."""
    count = {"puts": 0}

    def on_put(**_: Any) -> None:
        count["puts"] += 1
        if count["puts"] > k:
            raise ProcessDied()

    def on_delete(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == LOCK_KEY:
            raise ProcessDied()

    env.ssm.meta.events.register("before-call.ssm.PutParameter", on_put)
    env.s3.meta.events.register("before-parameter-build.s3.DeleteObject", on_delete)


def _later(seconds: float) -> Any:
    return lambda: datetime.now(timezone.utc) + timedelta(seconds=seconds)


@pytest.fixture
def died(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> dict[str, Any]:
    first = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    baseline = first.promote_run(
        make_run(tracker, params=BASELINE), approver="alice", reason="base"
    )
    ssm_before = aws_env.ssm_values()
    config_before = aws_env.config_bytes()
    # a promotion on clients of its own, whose process dies after 3 of 6 SSM puts
    dying_clients = aws_env.new_clients()
    dying_env = AwsEnv(
        s3=dying_clients["s3_client"],
        ssm=dying_clients["ssm_client"],
        sfn=dying_clients["sfn_client"],
        settings=aws_env.settings,
    )
    _die_after_puts(dying_env, 3)
    dying = ProductionIntegrator(aws_env.settings, tracker=tracker, **dying_clients)
    candidate = make_run(tracker)
    with pytest.raises(ProcessDied):
        dying.promote_run(candidate, approver="bob", reason="better")
    return {
        "ssm_before": ssm_before,
        "config_before": config_before,
        "baseline": baseline,
        "candidate": candidate,
    }


def test_dead_promotion_is_recovered_exactly(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, died: dict[str, Any]
) -> None:
    # Given production half-written: 3 of 6 parameters changed, the lock held, the attempt open
    changed = [p for p, v in aws_env.ssm_values().items() if died["ssm_before"][p] != v]
    # (objective, num_round, max_depth were put; objective's value did not change)
    assert sorted(p.rsplit("/", 1)[1] for p in changed) == ["max_depth", "num_round"]
    assert LOCK_KEY in aws_env.key_set()
    attempts = [k for k in aws_env.key_set() if k.endswith("/attempt.json")]
    assert len(attempts) == 2  # the baseline's (finished) and the dead one
    dead_id = max(attempts).split("/")[1]

    # Within the grace period the attempt may still be alive: not reported
    soon = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    assert soon.unfinished_attempts() == []

    # After the grace period a fresh process sees it, and GET production reports it
    integ = ProductionIntegrator(
        aws_env.settings,
        tracker=tracker,
        clock=_later(RECOVERY_GRACE_SECONDS + 5),
        **aws_env.new_clients(),
    )
    [attempt] = integ.unfinished_attempts()
    assert attempt.promotion_id == dead_id and attempt.approver == "bob"
    assert attempt.run_id == died["candidate"] and "never finished" in attempt.message
    view = integ.current_production()
    assert [u.promotion_id for u in view.unfinished] == [dead_id]
    # The lock still names the dead attempt: a normal promotion is refused meanwhile
    with pytest.raises(ConflictError):
        soon.promote_run(make_run(tracker), approver="carol", reason="x")

    # When recovered
    records = integ.recover(approver="ops", reason="server killed mid-promotion")

    # Then all six values and the config are exactly as before, the lock is released
    assert aws_env.ssm_values() == died["ssm_before"]
    assert aws_env.config_bytes() == died["config_before"]
    assert LOCK_KEY not in aws_env.key_set()
    final, recovery = records
    assert final.promotion_id == dead_id and final.status == "rolled_back"
    assert final.failed_step == "process_died" and "restored and verified" in (final.error or "")
    stored = json.loads(aws_env.read(f"promotions/{dead_id}.json"))
    assert stored["status"] == "rolled_back"
    assert recovery.kind == "recovery" and recovery.status == "completed"
    assert recovery.approver == "ops" and recovery.reason == "server killed mid-promotion"
    assert recovery.rollback_of == dead_id
    assert recovery.after.ssm == died["ssm_before"]
    assert integ.unfinished_attempts() == []
    assert integ.current_production().unfinished == []
    assert integ.current_production().promotion == died["baseline"]

    # And the next promotion succeeds, recording the true state before it
    nxt = soon.promote_run(died["candidate"], approver="carol", reason="again")
    assert nxt.status == "completed"
    assert nxt.before.ssm == died["ssm_before"]
    listed = [r.promotion_id for r in soon.list_promotions().promotions]
    # (the recovering integrator's clock runs ahead, so only the set is compared)
    assert set(listed[:3]) == {nxt.promotion_id, recovery.promotion_id, dead_id}


def test_third_party_value_is_left_and_reported(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, died: dict[str, Any]
) -> None:
    path = "/fraud-detection/hyperparameters/objective"
    aws_env.ssm.put_parameter(Name=path, Value="someone-else", Type="String", Overwrite=True)
    integ = ProductionIntegrator(
        aws_env.settings,
        tracker=tracker,
        clock=_later(RECOVERY_GRACE_SECONDS + 5),
        **aws_env.new_clients(),
    )
    final, recovery = integ.recover(approver="ops", reason="killed")
    assert aws_env.ssm_values()[path] == "someone-else"
    assert final.status == "failed" and path in (final.error or "")
    assert recovery.status == "failed"
    others = {p: v for p, v in aws_env.ssm_values().items() if p != path}
    assert others == {p: v for p, v in died["ssm_before"].items() if p != path}
    assert aws_env.config_bytes() == died["config_before"]
    assert LOCK_KEY not in aws_env.key_set()
    assert integ.unfinished_attempts() == []


def test_recover_with_nothing_unfinished_writes_nothing(
    aws_env: AwsEnv, integrator: ProductionIntegrator
) -> None:
    before = aws_env.key_set()
    assert integrator.recover(approver="ops", reason="check") == []
    assert aws_env.key_set() == before
    assert BUCKET


def _age_lock(env: AwsEnv) -> None:
    """Make the dead attempt's lock older than the grace period (as time passing would)."""
    lock = json.loads(env.read(LOCK_KEY))
    lock["acquired_at"] = (
        datetime.now(timezone.utc) - timedelta(seconds=RECOVERY_GRACE_SECONDS + 5)
    ).isoformat()
    env.s3.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(lock).encode())


def test_start_up_check_logs_a_warning_and_never_raises(
    aws_env: AwsEnv,
    tracker: SqliteTrackerStore,
    died: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from fraud_jlab.server.extension import check_unfinished, start_unfinished_check

    _age_lock(aws_env)
    log = logging.getLogger("test-start-up")
    with caplog.at_level(logging.INFO, logger="test-start-up"):
        start_unfinished_check(aws_env.settings, tracker, log).join(timeout=30)
    assert any("never finished" in r.getMessage() for r in caplog.records)
    assert check_unfinished(aws_env.settings, tracker, log) == 1

    class Broken:
        def warning(self, *a: Any) -> None:
            raise AssertionError("not reached")

        def info(self, *a: Any) -> None:
            self.logged = a

    broken = Broken()
    bad = FraudJlab(config_bucket="no-such-bucket")
    assert check_unfinished(bad, tracker, broken) == 0
    assert "could not check" in broken.logged[0]


def test_cli_recover(
    aws_env: AwsEnv,
    tracker: SqliteTrackerStore,
    died: dict[str, Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fraud_jlab.config import set_settings
    from fraud_jlab.demo.cli import main

    monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "sqlite:///" + str(tmp_path / "cli.db"))
    set_settings(None)
    try:
        assert main(["recover", "--reason", "check", "--check"]) == 0  # within the grace
        _age_lock(aws_env)
        assert main(["recover", "--reason", "check", "--check"]) == 1
        assert aws_env.ssm_values() != died["ssm_before"]
        assert main(["recover", "--reason", "killed", "--approver", "ops"]) == 0
    finally:
        set_settings(None)
    out = capsys.readouterr().out
    assert "never finished" in out and "recovery" in out and "rolled_back" in out
    assert aws_env.ssm_values() == died["ssm_before"]
    assert aws_env.config_bytes() == died["config_before"]
