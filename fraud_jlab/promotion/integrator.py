"""``ProductionIntegrator``: promote a tracked run to production, audited and reversible.

The entry points the REST API, the sidebar and ``%fraud`` call:
:meth:`ProductionIntegrator.promote_run` (with ``dry_run`` and gates),
:meth:`ProductionIntegrator.rollback_to`, :meth:`ProductionIntegrator.list_promotions`,
:meth:`ProductionIntegrator.get_promotion` and :meth:`ProductionIntegrator.current_production`,
plus the design's ``promote_to_production`` and single steps (``seed_steps.py``).

The integrator is built from parts it holds: the AWS store (``store``), the promotion
lock (``lock``), the ledger (``ledger``) and the Step Functions pipeline
(``pipeline``). Every production write, the design's single steps included, goes
through :class:`fraud_jlab.promotion.transaction.Transaction`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.aws.errors import amended
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.promotion import recovery, seed_steps
from fraud_jlab.promotion.audit import Audit
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.models import (
    ProductionState,
    ProductionView,
    PromotionPlan,
    PromotionRecord,
    PromotionsPage,
    RollbackTarget,
    UnfinishedAttempt,
)
from fraud_jlab.promotion.pipeline import ProductionPipeline, execution_name
from fraud_jlab.promotion.planning import (
    plan_promotion,
    production_config,
    production_run_id,
    run_gates,
)
from fraud_jlab.promotion.spec import run_spec
from fraud_jlab.promotion.store import ProductionStore
from fraud_jlab.promotion.transaction import Change, Transaction
from fraud_jlab.promotion.undo import baseline_entry, check_target, rollback_change, state_before
from fraud_jlab.promotion.validation import (
    REQUIRED_PARAMS,
    check_approver,
    normalise_hyperparameters,
    validate_config_schema,
    validate_hyperparameters,
    validate_reason,
)
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

__all__ = ["ProductionIntegrator", "execution_name"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ProductionIntegrator:
    """Promote runs to production (SSM Parameter Store + S3 config + Step Functions).

    Clients default to ``fraud_jlab.aws.client(...)``, the tracker to
    ``fraud_jlab.tracking.get_tracker()``, settings to ``get_settings()``;
    ``clock`` returns the current time (timezone-aware UTC). ``retry_sleep`` is what
    waits between the tries of a failed restore call (tests replace it).
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
        self.retry_sleep: Callable[[float], None] = time.sleep
        self.config_bucket = self.settings.config_bucket
        self.store = ProductionStore(
            self.ssm_client, self.s3_client, self.config_bucket, self.settings.ssm_prefix
        )
        self.ledger = PromotionLedger(self.store)
        self.lock = PromotionLock(
            self.s3_client, self.config_bucket, self.clock, self.settings.promotion_lock_ttl_seconds
        )
        self.pipeline = ProductionPipeline(
            self.sfn_client, self.settings.state_machine_arn, self.clock
        )

    @property
    def tracker(self) -> TrackerStore:
        if self._tracker is None:
            from fraud_jlab.tracking.registry import get_tracker

            self._tracker = get_tracker()
        return self._tracker

    # --- the design's single steps (seed_steps.py); each write is a transaction ---------
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
        """Back up the six SSM values to a new S3 key; returns ``(values, key)``."""
        return seed_steps.backup_current_parameters(self.store, self.clock)

    def write_hyperparameters_to_parameter_store(
        self,
        hyperparameters: Mapping[str, Any],
        *,
        approver: str | None = None,
        reason: str | None = None,
    ) -> str:
        """Write the six parameters through the transaction; returns the backup key.

        Values are ``str``-formatted (floats with ``repr``). The config file is left as
        it is. Raises ValidationError (bad values, no approver or reason) and the errors
        of :meth:`promote_run`.
        """
        change = seed_steps.parameter_store_change(self.store, hyperparameters, approver, reason)
        return self._transaction().run(change).parameter_store_backup_key

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
        """The production config dict (see :func:`fraud_jlab.promotion.planning.production_config`)."""
        tested = tested_date or self.clock().strftime("%Y-%m-%d")
        return production_config(
            experiment_id,
            hyperparameters,
            metrics,
            approver,
            tested,
            algorithm=algorithm,
            details=details,
        )

    def validate_config_schema(self, config: Any) -> None:
        """Raise ValidationError naming every missing or mistyped ``model.<field>``."""
        validate_config_schema(config)

    def write_config_to_s3(
        self, config: Mapping[str, Any], *, approver: str | None = None, reason: str | None = None
    ) -> str | None:
        """Write ``config`` through the transaction; returns the archive of the previous one.

        The archive is ``archive/production-model-config-<ts>-<suffix>.yaml`` (never
        overwritten; None when there was no config). Parameter Store is left as it is.
        """
        change = seed_steps.config_change(config, approver, reason)
        return self._transaction().run(change).config_file_backup_key

    def trigger_production_pipeline(
        self, experiment_id: str, *, promotion_id: str | None = None, approver: str | None = None
    ) -> str:
        """Start the Step Functions pipeline; returns the execution ARN (``arn:aws:states:...``)."""
        return self.pipeline.trigger(experiment_id, promotion_id=promotion_id, approver=approver)

    def check_pipeline_status(self, execution_arn: str) -> dict[str, Any]:
        """``{"status", "startDate", "stopDate", "output"}`` of a pipeline execution."""
        return self.pipeline.status(execution_arn)

    def rollback_parameter_store(
        self, backup_key: str, *, approver: str | None = None, reason: str | None = None
    ) -> dict[str, str | None]:
        """Restore the SSM values recorded in ``backup_key`` (deleting ones that did not exist).

        Through the transaction; returns the restored values. Raises NotFoundError for a
        missing backup, ConflictError when a promotion is running.
        """
        change, wanted = seed_steps.parameter_store_rollback(
            self.store, backup_key, approver, reason
        )
        self._transaction().run(change)
        return wanted

    def rollback_config_file(
        self, backup_key: str, *, approver: str | None = None, reason: str | None = None
    ) -> None:
        """Copy an archived config back to ``production-model-config.yaml`` (a transaction)."""
        self._transaction().run(
            seed_steps.config_file_rollback(self.store, backup_key, approver, reason)
        )

    def promote_to_production(
        self,
        experiment_id: str,
        hyperparameters: Mapping[str, Any],
        metrics: Mapping[str, float],
        approver: str,
        trigger_pipeline: bool = False,
        *,
        reason: str = "promote_to_production",
    ) -> dict[str, Any]:
        """The seed's complete workflow, all-or-nothing; returns ``{"promotion_event", "execution_arn"}``."""
        clean = normalise_hyperparameters(hyperparameters)
        config = self.generate_production_config(experiment_id, clean, metrics, approver)
        change = seed_steps.promotion_change(
            self.store, experiment_id, clean, metrics, config, approver, reason
        )
        change.trigger_pipeline = trigger_pipeline
        change.event_run_id = self._tracked(experiment_id)
        return seed_steps.promotion_event(self._transaction().run(change), experiment_id)

    # --- entry points ------------------------------------------------------------
    def plan_run(self, run_id: str, *, approver: str) -> tuple[PromotionPlan, Change, RunDetail]:
        """Validate ``run_id`` and compute what promoting it would change (reads only)."""
        run = self.tracker.get_run(run_id)
        spec = run_spec(run, self.tracker)
        with amended("Production unchanged: nothing was written."):
            current = self.store.snapshot("read")
        gates = run_gates(self.tracker, self.settings, run, current)
        plan, change = plan_promotion(self.store, run, spec, current, gates, approver)
        return plan, change, run

    def promote_run(
        self,
        run_id: str,
        *,
        approver: str,
        reason: str = "",
        trigger_pipeline: bool = False,
        dry_run: bool = False,
        force: bool = False,
    ) -> PromotionRecord | PromotionPlan:
        """Promote a tracked run; with ``dry_run`` return the plan and write nothing.

        ``reason`` is required for a real promotion (it goes into the ledger); a dry run
        only shows the gates and the diff, so it may come before the reason is written.

        Raises ValidationError (bad input, invalid hyperparameters, failed gates
        without ``force``), NotFoundError (unknown run), ConflictError (another
        promotion in progress, or production changed meanwhile), AccessDenied,
        AwsOperationError (production restored: the message says "production unchanged").
        """
        if not isinstance(run_id, str) or not run_id.strip():
            raise ValidationError("run_id must be a non-empty string", field="run_id")
        approver = check_approver(approver)
        if not dry_run or reason:
            reason = validate_reason(reason)
        plan, change, _ = self.plan_run(run_id.strip(), approver=approver)
        if dry_run:
            return plan
        if not plan.gates_passed and not force:
            failed = [g for g in plan.gates if not g.passed]
            raise ValidationError(
                "Promotion gates failed: "
                + "; ".join(f"{g.name}: {g.detail}" for g in failed)
                + ". Pass force=True with a reason to override.",
                field="gates",
                errors=[f"{g.name}: {g.detail}" for g in failed],
            )
        change.reason = reason
        change.forced = bool(force) and not plan.gates_passed
        change.forced_gates = [g.name for g in plan.gates if not g.passed] if change.forced else []
        change.trigger_pipeline = bool(trigger_pipeline)
        return self._transaction().run(change)

    def rollback_to(
        self,
        promotion_id: str,
        *,
        approver: str,
        reason: str,
        target: RollbackTarget = "after",
    ) -> PromotionRecord:
        """Restore a ledger record's state, all-or-nothing, through the same transaction.

        ``target="after"`` (default) restores the state a completed record wrote;
        ``target="before"`` undoes the record: restores the state before it, from its
        backups (any record that took a backup, including the first one: the production
        that predates fraud_jlab). Raises NotFoundError (unknown id), ValidationError (bad
        target, not restorable), and the same errors as :meth:`promote_run`.
        """
        approver = check_approver(approver)
        reason = validate_reason(reason)
        target = check_target(target)
        # a failed read of the record happens before anything is written
        record = self.ledger_get(promotion_id, suffix="Production unchanged: nothing was written.")
        change = rollback_change(self.store, record, target, approver, reason)
        change.event_run_id = self._tracked(record.run_id)
        return self._transaction().run(change)

    def state_before(self, record: PromotionRecord) -> ProductionState:
        """The state before ``record``, from its backups (what ``target="before"`` restores)."""
        return state_before(self.store, record)

    def list_promotions(
        self, max_results: int = 50, page_token: str | None = None
    ) -> PromotionsPage:
        """Ledger records, newest first; the first page also lists attempts in progress."""
        records, token = self.ledger.page(max_results, page_token)
        pending = [] if page_token else recovery.in_progress(self.store, self.clock())
        baseline = None if page_token else baseline_entry(self.ledger)
        return PromotionsPage(
            promotions=records, next_page_token=token, in_progress=pending, baseline=baseline
        )

    def ledger_get(self, promotion_id: str, suffix: str = "") -> PromotionRecord:
        """One ledger record; an AWS failure is mapped with ``suffix`` appended to its message."""
        with amended(suffix):
            return self.ledger.get(promotion_id)

    def get_promotion(self, promotion_id: str) -> PromotionRecord:
        """One ledger record, with the live pipeline status when a pipeline was started."""
        record = self.ledger_get(promotion_id)
        if record.pipeline_execution_arn and record.status == "completed":
            status = self.pipeline.status(record.pipeline_execution_arn)
            record = record.model_copy(update={"pipeline_status": str(status["status"])})
        return record

    def current_production(self) -> ProductionView:
        """The live SSM values and config, the completed promotion that put them there,
        and any unfinished attempt (its process died: production may be half-written)."""
        snap = self.store.snapshot("read")
        latest = self.ledger.latest_completed()
        pending = recovery.unfinished(self.store, self.clock())
        return ProductionView(
            ssm=snap.values,
            config=snap.config_obj(),
            promotion=latest,
            unfinished=[recovery.summary(attempt) for attempt, _ in pending],
        )

    def unfinished_attempts(self) -> list[UnfinishedAttempt]:
        """Attempts without a final record whose lock no live holder has (see recovery.py)."""
        pending = recovery.unfinished(self.store, self.clock())
        return [recovery.summary(attempt) for attempt, _ in pending]

    def recover(self, *, approver: str, reason: str) -> list[PromotionRecord]:
        """Restore production from every unfinished attempt; returns the records written.

        Under the promotion lock (a lock naming a dead attempt is taken over):
        for each unfinished attempt, oldest first, the state before it is restored
        where production still holds its before or after values (anything else is
        left and reported), verified, and the attempt's final record written
        (``rolled_back``, or ``failed`` naming what is left). Then one ``recovery``
        record names ``approver`` and ``reason``. Returns ``[]`` when nothing is
        unfinished. Raises ConflictError when a live promotion holds the lock.
        """
        approver = check_approver(approver)
        reason = validate_reason(reason)
        pending = recovery.unfinished(self.store, self.clock())
        if not pending:
            return []
        lease = recovery.recovery_lease(
            self.store, self.lock, approver, [a.promotion_id for a, _ in pending]
        )
        try:
            return recovery.recover_all(
                self.store, self.ledger, self.clock, pending, approver, reason
            )
        finally:
            self.lock.release(lease)

    # --- internals -----------------------------------------------------------------
    def _transaction(self) -> Transaction:
        audit = Audit(self.lock, self.ledger, self.clock, sleep=self.retry_sleep)
        return Transaction(self.store, audit, self.tracker, self.pipeline)

    def _tracked(self, run_id: str) -> str | None:
        """``run_id`` when the tracker knows that run (events attach to it), else None."""
        try:
            self.tracker.get_run(run_id)
        except (NotFoundError, ValidationError):
            return None
        return run_id

    def production_run_id(self) -> str | None:
        """The run in production: ``model.version`` of the live config (None when unknown).

        Raises the mapped AWS errors (AccessDenied, AwsOperationError) when the config
        cannot be read; a missing config is simply "unknown".
        """
        return production_run_id(self.store.snapshot("read"))
