"""The design's production building blocks: each step of a promotion as its own call.

Validate hyperparameters, back up Parameter Store, write it, generate and
write the config file (archiving the previous one), trigger and check the
pipeline, and restore from a backup. :class:`ProductionIntegrator` builds the
audited all-or-nothing entry points on top of these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.aws.errors import amended
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import AwsOperationError, NotFoundError, ValidationError
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.lock import LockLease, PromotionLock
from fraud_jlab.promotion.store import (
    CONFIG_KEY,
    ProductionStore,
    Snapshot,
    aws_step,
    backup_document,
    dump_config,
    parse_backup,
    stamp,
    unique_suffix,
)
from fraud_jlab.promotion.validation import (
    REQUIRED_PARAMS,
    format_value,
    normalise_hyperparameters,
    validate_config_schema,
    validate_hyperparameters,
)
from fraud_jlab.tracking.contract import TrackerStore

_EXECUTION_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")
MAX_EXECUTION_NAME = 80


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def execution_name(label: str, moment: datetime) -> str:
    """A unique Step Functions execution name (<= 80 chars of ``[A-Za-z0-9_-]``)."""
    tail = f"-{stamp(moment)}-{unique_suffix()}"
    head = _EXECUTION_NAME_BAD.sub("-", label)[: MAX_EXECUTION_NAME - len(tail)]
    return head + tail


class ProductionBuildingBlocks:
    """The single production steps (SSM Parameter Store, S3 config, Step Functions).

    Clients default to ``fraud_jlab.aws.client(...)``, the tracker to
    ``fraud_jlab.tracking.get_tracker()``, settings to ``get_settings()``;
    ``clock`` returns the current time (timezone-aware UTC).
    """

    def __init__(
        self,
        settings: FraudJlab | None = None,
        *,
        ssm_client: Any = None,
        s3_client: Any = None,
        sfn_client: Any = None,
        tracker: TrackerStore | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from fraud_jlab import aws

        self.settings = settings or get_settings()
        self.ssm_client = ssm_client or aws.client("ssm", self.settings)
        self.s3_client = s3_client or aws.client("s3", self.settings)
        self.sfn_client = sfn_client or aws.client("stepfunctions", self.settings)
        self._tracker = tracker
        self.clock = clock or _utcnow
        self.config_bucket = self.settings.config_bucket
        self.store = ProductionStore(
            self.ssm_client, self.s3_client, self.config_bucket, self.settings.ssm_prefix
        )
        self.ledger = PromotionLedger(self.store)
        self.lock = PromotionLock(
            self.s3_client, self.config_bucket, self.clock, self.settings.promotion_lock_ttl_seconds
        )

    @property
    def tracker(self) -> TrackerStore:
        if self._tracker is None:
            from fraud_jlab.tracking.registry import get_tracker

            self._tracker = get_tracker()
        return self._tracker

    # --- the seed's building blocks -------------------------------------------
    def validate_hyperparameters(self, hyperparameters: Mapping[str, Any]) -> bool:
        """Validate names and ranges (see ``fraud_jlab.promotion.validation``); True or ValidationError."""
        return validate_hyperparameters(hyperparameters)

    def normalise_hyperparameters(
        self, hyperparameters: Mapping[str, Any]
    ) -> dict[str, int | float | str]:
        """The six validated values, typed (ints, floats, the objective); raises ValidationError."""
        return normalise_hyperparameters(hyperparameters)

    def parameter_paths(self) -> dict[str, str]:
        """Hyperparameter name -> Parameter Store path under ``ssm_prefix``."""
        return {name: self.store.path(name) for name in REQUIRED_PARAMS}

    def backup_current_parameters(self) -> tuple[dict[str, str | None], str]:
        """Back up the six SSM values (and their versions) to a new S3 key; returns ``(values, key)``.

        The key is ``parameter-store-backups/backup-<YYYYmmdd-HHMMSS>-<suffix>.yaml``,
        written with ``IfNoneMatch='*'``. Raises AccessDenied / AwsOperationError.
        """
        with amended("Production unchanged: nothing was written."):
            values, versions = self.store.read_parameters("read_parameters")
            moment = self.clock()
            key = self.store.new_key("backup", moment)
            snap = Snapshot(values, versions, None, None)
            self.store.put_new(
                "backup_parameters", key, backup_document(snap, moment, None), "application/yaml"
            )
        return values, key

    def write_hyperparameters_to_parameter_store(self, hyperparameters: Mapping[str, Any]) -> str:
        """Validate, back up, then write the six parameters; returns the backup key.

        Values are ``str``-formatted (floats with ``repr``), so reading them
        back gives the same values. Prefer :meth:`promote_run`, which also
        restores everything if a write fails.
        """
        clean = normalise_hyperparameters(hyperparameters)
        _, backup_key = self.backup_current_parameters()
        with amended(f"Restore with rollback_parameter_store({backup_key!r})."):
            for name, path in self.parameter_paths().items():
                self.store.put_parameter(f"put_parameter:{name}", path, format_value(clean[name]))
        return backup_key

    def generate_production_config(
        self,
        experiment_id: str,
        hyperparameters: Mapping[str, Any],
        metrics: Mapping[str, float],
        approver: str,
        tested_date: str | None = None,
        *,
        algorithm: str = "xgboost",
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The production config dict (``model.algorithm/version/hyperparameters/performance/...``).

        ``details`` adds the spec fields of :func:`fraud_jlab.promotion.spec.run_spec`
        (threshold and its rule, features, dataset hash, model URI, run id).
        """
        model: dict[str, Any] = {
            "algorithm": algorithm,
            "version": str(experiment_id),
            "hyperparameters": dict(hyperparameters),
            "performance": {k: float(v) for k, v in metrics.items()},
            "tested_date": tested_date or self.clock().strftime("%Y-%m-%d"),
            "approved_by": str(approver),
        }
        model.update(details or {})
        return {"model": model}

    def validate_config_schema(self, config: Any) -> None:
        """Raise ValidationError naming every missing or mistyped ``model.<field>``."""
        validate_config_schema(config)

    def write_config_to_s3(self, config: Mapping[str, Any]) -> str | None:
        """Archive the current config, then write ``config``; returns the archive key (None if none).

        The archive is ``archive/production-model-config-<ts>-<suffix>.yaml``
        (never overwritten); the write is conditional on the config read.
        """
        validate_config_schema(config)
        body, etag = self.store.read_object("read_config", CONFIG_KEY)
        archive_key = None
        if body is not None:
            archive_key = self.store.new_key("archive", self.clock())
            self.store.put_new("archive_config", archive_key, body, "application/yaml")
        self.store.put_config("write_config", dump_config(config), etag)
        return archive_key

    def trigger_production_pipeline(
        self, experiment_id: str, *, promotion_id: str | None = None, approver: str | None = None
    ) -> str:
        """Start the Step Functions pipeline; returns the execution ARN (``arn:aws:states:...``)."""
        label = f"promotion-{promotion_id}" if promotion_id else f"experiment-{experiment_id}"
        payload = {
            "experimentId": experiment_id,
            "runId": experiment_id,
            "promotionId": promotion_id,
            "triggeredBy": "fraud-jlab" + (f":{approver}" if approver else ""),
        }
        resp = aws_step(
            "trigger_pipeline",
            "stepfunctions",
            None,
            self.sfn_client.start_execution,
            stateMachineArn=self.settings.state_machine_arn,
            name=execution_name(label, self.clock()),
            input=json.dumps(payload),
        )
        return str(resp["executionArn"])

    def check_pipeline_status(self, execution_arn: str) -> dict[str, Any]:
        """``{"status", "startDate", "stopDate", "output"}`` of a pipeline execution."""
        resp = aws_step(
            "pipeline_status",
            "stepfunctions",
            None,
            self.sfn_client.describe_execution,
            executionArn=execution_arn,
        )
        return {
            "status": resp["status"],
            "startDate": resp["startDate"],
            "stopDate": resp.get("stopDate"),
            "output": resp.get("output"),
        }

    def _stop_pipeline(self, execution_arn: str) -> None:
        self.sfn_client.stop_execution(
            executionArn=execution_arn, error="FraudJlabRollback", cause="Promotion rolled back"
        )

    def rollback_parameter_store(self, backup_key: str) -> dict[str, str | None]:
        """Restore the SSM values recorded in ``backup_key`` (deleting ones that did not exist).

        Takes the promotion lock; verifies the result. Raises NotFoundError for a
        missing backup, ConflictError when a promotion is running.
        """
        body = self._read_backup(backup_key)
        try:
            wanted = parse_backup(body)
        except ValueError as exc:
            raise ValidationError(
                f"{backup_key} is not a Parameter Store backup: {exc}", field="backup_key"
            ) from exc
        lease = self._acquire("rollback_parameter_store")
        try:
            with amended(f"Backup: s3://{self.config_bucket}/{backup_key}."):
                current, _ = self.store.read_parameters("restore_read")
                for path, value in wanted.items():
                    if current.get(path) == value:
                        continue
                    if value is None:
                        self.store.delete_parameter("restore_parameter", path)
                    else:
                        self.store.put_parameter("restore_parameter", path, value)
                after, _ = self.store.read_parameters("verify")
        finally:
            self.lock.release(lease)
        wrong = [p for p, v in wanted.items() if p in after and after[p] != v]
        if wrong:
            raise AwsOperationError(
                f"Restore from s3://{self.config_bucket}/{backup_key} did not take effect for "
                f"{', '.join(wrong)} (changed concurrently?); run the rollback again",
                step="verify",
                production_unchanged=False,
            )
        return wanted

    def rollback_config_file(self, backup_key: str) -> None:
        """Copy an archived config back to ``production-model-config.yaml`` (under the lock)."""
        body = self._read_backup(backup_key)
        validate_config_schema(_load_yaml(body, backup_key))
        lease = self._acquire("rollback_config_file")
        try:
            _, etag = self.store.read_object("read_config", CONFIG_KEY)
            self.store.put_config("restore_config", body, etag)
        finally:
            self.lock.release(lease)

    def _acquire(self, holder: str) -> LockLease:
        with amended("Production unchanged: nothing was written."):
            return self.lock.acquire(holder)

    def _read_backup(self, backup_key: str) -> bytes:
        if not isinstance(backup_key, str) or not backup_key.strip():
            raise ValidationError("backup_key must be a non-empty S3 key", field="backup_key")
        body, _ = self.store.read_object("read_backup", backup_key)
        if body is None:
            raise NotFoundError("backup", f"s3://{self.config_bucket}/{backup_key}")
        return body


def _load_yaml(body: bytes, key: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{key} is not valid YAML: {exc}", field="backup_key") from exc
