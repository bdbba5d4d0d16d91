"""The all-or-nothing path every production change (promotion or rollback) takes.

Order of operations (the AWS calls are numbered in the fault-injection test):

1. take the S3 lock, name the promotion in it (``audit.py``, shared with endpoint changes);
2. read the six SSM values + versions and the config (+ ETag) -> ``before``;
3. write the Parameter Store backup and a copy of the current config (never overwritten);
4. write the ledger attempt ``promotions/<id>/attempt.json`` (``in_progress``);
5. staleness check: SSM versions and config ETag still as read, else ConflictError;
6. put (or delete) each SSM parameter, write the config (conditional on the ETag
   read), archive the new config, start the pipeline when asked; a change may name
   only some parameters and leave the config as it is (the design's single steps,
   ``seed_steps.py``): what it does not name is left untouched;
7. log the tracker event, then write the final ledger record: the commit point.

A failure in 6 or 7 restores every SSM value and the config from ``before``
(only values that are still what this attempt wrote, so a concurrent manual
change is never clobbered), stops a started pipeline execution, re-reads
production to VERIFY it equals ``before``, records the attempt ``rolled_back``
(or ``failed`` when the restore could not be completed) and raises. The lock is
released in ``finally``.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import (
    ACCESS_DENIED_CODES,
    PRECONDITION_CODES,
    amended,
    describe_aws_error,
)
from fraud_jlab.errors import (
    AccessDenied,
    AwsOperationError,
    ConflictError,
    FraudJlabError,
)
from fraud_jlab.promotion.audit import Audit, failure_code, root_cause
from fraud_jlab.promotion.models import (
    Gate,
    ProductionState,
    PromotionKind,
    PromotionRecord,
    RollbackTarget,
)
from fraud_jlab.promotion.pipeline import ProductionPipeline
from fraud_jlab.promotion.store import (
    CONFIG_KEY,
    ProductionStore,
    Snapshot,
    backup_document,
    dump_config,
)
from fraud_jlab.tracking.contract import TrackerStore

log = logging.getLogger(__name__)


@dataclass
class Change:
    """What a promotion or rollback wants production to become, and why.

    ``desired_ssm`` names the parameters to write (None: delete); parameters it does not
    name are left as they are. ``writes_config`` False leaves the config file as it is;
    else ``desired_config`` is written (None: deleted), as ``config_bytes`` exactly when
    given (an archived file restored byte for byte).
    """

    kind: PromotionKind
    run_id: str
    experiment_name: str | None
    approver: str
    reason: str
    desired_ssm: dict[str, str | None]
    desired_config: dict[str, Any] | None
    hyperparameters: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    forced: bool = False
    forced_gates: list[str] = field(default_factory=list)
    trigger_pipeline: bool = False
    rollback_of: str | None = None
    rollback_target: RollbackTarget | None = None
    #: The tracker run the event is attached to (None when ``run_id`` is not a tracked run).
    event_run_id: str | None = None
    writes_config: bool = True
    config_bytes: bytes | None = None


class _Stale(Exception):
    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


@dataclass
class Transaction:
    """Runs one :class:`Change` all-or-nothing (see the module docstring)."""

    store: ProductionStore
    audit: Audit
    tracker: TrackerStore
    pipeline: ProductionPipeline

    def run(self, change: Change) -> PromotionRecord:
        """Apply ``change``; returns the completed ledger record or raises (see module doc)."""
        return self.audit.run(change.approver, lambda pid: self._locked(change, pid))

    # --- the locked part -----------------------------------------------------
    def _locked(self, change: Change, promotion_id: str) -> PromotionRecord:
        with amended("Production unchanged.", production_unchanged=True):
            before = self.store.snapshot("read")
        started = self.audit.clock()
        backup_key = self.store.new_key("backup", started)
        after_ssm = {**before.values, **change.desired_ssm}
        after_config = change.desired_config if change.writes_config else before.config_obj()
        record = PromotionRecord(
            promotion_id=promotion_id,
            kind=change.kind,
            status="rolled_back",
            run_id=change.run_id,
            experiment_name=change.experiment_name,
            approver=change.approver,
            reason=change.reason,
            timestamp=started,
            forced=change.forced,
            forced_gates=change.forced_gates,
            gates=change.gates,
            metrics=change.metrics,
            hyperparameters=change.hyperparameters,
            before=ProductionState(ssm=before.values, config=before.config_obj()),
            after=ProductionState(ssm=after_ssm, config=after_config),
            parameter_store_backup_key="",
            rollback_of=change.rollback_of,
            rollback_target=change.rollback_target,
        )
        if not change.writes_config:
            new_bytes = before.config_bytes
        elif change.desired_config is None:
            new_bytes = None
        else:
            new_bytes = change.config_bytes or dump_config(change.desired_config)
        step = "backup_parameters"
        try:
            self.store.put_new(
                step, backup_key, backup_document(before, started, promotion_id), "application/yaml"
            )
            record.parameter_store_backup_key = backup_key
            if before.config_bytes is not None:
                config_backup = self.store.new_key("archive", started)
                self.store.put_new(
                    "backup_config", config_backup, before.config_bytes, "application/yaml"
                )
                record.config_file_backup_key = config_backup
            self.audit.begin(record)
            self._check_fresh(before)
        except _Stale as exc:
            message = (
                f"Production changed since promotion {promotion_id} read it ({exc.detail}); "
                "nothing was written. Production unchanged; review the change and try again."
            )
            self._finish_failed(
                record, "staleness_check", message, "rolled_back", change.event_run_id
            )
            raise ConflictError(message) from exc
        except AwsOperationError as err:
            err.amend(
                f"Nothing was changed: production unchanged (promotion {promotion_id}).",
                production_unchanged=True,
            )
            self._finish_failed(
                record, err.step or step, str(err), "rolled_back", change.event_run_id
            )
            raise
        return self._apply(change, record, before, new_bytes)

    def _check_fresh(self, before: Snapshot) -> None:
        _, versions = self.store.read_parameters("staleness_check")
        if versions != before.versions:
            changed = sorted(p for p in versions if versions[p] != before.versions[p])
            raise _Stale("SSM parameters changed by someone else: " + ", ".join(changed))
        if self.store.config_etag("staleness_check") != before.config_etag:
            raise _Stale(f"s3://{self.store.bucket}/{CONFIG_KEY} changed by someone else")

    def _apply(
        self, change: Change, record: PromotionRecord, before: Snapshot, new_bytes: bytes | None
    ) -> PromotionRecord:
        step = "start"
        try:
            for path, value in change.desired_ssm.items():
                name = path.rsplit("/", 1)[-1]
                if value is None:
                    step = f"delete_parameter:{name}"
                    if before.values.get(path) is not None:
                        self.store.delete_parameter(step, path)
                else:
                    step = f"put_parameter:{name}"
                    self.store.put_parameter(step, path, value)
            if not change.writes_config:
                pass  # a Parameter Store step: the config file is left as it is
            elif new_bytes is None:
                if before.config_etag is not None:
                    step = "delete_config"
                    self.store.delete_config(step, before.config_etag)
            else:
                step = "write_config"
                self.store.put_config(step, new_bytes, before.config_etag)
                step = "archive_config"
                self.store.put_new(
                    step,
                    self.store.new_key("archive", self.audit.clock()),
                    new_bytes,
                    "application/yaml",
                )
            if change.trigger_pipeline:
                step = "trigger_pipeline"
                record.pipeline_execution_arn = self.pipeline.trigger(
                    change.run_id, promotion_id=record.promotion_id, approver=change.approver
                )
                record.pipeline_status = "RUNNING"
            step = "tracker_event"
            record.status = "completed"
            self.tracker.log_event("promotion", _event_payload(record), run_id=change.event_run_id)
            step = "ledger_record"
            self.audit.ledger.write_record(record)
            return record
        except Exception as exc:  # any failure after the backup must restore production
            cause, _ = root_cause(exc)
            service = (exc.service if isinstance(exc, AwsOperationError) else None) or "fraud_jlab"
            raise self._roll_back(record, before, change, new_bytes, step, service, cause) from exc

    # --- restore ---------------------------------------------------------------
    def _roll_back(
        self,
        record: PromotionRecord,
        before: Snapshot,
        change: Change,
        new_bytes: bytes | None,
        step: str,
        service: str,
        cause: BaseException,
    ) -> FraudJlabError:
        problems = self._restore(record, before, change, new_bytes)
        _, code = root_cause(cause)
        what = (
            describe_aws_error(cause, service=service, bucket=self.store.bucket)
            if service != "fraud_jlab"
            else f"{type(cause).__name__}: {cause}"
        )
        backups = f"s3://{self.store.bucket}/{record.parameter_store_backup_key}" + (
            f" and s3://{self.store.bucket}/{record.config_file_backup_key}"
            if record.config_file_backup_key
            else ""
        )
        head = f"Promotion {record.promotion_id} failed at step '{step}' ({code}): {what}."
        if not problems:
            message = (
                f"{head} Production unchanged: every SSM value and the config file were restored "
                f"and verified equal to their state before the promotion (backup {backups})."
            )
            status = "rolled_back"
        else:
            message = (
                f"{head} Restore INCOMPLETE, production may be changed: {'; '.join(problems)}. "
                f"The state before the promotion is backed up at {backups}."
            )
            status = "failed"
        self._finish_failed(record, step, message, status, change.event_run_id)
        if status == "rolled_back" and code in ACCESS_DENIED_CODES:
            return AccessDenied(message)
        if status == "rolled_back" and step == "write_config" and code in PRECONDITION_CODES:
            return ConflictError(message)
        return AwsOperationError(
            message, step=step, aws_error_code=code, production_unchanged=status == "rolled_back"
        )

    def _restore_parameter(self, path: str, want: str | None) -> None:
        if want is None:
            self.store.delete_parameter("restore_parameter", path)
        else:
            self.store.put_parameter("restore_parameter", path, want)

    def _restore(
        self, record: PromotionRecord, before: Snapshot, change: Change, new_bytes: bytes | None
    ) -> list[str]:
        """Put production back to ``before``; the list of what is left (empty when verified).

        Every step is tried (each SSM path, then the config), each retried with
        backoff; a failed step does not stop the others. Production is then re-read
        and every path/key still differing from ``before`` is named.
        """
        problems: list[str] = []
        if record.pipeline_execution_arn:
            try:
                self.pipeline.stop(record.pipeline_execution_arn)
                record.pipeline_status = "ABORTED"
            except Exception as exc:
                problems.append(
                    f"pipeline execution {record.pipeline_execution_arn} could not be stopped "
                    f"({error_code(exc) or exc}); stop it in the Step Functions console"
                )
        try:
            current: dict[str, str | None] | None = self.audit.retrying(
                lambda: self.store.read_parameters("restore_read")[0]
            )
        except AwsOperationError as exc:
            # Unknown: restore every path this attempt meant to change (we hold the lock).
            log.error("Could not read the parameters to restore them: %s", exc)
            current = None
        for path, want in before.values.items():
            now = current.get(path) if current is not None else record.after.ssm.get(path)
            if now == want:
                continue
            if now != record.after.ssm.get(path):
                problems.append(f"{path} is {now!r}, changed by someone else; left as is")
                continue
            try:
                self.audit.retrying(functools.partial(self._restore_parameter, path, want))
            except AwsOperationError as exc:
                problems.append(f"restoring {path} failed ({failure_code(exc)})")
        config_url = f"s3://{self.store.bucket}/{CONFIG_KEY}"
        try:
            body, etag = self.audit.retrying(
                lambda: self.store.read_object("restore_read", CONFIG_KEY)
            )
            if body != before.config_bytes:
                if body != new_bytes or etag is None:
                    problems.append(f"{config_url} was changed by someone else; left as is")
                elif before.config_bytes is None:
                    self.audit.retrying(lambda: self.store.delete_config("restore_config", etag))
                else:
                    old = before.config_bytes
                    self.audit.retrying(lambda: self.store.put_config("restore_config", old, etag))
        except AwsOperationError as exc:
            problems.append(f"restoring {config_url} failed at '{exc.step}' ({failure_code(exc)})")
        try:
            after = self.audit.retrying(lambda: self.store.snapshot("verify"))
        except AwsOperationError as exc:
            problems.append(f"could not verify the restore ({failure_code(exc)})")
            return problems
        wrong = [p for p in before.values if after.values[p] != before.values[p]]
        if after.config_bytes != before.config_bytes:
            wrong.append(config_url)
        if not wrong:
            # Verified equal to before: only a pipeline that could not be stopped is left.
            return [p for p in problems if p.startswith("pipeline execution")]
        problems.append("left changed (differ from before): " + ", ".join(wrong))
        return problems

    def _finish_failed(
        self,
        record: PromotionRecord,
        step: str,
        message: str,
        status: str,
        event_run_id: str | None,
    ) -> None:
        self.audit.finish(record, step, message, status)
        try:
            self.tracker.log_event("promotion", _event_payload(record), run_id=event_run_id)
        except Exception:
            log.exception("Could not log promotion event %s to the tracker", record.promotion_id)


def _event_payload(record: PromotionRecord) -> dict[str, Any]:
    """The tracker event: the full record plus the seed's ``experiment_id``."""
    payload: dict[str, Any] = json.loads(record.model_dump_json())
    payload["experiment_id"] = record.run_id
    return payload


__all__ = ["Change", "Transaction"]
