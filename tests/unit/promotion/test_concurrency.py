"""One promotion at a time: concurrent promotions, stale state, expired locks."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from moto.s3.responses import S3Response
from promotion_env import BUCKET, AwsEnv, make_run

from fraud_jlab.errors import ConflictError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY, PromotionLock
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PARAMS = {"eta": "0.2", "num_round": "100", "subsample": "0.9", "colsample_bytree": "0.8"}


@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make moto's conditional put/delete atomic, as S3 guarantees.

    moto checks ``If-None-Match``/``If-Match`` and then writes in two Python
    steps, so two threads can both pass the check; S3 itself does not allow that.
    """
    guard = threading.Lock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with guard:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(S3Response, name, atomic)
    yield


def test_twenty_concurrent_promotions_run_one_at_a_time(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, atomic_conditional_writes: None
) -> None:
    # Given 20 runs that differ in max_depth, each promoted by its own integrator and clients
    runs = [make_run(tracker, params=PARAMS | {"max_depth": str(d)}) for d in range(1, 21)]
    integrators = [
        ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.new_clients())
        for _ in runs
    ]
    held: list[tuple[float, float]] = []
    for integ in integrators:
        _record_lock_intervals(integ, held)
    barrier = threading.Barrier(len(runs))
    outcomes: dict[str, Any] = {}

    def promote(i: int) -> None:
        barrier.wait()
        try:
            outcomes[runs[i]] = integrators[i].promote_run(
                runs[i], approver=f"user{i}", reason="race"
            )
        except Exception as exc:
            outcomes[runs[i]] = exc

    started = time.perf_counter()
    threads = [threading.Thread(target=promote, args=(i,)) for i in range(len(runs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    # Then: successes never overlapped, the rest got ConflictError, nothing else
    completed = [o for o in outcomes.values() if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes.values() if isinstance(o, ConflictError)]
    assert len(completed) >= 1 and len(completed) + len(conflicts) == len(runs), outcomes
    assert all("held by user" in str(c) or "took" in str(c) for c in conflicts)
    spans = sorted(held)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans)), spans
    # every final SSM value comes from the run of the newest completed ledger record
    last = next(r for r in integrators[0].list_promotions().promotions if r.status == "completed")
    expected = {aws_env.settings.ssm_prefix + k: v for k, v in last.hyperparameters.items()}
    assert aws_env.ssm_values() == expected
    assert LOCK_KEY not in aws_env.key_set()
    print(
        f"20 concurrent promotions: {len(completed)} completed, {len(conflicts)} conflicts, {elapsed:.2f}s"
    )


def _record_lock_intervals(integ: ProductionIntegrator, held: list[tuple[float, float]]) -> None:
    acquire, release = integ.lock.acquire, integ.lock.release
    taken: dict[str, float] = {}

    def timed_acquire(holder: str, promotion_id: str | None = None) -> Any:
        lease = acquire(holder, promotion_id)
        taken[lease.token] = time.perf_counter()
        return lease

    def timed_release(lease: Any) -> bool:
        end = time.perf_counter()  # recorded before the delete: the lock is still ours here
        result = release(lease)
        held.append((taken[lease.token], end))
        return result

    integ.lock.acquire = timed_acquire  # type: ignore[method-assign]
    integ.lock.release = timed_release  # type: ignore[method-assign]


def test_ssm_changed_between_backup_and_write_is_a_conflict(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    integ.promote_run(make_run(tracker), approver="alice", reason="baseline")
    path = aws_env.settings.ssm_prefix + "max_depth"
    other = aws_env.new_clients()["ssm_client"]

    def someone_else_writes(params: dict[str, Any], **_: Any) -> None:
        if params["url_path"].endswith("/attempt.json"):
            other.put_parameter(Name=path, Value="11", Type="String", Overwrite=True)

    aws_env.s3.meta.events.register("before-call.s3.PutObject", someone_else_writes)
    ssm_now, config_now = aws_env.ssm_values(), aws_env.config_bytes()
    with pytest.raises(ConflictError, match="max_depth") as info:
        integ.promote_run(
            make_run(tracker, params=PARAMS | {"max_depth": "4"}), approver="bob", reason="x"
        )
    aws_env.s3.meta.events.unregister("before-call.s3.PutObject", someone_else_writes)
    assert "Production unchanged" in str(info.value)
    # Nothing of ours was written: only the other writer's change is there
    assert aws_env.ssm_values() == ssm_now | {path: "11"}
    assert aws_env.config_bytes() == config_now
    record = integ.list_promotions().promotions[0]
    assert record.status == "rolled_back" and record.failed_step == "staleness_check"


def test_config_changed_by_someone_else_is_a_conflict(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    integ.promote_run(make_run(tracker), approver="alice", reason="baseline")
    other = aws_env.new_clients()["s3_client"]

    def someone_else_writes(params: dict[str, Any], **_: Any) -> None:
        if params["url_path"].endswith("/attempt.json"):
            other.put_object(Bucket=BUCKET, Key="production-model-config.yaml", Body=b"model: {}\n")

    aws_env.s3.meta.events.register("before-call.s3.PutObject", someone_else_writes)
    ssm_now = aws_env.ssm_values()
    with pytest.raises(ConflictError, match=r"production-model-config\.yaml"):
        integ.promote_run(
            make_run(tracker, params=PARAMS | {"max_depth": "4"}), approver="bob", reason="x"
        )
    aws_env.s3.meta.events.unregister("before-call.s3.PutObject", someone_else_writes)
    assert aws_env.ssm_values() == ssm_now
    assert aws_env.config_bytes() == b"model: {}\n"


def test_held_lock_is_a_conflict_naming_holder_and_expiry(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    lease = integ.lock.acquire("carol")
    keys, ssm = aws_env.key_set(), aws_env.ssm_values()
    with pytest.raises(ConflictError, match="held by carol") as info:
        integ.promote_run(make_run(tracker), approver="bob", reason="x")
    assert lease.expires_at.isoformat() in str(info.value)
    assert aws_env.key_set() == keys and aws_env.ssm_values() == ssm
    assert integ.lock.release(lease)


def test_expired_lock_is_taken_over(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> None:
    crashed = PromotionLock(
        aws_env.s3, BUCKET, lambda: datetime.now(timezone.utc) - timedelta(hours=2), ttl_seconds=900
    )
    crashed.acquire("crashed-process")
    integ = ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
    record = integ.promote_run(make_run(tracker), approver="bob", reason="after crash")
    assert record.status == "completed"
    assert LOCK_KEY not in aws_env.key_set()


def test_two_takers_of_one_expired_lock_cannot_both_win(aws_env: AwsEnv) -> None:
    past = PromotionLock(
        aws_env.s3, BUCKET, lambda: datetime.now(timezone.utc) - timedelta(hours=2), ttl_seconds=60
    )
    past.acquire("crashed-process")
    a = PromotionLock(aws_env.s3, BUCKET, lambda: datetime.now(timezone.utc), ttl_seconds=60)
    b = PromotionLock(aws_env.s3, BUCKET, lambda: datetime.now(timezone.utc), ttl_seconds=60)
    stale_view = b._read()  # B reads the expired lock ...
    lease = a.acquire("a")  # ... A takes it over first ...
    b._read = lambda: stale_view  # type: ignore[method-assign]
    with pytest.raises(ConflictError, match="took over"):  # ... so B's replace (IfMatch) fails
        b.acquire("b")
    assert a.release(lease)


def test_concurrent_promotions_that_retry_all_complete_in_turn(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, atomic_conditional_writes: None
) -> None:
    runs = [make_run(tracker, params=PARAMS | {"max_depth": str(d)}) for d in range(1, 6)]
    integrators = [
        ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.new_clients())
        for _ in runs
    ]
    held: list[tuple[float, float]] = []
    for integ in integrators:
        _record_lock_intervals(integ, held)
    errors: list[Exception] = []

    def promote(i: int) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                integrators[i].promote_run(runs[i], approver=f"user{i}", reason="retry until done")
                return
            except ConflictError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
            except Exception as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=promote, args=(i,)) for i in range(len(runs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    spans = sorted(held)
    assert len(spans) == len(runs)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans)), spans
    records = integrators[0].list_promotions().promotions
    assert sorted(r.run_id for r in records) == sorted(runs)
    assert all(r.status == "completed" for r in records)
    # Each promotion saw the previous one's state as its "before": the chain is unbroken.
    chain = list(reversed(records))
    for prev, nxt in itertools.pairwise(chain):
        assert nxt.before.ssm == prev.after.ssm
    expected = {aws_env.settings.ssm_prefix + k: v for k, v in records[0].hyperparameters.items()}
    assert aws_env.ssm_values() == expected
