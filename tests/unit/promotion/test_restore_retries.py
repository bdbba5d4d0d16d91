"""A failing restore or lock release is retried; what cannot be restored is named exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from promotion_env import BUCKET, AwsEnv, make_run

from fraud_jlab.errors import AwsOperationError, ConflictError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.promotion.store import CONFIG_KEY
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

Predicate = Callable[[str, dict[str, Any]], bool]


class FailWhen:
    """Raise InternalError on calls matching a predicate on their API parameters.

    ``times`` bounds how many calls a rule fails (None: all). Registered on
    ``before-parameter-build``, where ``params`` are the API call's arguments.
    """

    def __init__(self, *rules: tuple[Predicate, int | None]) -> None:
        self.rules = [[pred, times] for pred, times in rules]
        self.failed: list[str] = []

    def attach(self, env: AwsEnv) -> FailWhen:
        for client in (env.s3, env.ssm, env.sfn):
            client.meta.events.register("before-parameter-build.*.*", self._handler)
        return self

    def detach(self, env: AwsEnv) -> None:
        for client in (env.s3, env.ssm, env.sfn):
            client.meta.events.unregister("before-parameter-build.*.*", self._handler)

    def _handler(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        call = f"{model.service_model.service_name}.{model.name}"
        for rule in self.rules:
            pred, times = rule
            if (times is None or times > 0) and pred(call, params):
                if times is not None:
                    rule[1] = times - 1
                self.failed.append(call)
                raise ClientError(
                    {"Error": {"Code": "InternalError", "Message": "injected"}}, model.name
                )


def _config_write(call: str, params: dict[str, Any]) -> bool:
    return call == "s3.PutObject" and params.get("Key") == CONFIG_KEY


def _put_param(path: str | None = None) -> Predicate:
    def pred(call: str, params: dict[str, Any]) -> bool:
        return call == "ssm.PutParameter" and (path is None or params.get("Name") == path)

    return pred


class _AfterConfigWrite:
    """Arms ``inner`` only once the config write has been attempted (i.e. in the restore)."""

    def __init__(self, inner: Predicate) -> None:
        self.inner = inner
        self.armed = False

    def __call__(self, call: str, params: dict[str, Any]) -> bool:
        if _config_write(call, params) and not self.armed:
            self.armed = True
            return False
        return self.armed and self.inner(call, params)


def _setup(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> tuple[ProductionIntegrator, str, list[float]]:
    integ = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    sleeps: list[float] = []
    integ.retry_sleep = sleeps.append
    integ.lock.sleep = sleeps.append
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
    return integ, make_run(tracker), sleeps


def _changed_paths(integ: ProductionIntegrator, candidate: str, before: dict[str, str]) -> set[str]:
    plan = integ.promote_run(candidate, approver="bob", reason="x", dry_run=True)
    assert not isinstance(plan, PromotionRecord)
    return {d.path for d in plan.diff.ssm if d.changed and before.get(d.path) is not None}


def test_config_write_and_first_restore_put_fail_production_is_restored(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate, sleeps = _setup(aws_env, tracker)
    ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()
    assert len(_changed_paths(integ, candidate, ssm_before)) >= 2
    # The config write fails once, then the first restore put fails once.
    # (The arming rule comes first so that it sees the config write.)
    injector = FailWhen((_AfterConfigWrite(_put_param()), 1), (_config_write, 1)).attach(aws_env)
    with pytest.raises(AwsOperationError) as info:
        integ.promote_run(candidate, approver="bob", reason="x")
    injector.detach(aws_env)
    assert injector.failed == ["s3.PutObject", "ssm.PutParameter"]
    assert info.value.production_unchanged is True and info.value.step == "write_config"
    assert "Production unchanged" in str(info.value)
    assert aws_env.ssm_values() == ssm_before and aws_env.config_bytes() == config_before
    assert sleeps == [0.05]
    [record] = [r for r in integ.list_promotions().promotions if r.status != "completed"]
    assert record.status == "rolled_back" and record.failed_step == "write_config"
    assert LOCK_KEY not in aws_env.key_set()


def test_permanently_failing_restore_lists_exactly_the_paths_left_changed(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate, sleeps = _setup(aws_env, tracker)
    ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()
    changed = sorted(_changed_paths(integ, candidate, ssm_before))
    stuck, restorable = changed[0], changed[1:]
    injector = FailWhen((_AfterConfigWrite(_put_param(stuck)), None), (_config_write, 1)).attach(
        aws_env
    )
    with pytest.raises(AwsOperationError) as info:
        integ.promote_run(candidate, approver="bob", reason="x")
    injector.detach(aws_env)
    message = str(info.value)
    assert info.value.production_unchanged is False and "Restore INCOMPLETE" in message
    assert f"left changed (differ from before): {stuck}." in message, message
    assert f"restoring {stuck} failed (InternalError)" in message
    for path in restorable:
        assert path not in message
    # Every other step was still tried: only the stuck path differs.
    now = aws_env.ssm_values()
    assert {p for p in ssm_before if now.get(p) != ssm_before[p]} == {stuck}
    assert aws_env.config_bytes() == config_before
    assert injector.failed.count("ssm.PutParameter") == 3 and sleeps == [0.05, 0.2]
    [record] = [r for r in integ.list_promotions().promotions if r.status != "completed"]
    assert record.status == "failed" and record.error == message


def _lock_delete(call: str, params: dict[str, Any]) -> bool:
    return call == "s3.DeleteObject" and params.get("Key") == LOCK_KEY


def test_failed_lock_release_is_retried(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> None:
    integ, candidate, sleeps = _setup(aws_env, tracker)
    injector = FailWhen((_lock_delete, 1)).attach(aws_env)
    record = integ.promote_run(candidate, approver="bob", reason="x")
    injector.detach(aws_env)
    assert isinstance(record, PromotionRecord) and record.status == "completed"
    assert injector.failed == ["s3.DeleteObject"] and sleeps == [0.05]
    assert LOCK_KEY not in aws_env.key_set()


def test_own_stale_lock_of_a_finished_promotion_is_taken_over(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate, sleeps = _setup(aws_env, tracker)
    injector = FailWhen((_lock_delete, None)).attach(aws_env)
    done = integ.promote_run(candidate, approver="bob", reason="x")
    injector.detach(aws_env)
    assert isinstance(done, PromotionRecord) and sleeps == [0.05, 0.2]
    lock = json.loads(aws_env.read(LOCK_KEY))
    assert lock["holder"] == "bob" and lock["promotion_id"] == done.promotion_id
    # Someone else still waits for the expiry ...
    with pytest.raises(ConflictError, match="held by bob"):
        integ.promote_run(make_run(tracker), approver="carol", reason="y")
    # ... but bob's next attempt reclaims his own lock of a finished promotion.
    again = integ.promote_run(make_run(tracker), approver="bob", reason="z")
    assert isinstance(again, PromotionRecord) and again.status == "completed"
    assert LOCK_KEY not in aws_env.key_set()


def test_own_lock_of_an_unfinished_promotion_is_not_taken_over(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, candidate, _ = _setup(aws_env, tracker)
    expires = datetime.now(timezone.utc) + timedelta(minutes=10)
    body = {
        "holder": "bob",
        "promotion_id": "01J0000000000000000000000X",
        "token": "t",
        "acquired_at": datetime.now(timezone.utc).isoformat(),
        "expires_at": expires.isoformat(),
    }
    aws_env.s3.put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(body).encode())
    with pytest.raises(ConflictError, match="held by bob"):
        integ.promote_run(candidate, approver="bob", reason="x")
    assert json.loads(aws_env.read(LOCK_KEY)) == body
