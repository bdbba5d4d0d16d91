"""Undo: the production state before a ledger record, read back from its backups.

Every record (promotion, rollback, recovery) wrote a Parameter Store backup and, when a
config existed, a copy of it, before it changed anything; both are never overwritten. A
rollback with ``target="before"`` restores exactly those; ``target="after"`` (the default)
restores the state the record wrote. The oldest record's backup is the production that
predates fraud_jlab: :func:`baseline_entry` offers it as a restorable history entry.
"""

from __future__ import annotations

from typing import Any, cast

import yaml

from fraud_jlab.aws.errors import amended
from fraud_jlab.errors import NotFoundError, ValidationError, shorten
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.models import (
    BaselineEntry,
    ProductionState,
    PromotionRecord,
    RollbackTarget,
)
from fraud_jlab.promotion.store import ProductionStore, parse_backup
from fraud_jlab.promotion.transaction import Change

TARGETS: tuple[RollbackTarget, ...] = ("before", "after")


def check_target(target: Any) -> RollbackTarget:
    """``target`` when it is "before" or "after"; else ValidationError naming ``target``."""
    if target not in TARGETS:
        raise ValidationError(
            f"target must be 'before' (undo the change: restore the state before it) or "
            f"'after' (restore the state it wrote), got {shorten(target)}",
            field="target",
        )
    return cast(RollbackTarget, target)


def state_before(store: ProductionStore, record: PromotionRecord) -> ProductionState:
    """The state before ``record`` as its backups hold it.

    Raises ValidationError when the record has no backup or a backup is missing or unreadable
    (nothing is written), the mapped AWS errors (AwsOperationError, AwsAccessDenied).
    """
    if not record.parameter_store_backup_key:
        raise ValidationError(
            f"{record.kind} {record.promotion_id} wrote no backup (it failed before changing "
            "anything), so there is no state before it to restore",
            field="promotion_id",
        )
    body, _ = store.read_object("read_backup", record.parameter_store_backup_key)
    if body is None:
        raise ValidationError(
            f"the Parameter Store backup s3://{store.bucket}/"
            f"{record.parameter_store_backup_key} of {record.promotion_id} is missing",
            field="promotion_id",
        )
    try:
        values = parse_backup(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationError(
            f"the Parameter Store backup of {record.promotion_id} is unreadable: {exc}",
            field="promotion_id",
        ) from exc
    config: dict[str, Any] | None = None
    if record.config_file_backup_key:
        raw, _ = store.read_object("read_backup", record.config_file_backup_key)
        if raw is None:
            raise ValidationError(
                f"the config backup s3://{store.bucket}/{record.config_file_backup_key} of "
                f"{record.promotion_id} is missing",
                field="promotion_id",
            )
        loaded = yaml.safe_load(raw)
        if not isinstance(loaded, dict):
            raise ValidationError(
                f"the config backup of {record.promotion_id} is not a YAML mapping",
                field="promotion_id",
            )
        config = loaded
    # Paths the backup does not name (none, normally) keep the value the record saw.
    ssm = {path: values.get(path, value) for path, value in record.before.ssm.items()}
    ssm.update({p: v for p, v in values.items() if p in store.paths()})
    return ProductionState(ssm=ssm, config=config)


def rollback_change(
    store: ProductionStore,
    record: PromotionRecord,
    target: RollbackTarget,
    approver: str,
    reason: str,
) -> Change:
    """The change restoring ``record``'s state ``target`` (checked: ``check_target``).

    Raises ValidationError when a record that did not complete is restored "after" or the
    backups of "before" are missing; the mapped AWS errors of reading them (amended:
    nothing was written).
    """
    if target == "after":
        if record.status != "completed":
            raise ValidationError(
                f"Promotion {record.promotion_id} has status {record.status!r}; only a "
                "completed promotion's state can be restored (target 'before' restores the "
                "state before it)",
                field="promotion_id",
            )
        state = record.after
    else:
        with amended("Production unchanged: nothing was written."):
            state = state_before(store, record)
    return Change(
        kind="rollback",
        run_id=record.run_id,
        experiment_name=record.experiment_name,
        approver=approver,
        reason=reason,
        desired_ssm=dict(state.ssm),
        desired_config=state.config,
        hyperparameters=dict(record.hyperparameters) if target == "after" else {},
        metrics=dict(record.metrics) if target == "after" else {},
        rollback_of=record.promotion_id,
        rollback_target=target,
    )


def baseline_entry(ledger: PromotionLedger) -> BaselineEntry | None:
    """The state before the first ledger record that took a backup, or None."""
    for promotion_id in reversed(ledger.ids()):
        try:
            record = ledger.get(promotion_id)
        except NotFoundError:  # listed but gone: not a baseline
            continue
        if record.parameter_store_backup_key:
            return BaselineEntry(
                promotion_id=record.promotion_id,
                timestamp=record.timestamp,
                state=record.before,
                parameter_store_backup_key=record.parameter_store_backup_key,
                config_file_backup_key=record.config_file_backup_key,
            )
    return None


def describe(record: PromotionRecord) -> str:
    """History wording of a rollback: "undoes X" or "restores the state of X"."""
    if record.rollback_of is None:
        return ""
    if record.rollback_target == "before":
        return f"undoes {record.rollback_of}"
    return f"restores the state of {record.rollback_of}"


__all__ = [
    "TARGETS",
    "baseline_entry",
    "check_target",
    "describe",
    "rollback_change",
    "state_before",
]
