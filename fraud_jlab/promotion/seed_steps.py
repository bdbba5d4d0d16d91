"""The design's single production steps, by their seed names, as changes of the transaction.

``write_hyperparameters_to_parameter_store``, ``write_config_to_s3``,
``rollback_parameter_store`` and ``rollback_config_file`` write production, so each
is a :class:`~fraud_jlab.promotion.transaction.Change` that
:class:`~fraud_jlab.promotion.integrator.ProductionIntegrator` runs through the
transaction like a promotion: under the lock, with a ledger attempt before and a
final record after, production restored when a write fails. The functions here
validate the input and build that change (they read, never write, production);
``approver`` and ``reason`` are required (ValidationError naming the field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import yaml

from fraud_jlab.aws.errors import amended
from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.promotion.models import PromotionKind, PromotionRecord
from fraud_jlab.promotion.store import (
    ProductionStore,
    Snapshot,
    backup_document,
    parse_backup,
)
from fraud_jlab.promotion.transaction import Change
from fraud_jlab.promotion.validation import (
    REQUIRED_PARAMS,
    check_approver,
    format_value,
    normalise_hyperparameters,
    validate_config_schema,
    validate_reason,
)


def backup_current_parameters(
    store: ProductionStore, clock: Callable[[], datetime]
) -> tuple[dict[str, str | None], str]:
    """Back up the six SSM values (and their versions) to a new S3 key; returns ``(values, key)``.

    The key is ``parameter-store-backups/backup-<YYYYmmdd-HHMMSS>-<suffix>.yaml``, written
    with ``IfNoneMatch='*'`` (a new object: production itself is not changed). Raises
    AccessDenied / AwsOperationError.
    """
    with amended("Production unchanged: nothing was written."):
        values, versions = store.read_parameters("read_parameters")
        moment = clock()
        key = store.new_key("backup", moment)
        snap = Snapshot(values, versions, None, None)
        store.put_new(
            "backup_parameters", key, backup_document(snap, moment, None), "application/yaml"
        )
    return values, key


def _audited(approver: Any, reason: Any, what: str) -> tuple[str, str]:
    """``(approver, reason)`` checked: both are required for a production write."""
    if approver is None:
        raise ValidationError(
            f"approver is required: {what} writes production, so it is audited; pass "
            "approver=<the user approving> and reason=<why>",
            field="approver",
        )
    if reason is None:
        raise ValidationError(
            f"reason is required: {what} writes production, so it is audited; pass reason=<why>",
            field="reason",
        )
    return check_approver(approver), validate_reason(reason)


def parameter_store_change(
    store: ProductionStore, hyperparameters: Mapping[str, Any], approver: Any, reason: Any
) -> Change:
    """The six Parameter Store values of ``hyperparameters``; the config file is left as is."""
    who, why = _audited(approver, reason, "write_hyperparameters_to_parameter_store")
    clean = normalise_hyperparameters(hyperparameters)
    return Change(
        kind="promotion",
        run_id="",
        experiment_name=None,
        approver=who,
        reason=why,
        desired_ssm={store.path(n): format_value(clean[n]) for n in REQUIRED_PARAMS},
        desired_config=None,
        hyperparameters={n: format_value(clean[n]) for n in REQUIRED_PARAMS},
        writes_config=False,
    )


def config_change(config: Mapping[str, Any], approver: Any, reason: Any) -> Change:
    """``config`` as the production config file; Parameter Store is left as is."""
    who, why = _audited(approver, reason, "write_config_to_s3")
    return _config_only("promotion", config, who, why, None)


def _config_only(
    kind: PromotionKind, config: Any, who: str, why: str, body: bytes | None
) -> Change:
    """A change of the config file alone (``body``: its exact bytes); SSM is left as is."""
    validate_config_schema(config)
    return Change(
        kind=kind,
        run_id=str(config["model"].get("version", "")),
        experiment_name=None,
        approver=who,
        reason=why,
        desired_ssm={},
        desired_config=dict(config),
        hyperparameters={},
        config_bytes=body,
    )


def promotion_change(
    store: ProductionStore,
    experiment_id: str,
    clean: Mapping[str, int | float | str],
    metrics: Mapping[str, float],
    config: dict[str, Any],
    approver: Any,
    reason: Any,
) -> Change:
    """``promote_to_production``: the six values of ``clean`` and ``config``, together."""
    validate_config_schema(config)
    return Change(
        kind="promotion",
        run_id=experiment_id,
        experiment_name=None,
        approver=check_approver(approver),
        reason=validate_reason(reason),
        desired_ssm={store.path(n): format_value(clean[n]) for n in REQUIRED_PARAMS},
        desired_config=config,
        hyperparameters={n: format_value(clean[n]) for n in REQUIRED_PARAMS},
        metrics={k: float(v) for k, v in metrics.items()},
    )


def promotion_event(record: PromotionRecord, experiment_id: str) -> dict[str, Any]:
    """The seed's ``promote_to_production`` answer: ``{"promotion_event", "execution_arn"}``."""
    return {
        "promotion_event": {
            "promotion_id": record.promotion_id,
            "experiment_id": experiment_id,
            "timestamp": record.timestamp.isoformat(),
            "approver": record.approver,
            "backup_key": record.parameter_store_backup_key,
            "metrics": record.metrics,
        },
        "execution_arn": record.pipeline_execution_arn,
    }


def read_backup(store: ProductionStore, backup_key: Any) -> bytes:
    """The bytes of a backup or archive object; NotFoundError when it does not exist."""
    if not isinstance(backup_key, str) or not backup_key.strip():
        raise ValidationError("backup_key must be a non-empty S3 key", field="backup_key")
    with amended("Production unchanged: nothing was written."):
        body, _ = store.read_object("read_backup", backup_key)
    if body is None:
        raise NotFoundError("backup", f"s3://{store.bucket}/{backup_key}")
    return body


def parameter_store_rollback(
    store: ProductionStore, backup_key: Any, approver: Any, reason: Any
) -> tuple[Change, dict[str, str | None]]:
    """The SSM values recorded in ``backup_key`` (None: delete), and those values."""
    who, why = _audited(approver, reason, "rollback_parameter_store")
    body = read_backup(store, backup_key)
    try:
        wanted = parse_backup(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationError(
            f"{backup_key} is not a Parameter Store backup: {exc}", field="backup_key"
        ) from exc
    unknown = sorted(p for p in wanted if p not in store.paths())
    if unknown:
        raise ValidationError(
            f"{backup_key} names parameters outside {store.prefix}: {', '.join(unknown)}",
            field="backup_key",
        )
    change = Change(
        kind="rollback",
        run_id="",
        experiment_name=None,
        approver=who,
        reason=why,
        desired_ssm=dict(wanted),
        desired_config=None,
        hyperparameters={},
        writes_config=False,
    )
    return change, wanted


def config_file_rollback(
    store: ProductionStore, backup_key: Any, approver: Any, reason: Any
) -> Change:
    """The archived config ``backup_key``, written back byte for byte as the production config."""
    who, why = _audited(approver, reason, "rollback_config_file")
    body = read_backup(store, backup_key)
    try:
        config = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{backup_key} is not valid YAML: {exc}", field="backup_key") from exc
    return _config_only("rollback", config, who, why, body)


__all__ = [
    "backup_current_parameters",
    "config_change",
    "config_file_rollback",
    "parameter_store_change",
    "parameter_store_rollback",
    "promotion_change",
    "promotion_event",
    "read_backup",
]
