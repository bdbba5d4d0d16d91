"""Finding and recovering promotions whose process died mid-way.

A promotion writes ``promotions/<id>/attempt.json`` (the record with
``status: in_progress``, the ``before`` state and the backup keys) before it
changes production, and its final record ``promotions/<id>.json`` after. A
process killed in between (kill -9, OOM, a lost container) leaves the attempt
without a final record, production possibly half-written and the lock held
until it expires.

An attempt is **unfinished** when it has no final record and its lock is not
held by a live holder, that is when the lock object is

- absent or expired;
- naming another promotion, or none yet (whoever holds it now took it after
  this attempt's process stopped holding it, so that process is gone); or
- naming this attempt's promotion id and taken more than
  :data:`RECOVERY_GRACE_SECONDS` ago. A promotion makes about 25 AWS calls,
  done in seconds even when each takes half a second; an attempt still
  holding the lock after the grace period is taken to be dead.

Recovery (:func:`recover_attempt`, run under the lock) restores the attempt's
``before`` state for every path that is still either the before value or the
attempt's after value (a third party's value is left alone and reported),
verifies, and writes the attempt's final record (``rolled_back``, or
``failed`` naming what is left) plus a ``recovery`` record naming who
recovered and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml

from fraud_jlab.errors import AwsOperationError
from fraud_jlab.promotion.ledger import LEDGER_PREFIX, PromotionLedger, check_promotion_id
from fraud_jlab.promotion.lock import LOCK_KEY, LockLease, PromotionLock
from fraud_jlab.promotion.models import ProductionState, PromotionRecord, UnfinishedAttempt
from fraud_jlab.promotion.store import (
    CONFIG_KEY,
    ProductionStore,
    aws_step,
    backup_document,
    dump_config,
    parse_backup,
)
from fraud_jlab.tracking.ids import new_id

#: Seconds after which a lock naming an unfinished attempt counts as left by a dead process.
RECOVERY_GRACE_SECONDS = 120


@dataclass
class LockInfo:
    """The lock object as read: its body fields and ETag (None when absent)."""

    info: dict[str, Any]
    etag: str


def read_lock(store: ProductionStore) -> LockInfo | None:
    body, etag = store.read_object("read_lock", LOCK_KEY)
    if body is None or etag is None:
        return None
    try:
        info = json.loads(body)
    except ValueError:
        info = {}
    return LockInfo(info if isinstance(info, dict) else {}, etag)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def lock_is_live_for(lock: LockInfo | None, promotion_id: str, now: datetime) -> bool:
    """True when ``lock`` may still be held by the live process of ``promotion_id``."""
    if lock is None:
        return False
    expires = _time(lock.info.get("expires_at"))
    if expires is None or expires <= now:
        return False
    if lock.info.get("promotion_id") != promotion_id:
        return False
    acquired = _time(lock.info.get("acquired_at"))
    return acquired is None or now - acquired < timedelta(seconds=RECOVERY_GRACE_SECONDS)


def attempt_ids_without_record(store: ProductionStore) -> list[str]:
    """Ids of every attempt with no final record, oldest first."""
    attempts: set[str] = set()
    records: set[str] = set()
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": store.bucket, "Prefix": LEDGER_PREFIX}
        if token:
            kwargs["ContinuationToken"] = token
        resp = aws_step("read_ledger", "s3", store.bucket, store.s3.list_objects_v2, **kwargs)
        for item in resp.get("Contents", []):
            name = item["Key"][len(LEDGER_PREFIX) :]
            if name.endswith("/attempt.json"):
                attempts.add(name.split("/", 1)[0])
            elif name.endswith(".json") and "/" not in name:
                records.add(name[:-5])
        token = resp.get("NextContinuationToken")
        if not resp.get("IsTruncated") or not token:
            break
    out = []
    for pid in sorted(attempts - records):
        try:
            out.append(check_promotion_id(pid))
        except ValueError:
            continue
    return out


def read_attempt(store: ProductionStore, promotion_id: str) -> PromotionRecord:
    """The attempt as a record (status ``rolled_back`` until recovery decides)."""
    body, _ = store.read_object("read_ledger", f"{LEDGER_PREFIX}{promotion_id}/attempt.json")
    data = json.loads(body or b"{}")
    data["status"] = "rolled_back"
    return PromotionRecord.model_validate(data)


def unfinished(
    store: ProductionStore, now: datetime
) -> list[tuple[PromotionRecord, LockInfo | None]]:
    pending = attempt_ids_without_record(store)
    if not pending:
        return []
    lock = read_lock(store)
    return [
        (read_attempt(store, pid), lock) for pid in pending if not lock_is_live_for(lock, pid, now)
    ]


def in_progress(store: ProductionStore, now: datetime) -> list[UnfinishedAttempt]:
    """Every attempt without a final record, newest first, live or not."""
    pending = attempt_ids_without_record(store)
    if not pending:
        return []
    lock = read_lock(store)
    out = []
    for pid in reversed(pending):
        live = lock_is_live_for(lock, pid, now)
        out.append(summary(read_attempt(store, pid), live=live))
    return out


def summary(record: PromotionRecord, *, live: bool = False) -> UnfinishedAttempt:
    who = f"Promotion {record.promotion_id} of run {record.run_id} by {record.approver} "
    started = record.timestamp.isoformat()
    message = (
        f"{who}is in progress (started {started})."
        if live
        else f"{who}started {started} and never finished (its process died); "
        "production may be half-written. Recover it to restore the state before it."
    )
    return UnfinishedAttempt(
        promotion_id=record.promotion_id,
        kind=record.kind,
        run_id=record.run_id,
        approver=record.approver,
        started=record.timestamp,
        message=message,
        live=live,
    )


def before_state(
    store: ProductionStore, attempt: PromotionRecord
) -> tuple[dict[str, str | None], bytes | None]:
    """The SSM values and exact config bytes before ``attempt`` (from its backups)."""
    ssm = dict(attempt.before.ssm)
    if attempt.parameter_store_backup_key:
        body, _ = store.read_object("read_backup", attempt.parameter_store_backup_key)
        if body is not None:
            ssm = parse_backup(body)
    config: bytes | None = None
    if attempt.config_file_backup_key:
        config, _ = store.read_object("read_backup", attempt.config_file_backup_key)
        if config is None:
            missing = f"s3://{store.bucket}/{attempt.config_file_backup_key}"
            raise AwsOperationError(
                f"Step 'read_backup': FileNotFoundError: {missing}",
                step="read_backup",
                aws_error_code="FileNotFoundError",
                service="s3",
            )
    elif attempt.before.config is not None:
        config = dump_config(attempt.before.config)
    return ssm, config


def _parsed(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return yaml.safe_load(body)
    except yaml.YAMLError:
        return object()


def restore(store: ProductionStore, attempt: PromotionRecord) -> list[str]:
    """Put back the before state where production still holds before/after values."""
    problems: list[str] = []
    want_ssm, want_config = before_state(store, attempt)
    after: ProductionState = attempt.after
    current, _ = store.read_parameters("recover_read")
    for path, want in want_ssm.items():
        now = current.get(path)
        if now == want:
            continue
        if path not in after.ssm or now != after.ssm.get(path):
            problems.append(f"{path} is {now!r}, changed by someone else; left as is")
        elif want is None:
            store.delete_parameter("recover_parameter", path)
        else:
            store.put_parameter("recover_parameter", path, want)
    body, etag = store.read_object("recover_read", CONFIG_KEY)
    if body != want_config:
        parsed = _parsed(body)
        is_after = body is not None and parsed == after.config
        if not is_after or etag is None:
            problems.append(
                f"s3://{store.bucket}/{CONFIG_KEY} was changed by someone else; left as is"
            )
        elif want_config is None:
            store.delete_config("recover_config", etag)
        else:
            store.put_config("recover_config", want_config, etag)
    if problems:
        return problems
    verify = store.snapshot("recover_verify")
    wrong = [p for p in want_ssm if verify.values.get(p) != want_ssm[p]]
    if verify.config_bytes != want_config:
        wrong.append(f"s3://{store.bucket}/{CONFIG_KEY}")
    if wrong:
        problems.append("verification found these differ from before: " + ", ".join(wrong))
    return problems


def finish(
    ledger: PromotionLedger, attempt: PromotionRecord, problems: list[str], now: datetime
) -> PromotionRecord:
    """Write the attempt's final record from the outcome of :func:`restore`."""
    if problems:
        attempt.status = "failed"
        attempt.error = (
            f"The process of promotion {attempt.promotion_id} died mid-way; recovery at "
            f"{now.isoformat()} could not restore everything: {'; '.join(problems)}."
        )
    else:
        attempt.status = "rolled_back"
        attempt.error = (
            f"The process of promotion {attempt.promotion_id} died mid-way; recovered at "
            f"{now.isoformat()}: production unchanged, every SSM value and the config file "
            "restored and verified equal to their state before the promotion."
        )
    attempt.failed_step = "process_died"
    ledger.write_record(attempt)
    return attempt


def recovery_lease(
    store: ProductionStore, lock: PromotionLock, approver: str, dead: list[str]
) -> LockLease:
    """Take the lock; one still naming a dead attempt is taken over (ETag-conditional)."""
    holder = f"{approver} (recovery)"
    current = read_lock(store)
    if current is None or current.info.get("promotion_id") not in dead:
        return lock.acquire(holder)
    return lock.take_over(holder, current.etag)


def recover_all(
    store: ProductionStore,
    ledger: PromotionLedger,
    clock: Callable[[], datetime],
    pending: list[tuple[PromotionRecord, LockInfo | None]],
    approver: str,
    reason: str,
) -> list[PromotionRecord]:
    """Under the lock: back up, restore every attempt in ``pending``, record the recovery."""
    started = clock()
    found = store.snapshot("recover_read")
    backup_key = store.new_key("backup", started)
    recovery_id = new_id(int(started.timestamp() * 1000))
    store.put_new(
        "backup_parameters",
        backup_key,
        backup_document(found, started, recovery_id),
        "application/yaml",
    )
    config_backup = None
    if found.config_bytes is not None:
        config_backup = store.new_key("archive", started)
        store.put_new("backup_config", config_backup, found.config_bytes, "application/yaml")
    written: list[PromotionRecord] = []
    problems: list[str] = []
    for attempt, _ in pending:
        outcome = restore(store, attempt)
        problems.extend(outcome)
        written.append(finish(ledger, attempt, outcome, clock()))
    restored = store.snapshot("recover_verify")
    names = ", ".join(a.promotion_id for a, _ in pending)
    left = (
        f"; left as is: {'; '.join(problems)}" if problems else ": production restored and verified"
    )
    record = PromotionRecord(
        promotion_id=recovery_id,
        kind="recovery",
        status="failed" if problems else "completed",
        run_id=pending[-1][0].run_id,
        experiment_name=pending[-1][0].experiment_name,
        approver=approver,
        reason=reason,
        timestamp=started,
        before=ProductionState(ssm=found.values, config=found.config_obj()),
        after=ProductionState(ssm=restored.values, config=restored.config_obj()),
        parameter_store_backup_key=backup_key,
        config_file_backup_key=config_backup,
        rollback_of=pending[-1][0].promotion_id,
        failed_step="recover" if problems else None,
        error=f"Recovered unfinished attempts {names}{left}",
    )
    ledger.write_record(record)
    written.append(record)
    return written
