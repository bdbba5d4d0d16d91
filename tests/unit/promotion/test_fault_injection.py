"""Fail each AWS call of a promotion in turn: production must stay byte-identical.

The promotion under test has a config already in production and triggers the
pipeline, so every step of the path runs. ``MATRIX`` lists the calls in order
with the step each belongs to; the test first checks a clean promotion makes
exactly these calls, then fails each one.
"""

from __future__ import annotations

import json
import time

import pytest
from promotion_env import BUCKET, AwsEnv, failing, make_run

from fraud_jlab.errors import AccessDenied, AwsOperationError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

# (call, step it belongs to, phase): phase "plan" and "pre" fail before anything is
# written; "backup" after the lock but before production changes; "apply" after;
# "index" the ledger index entry written after the final record (a cache: its
# failure is logged and the promotion stands).
MATRIX: list[tuple[str, str, str]] = [
    ("ssm.GetParameters", "read_parameters", "plan"),
    ("s3.GetObject", "read_config", "plan"),
    ("s3.PutObject", "acquire_lock", "pre"),
    ("s3.PutObject", "name_lock", "pre"),
    ("ssm.GetParameters", "read_parameters", "pre"),
    ("s3.GetObject", "read_config", "pre"),
    ("s3.PutObject", "backup_parameters", "backup"),
    ("s3.PutObject", "backup_config", "backup"),
    ("s3.PutObject", "ledger_attempt", "backup"),
    ("ssm.GetParameters", "staleness_check", "backup"),
    ("s3.HeadObject", "staleness_check", "backup"),
    ("ssm.PutParameter", "put_parameter:objective", "apply"),
    ("ssm.PutParameter", "put_parameter:num_round", "apply"),
    ("ssm.PutParameter", "put_parameter:max_depth", "apply"),
    ("ssm.PutParameter", "put_parameter:eta", "apply"),
    ("ssm.PutParameter", "put_parameter:subsample", "apply"),
    ("ssm.PutParameter", "put_parameter:colsample_bytree", "apply"),
    ("s3.PutObject", "write_config", "apply"),
    ("s3.PutObject", "archive_config", "apply"),
    ("stepfunctions.StartExecution", "trigger_pipeline", "apply"),
    ("s3.PutObject", "ledger_record", "apply"),
    ("s3.ListObjectsV2", "ledger_index", "index"),
    ("s3.GetObject", "ledger_index", "index"),
    ("s3.PutObject", "ledger_index", "index"),
    ("s3.DeleteObject", "release_lock", "done"),
]


def _ledger_keys(env: AwsEnv) -> set[str]:
    return {k for k in env.key_set() if k.startswith("promotions/") and k.count("/") == 1}


def _setup(env: AwsEnv, tracker: SqliteTrackerStore) -> tuple[ProductionIntegrator, str]:
    integ = ProductionIntegrator(env.settings, tracker=tracker, **env.clients())
    first = make_run(
        tracker,
        params={
            "max_depth": "3",
            "eta": "0.3",
            "num_round": "50",
            "subsample": "1.0",
            "colsample_bytree": "1.0",
        },
    )
    integ.promote_run(first, approver="alice", reason="baseline")
    return integ, make_run(tracker)


def test_clean_promotion_makes_exactly_the_matrix_calls(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate = _setup(aws_env, tracker)
    recorder = failing(0, aws_env)
    integ.promote_run(candidate, approver="bob", reason="better", trigger_pipeline=True)
    assert recorder.calls == [call for call, _, _ in MATRIX]


def test_failing_each_call_leaves_production_byte_identical(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate = _setup(aws_env, tracker)
    # One try per call here: retries of the restore/release are tested separately below.
    integ.lock.release_delays = ()
    timings: list[float] = []
    for n, (call, step, phase) in enumerate(MATRIX, start=1):
        # Given production as it is now
        ssm_before = aws_env.ssm_values()
        config_before = aws_env.config_bytes()
        ledger_before = _ledger_keys(aws_env)
        injector = failing(n, aws_env)
        started = time.perf_counter()
        # When call n fails
        try:
            integ.promote_run(
                candidate, approver="bob", reason=f"fail call {n}", trigger_pipeline=True
            )
            raised: Exception | None = None
        except (AwsOperationError, AccessDenied) as exc:
            raised = exc
        timings.append(time.perf_counter() - started)
        injector.detach(aws_env.s3, aws_env.ssm, aws_env.sfn)
        assert injector.failed == call, (n, injector.calls)
        new_records = {
            k: json.loads(aws_env.read(k)) for k in _ledger_keys(aws_env) - ledger_before
        }
        if phase == "done":
            # The promotion committed before the lock release failed: the lock stays until it expires.
            assert raised is None
            assert [r["status"] for r in new_records.values()] == ["completed"]
            assert LOCK_KEY in aws_env.key_set()
            aws_env.s3.delete_object(Bucket=BUCKET, Key=LOCK_KEY)
            continue
        if phase == "index":
            assert raised is None
            assert [r["status"] for r in new_records.values()] == ["completed"]
            assert LOCK_KEY not in aws_env.key_set()
            listed = [r.promotion_id for r in integ.list_promotions(max_results=1).promotions]
            assert listed == [r["promotion_id"] for r in new_records.values()]
            # backfill the missing entry so the next attempt makes the same calls
            integ.ledger.write_index(integ.ledger.get(listed[0]))
            continue
        # Then production is byte-identical and the error says so
        assert raised is not None, (n, call)
        assert "production unchanged" in str(raised).lower(), str(raised)
        assert aws_env.ssm_values() == ssm_before, (n, step)
        assert aws_env.config_bytes() == config_before, (n, step)
        assert LOCK_KEY not in aws_env.key_set(), (n, step)
        if phase in ("plan", "pre"):
            assert new_records == {}, (n, step)
            continue
        assert isinstance(raised, AwsOperationError) and raised.step == step
        assert raised.aws_error_code == "InternalError" and raised.production_unchanged is True
        [record] = new_records.values()
        assert record["status"] == "rolled_back" and record["failed_step"] == step, record
        objects = aws_env.key_set()
        if step != "backup_parameters":
            assert record["parameter_store_backup_key"] in objects
        if step not in ("backup_parameters", "backup_config"):
            assert record["config_file_backup_key"] in objects
        if phase == "apply":
            pid = record["promotion_id"]
            assert f"promotions/{pid}/attempt.json" in objects
            assert aws_env.read(record["config_file_backup_key"]) == config_before
    print("fault-injection timings (s):", [round(t, 3) for t in timings])


def test_started_pipeline_is_stopped_when_the_tracker_event_fails(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    integ, candidate = _setup(aws_env, tracker)
    ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tracker, "log_event", broken)
    with pytest.raises(AwsOperationError, match="tracker_event") as info:
        integ.promote_run(candidate, approver="bob", reason="x", trigger_pipeline=True)
    assert "Production unchanged" in str(info.value)
    assert aws_env.ssm_values() == ssm_before and aws_env.config_bytes() == config_before
    monkeypatch.undo()
    [record] = [r for r in integ.list_promotions().promotions if r.status == "rolled_back"]
    assert record.failed_step == "tracker_event" and record.pipeline_status == "ABORTED"
    status = aws_env.sfn.describe_execution(executionArn=record.pipeline_execution_arn)["status"]
    assert status == "ABORTED"


def test_failed_restore_is_reported_with_what_is_left(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate = _setup(aws_env, tracker)
    integ.retry_sleep = lambda _s: None
    # Fail put_parameter:max_depth (call 14) and every try of the first restore write
    # (calls 16-18: 15 is the restore read, 16 restores objective, 17 and 18 retry it).
    failing({14, 16, 17, 18}, aws_env)
    with pytest.raises(AwsOperationError) as info:
        integ.promote_run(candidate, approver="bob", reason="x")
    message = str(info.value)
    assert "Restore INCOMPLETE" in message and "parameter-store-backups/backup-" in message
    assert info.value.production_unchanged is False
    [record] = [r for r in integ.list_promotions().promotions if r.status != "completed"]
    assert record.status == "failed" and record.failed_step == "put_parameter:max_depth"


def test_access_denied_names_permission_and_backup(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate = _setup(aws_env, tracker)
    ssm_before = aws_env.ssm_values()
    failing(14, aws_env, code="AccessDeniedException")
    with pytest.raises(AccessDenied) as info:
        integ.promote_run(candidate, approver="bob", reason="x")
    message = str(info.value)
    assert "ssm:PutParameter" in message and "parameter-store-backups/backup-" in message
    assert "Production unchanged" in message
    assert aws_env.ssm_values() == ssm_before
