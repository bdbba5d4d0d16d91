"""``ProductionIntegrator``: promote a tracked run to production, audited and reversible.

The entry points the REST API, the sidebar and ``%fraud`` call:
:meth:`ProductionIntegrator.promote_run` (with ``dry_run`` and gates),
:meth:`ProductionIntegrator.rollback_to`, :meth:`ProductionIntegrator.list_promotions`,
:meth:`ProductionIntegrator.get_promotion` and :meth:`ProductionIntegrator.current_production`,
plus the design's ``promote_to_production``. Every production change goes through
:class:`fraud_jlab.promotion.transaction.Transaction`; the single steps are
inherited from :class:`fraud_jlab.promotion.building_blocks.ProductionBuildingBlocks`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from fraud_jlab.aws.errors import amended
from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.promotion import recovery
from fraud_jlab.promotion.building_blocks import ProductionBuildingBlocks, execution_name
from fraud_jlab.promotion.gates import GatePolicy, evaluate_gates
from fraud_jlab.promotion.lock import LockLease
from fraud_jlab.promotion.models import (
    ConfigDiff,
    Gate,
    PlanDiff,
    ProductionState,
    ProductionView,
    PromotionPlan,
    PromotionRecord,
    PromotionsPage,
    RollbackTarget,
    SsmDiff,
    UnfinishedAttempt,
)
from fraud_jlab.promotion.noninferiority import compare_with_production
from fraud_jlab.promotion.spec import run_spec
from fraud_jlab.promotion.store import (
    Snapshot,
    backup_document,
)
from fraud_jlab.promotion.transaction import Change, Transaction
from fraud_jlab.promotion.undo import baseline_entry, check_target, state_before
from fraud_jlab.promotion.validation import (
    REQUIRED_PARAMS,
    format_value,
    normalise_hyperparameters,
    validate_config_schema,
    validate_hyperparameters,
    validate_reason,
)
from fraud_jlab.tracking.contract import RunDetail
from fraud_jlab.tracking.ids import new_id

__all__ = ["ProductionIntegrator", "execution_name"]


class ProductionIntegrator(ProductionBuildingBlocks):
    """Promote runs to production (SSM Parameter Store + S3 config + Step Functions).

    Clients default to ``fraud_jlab.aws.client(...)``, the tracker to
    ``fraud_jlab.tracking.get_tracker()``, settings to ``get_settings()``;
    ``clock`` returns the current time (timezone-aware UTC). ``retry_sleep`` is what
    waits between the tries of a failed restore or lock-release call (tests replace it).
    """

    retry_sleep: Callable[[float], None] = staticmethod(time.sleep)

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
        validate_hyperparameters(hyperparameters)
        clean = normalise_hyperparameters(hyperparameters)
        config = self.generate_production_config(experiment_id, clean, metrics, approver)
        validate_config_schema(config)
        change = Change(
            kind="promotion",
            run_id=experiment_id,
            experiment_name=None,
            approver=_check_approver(approver),
            reason=validate_reason(reason),
            desired_ssm={self.store.path(n): format_value(clean[n]) for n in REQUIRED_PARAMS},
            desired_config=config,
            hyperparameters={n: format_value(clean[n]) for n in REQUIRED_PARAMS},
            metrics={k: float(v) for k, v in metrics.items()},
            trigger_pipeline=trigger_pipeline,
            event_run_id=self._tracked(experiment_id),
        )
        record = self._transaction().run(change)
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

    # --- entry points ------------------------------------------------------------
    def plan_run(self, run_id: str, *, approver: str) -> tuple[PromotionPlan, Change, RunDetail]:
        """Validate ``run_id`` and compute what promoting it would change (reads only)."""
        run = self.tracker.get_run(run_id)
        spec = run_spec(run, self.tracker)
        with amended("Production unchanged: nothing was written."):
            current = self.store.snapshot("read")
        gates = self._gates(run, current)
        tested = (run.end_time or run.start_time).strftime("%Y-%m-%d")
        config = self.generate_production_config(
            run.run_id,
            spec.hyperparameters,
            run.metrics,
            approver,
            tested,
            algorithm=spec.algorithm,
            details=spec.details,
        )
        validate_config_schema(config)
        desired: dict[str, str | None]
        if spec.parameter_store is not None:
            six = spec.parameter_store
            desired = {self.store.path(n): format_value(six[n]) for n in REQUIRED_PARAMS}
            promoted = {n: format_value(six[n]) for n in REQUIRED_PARAMS}
        else:
            # The six SSM names are XGBoost's: another algorithm leaves them as they are
            # (config model.parameter_store_applies is false) and is fully in the config.
            desired = dict(current.values)
            promoted = {k: _text(v) for k, v in spec.hyperparameters.items()}
        plan = PromotionPlan(
            run_id=run.run_id,
            hyperparameters=promoted,
            gates=gates,
            gates_passed=all(g.passed for g in gates),
            diff=PlanDiff(
                ssm=[
                    SsmDiff(
                        path=p, current=current.values[p], new=v, changed=current.values[p] != v
                    )
                    for p, v in desired.items()
                    if v is not None  # left absent (another algorithm): nothing to show
                ],
                config=ConfigDiff(current=current.config_obj(), new=config),
            ),
        )
        change = Change(
            kind="promotion",
            run_id=run.run_id,
            experiment_name=run.experiment_name,
            approver=approver,
            reason="",
            desired_ssm=desired,
            desired_config=config,
            hyperparameters=plan.hyperparameters,
            metrics=dict(run.metrics),
            gates=gates,
            event_run_id=run.run_id,
        )
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
        approver = _check_approver(approver)
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
        approver = _check_approver(approver)
        reason = validate_reason(reason)
        target = check_target(target)
        # a failed read of the record happens before anything is written
        record = self.ledger_get(promotion_id, suffix="Production unchanged: nothing was written.")
        if target == "after":
            if record.status != "completed":
                raise ValidationError(
                    f"Promotion {promotion_id} has status {record.status!r}; only a completed "
                    "promotion's state can be restored (target 'before' restores the state "
                    "before it)",
                    field="promotion_id",
                )
            state = record.after
        else:
            with amended("Production unchanged: nothing was written."):
                state = state_before(self.store, record)
        change = Change(
            kind="rollback",
            run_id=record.run_id,
            experiment_name=record.experiment_name,
            approver=approver,
            reason=reason,
            desired_ssm=dict(state.ssm),
            desired_config=state.config,
            hyperparameters=dict(record.hyperparameters) if target == "after" else {},
            metrics=dict(record.metrics) if target == "after" else {},
            rollback_of=promotion_id,
            rollback_target=target,
            event_run_id=self._tracked(record.run_id),
        )
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
            status = self.check_pipeline_status(record.pipeline_execution_arn)
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
        approver = _check_approver(approver)
        reason = validate_reason(reason)
        pending = recovery.unfinished(self.store, self.clock())
        if not pending:
            return []
        lease = self._recovery_lease(approver, [a.promotion_id for a, _ in pending])
        try:
            return self._recover_locked(pending, approver, reason)
        finally:
            self.lock.release(lease)

    def _recovery_lease(self, approver: str, dead: list[str]) -> LockLease:
        """Take the lock; one still naming a dead attempt is taken over (ETag-conditional)."""
        holder = f"{approver} (recovery)"
        current = recovery.read_lock(self.store)
        if current is None or current.info.get("promotion_id") not in dead:
            return self.lock.acquire(holder)
        token = secrets.token_hex(8)
        expires = self.clock() + self.lock.ttl
        etag = self.lock._put(
            self.lock._body(holder, token, expires, None), {"IfMatch": current.etag}
        )
        if etag is None:
            raise ConflictError(
                "Another process took the promotion lock while recovery was starting; "
                "production was not changed. Try again."
            )
        return LockLease(etag, token, holder, expires)

    def _recover_locked(
        self,
        pending: list[tuple[PromotionRecord, recovery.LockInfo | None]],
        approver: str,
        reason: str,
    ) -> list[PromotionRecord]:
        started = self.clock()
        found = self.store.snapshot("recover_read")
        backup_key = self.store.new_key("backup", started)
        recovery_id = new_id(int(started.timestamp() * 1000))
        self.store.put_new(
            "backup_parameters",
            backup_key,
            backup_document(found, started, recovery_id),
            "application/yaml",
        )
        config_backup = None
        if found.config_bytes is not None:
            config_backup = self.store.new_key("archive", started)
            self.store.put_new(
                "backup_config", config_backup, found.config_bytes, "application/yaml"
            )
        written: list[PromotionRecord] = []
        problems: list[str] = []
        for attempt, _ in pending:
            outcome = recovery.restore(self.store, attempt)
            problems.extend(outcome)
            written.append(recovery.finish(self.ledger, attempt, outcome, self.clock()))
        restored = self.store.snapshot("recover_verify")
        names = ", ".join(a.promotion_id for a, _ in pending)
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
            error=(
                f"Recovered unfinished attempts {names}"
                + (
                    f"; left as is: {'; '.join(problems)}"
                    if problems
                    else ": production restored and verified"
                )
            ),
        )
        self.ledger.write_record(record)
        written.append(record)
        return written

    # --- internals -----------------------------------------------------------------
    def _transaction(self) -> Transaction:
        return Transaction(
            store=self.store,
            lock=self.lock,
            ledger=self.ledger,
            tracker=self.tracker,
            clock=self.clock,
            start_pipeline=lambda pid, ch: self.trigger_production_pipeline(
                ch.run_id, promotion_id=pid, approver=ch.approver
            ),
            stop_pipeline=self._stop_pipeline,
            sleep=self.retry_sleep,
        )

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
        snap = self.store.snapshot("read")
        return _production_run_id(snap)

    def _gates(self, run: RunDetail, current: Snapshot) -> list[Gate]:
        production_run_id = _production_run_id(current)
        paired = (
            compare_with_production(self.tracker, run, production_run_id)
            if production_run_id is not None
            else None
        )
        return evaluate_gates(
            run.metrics,
            run_status=run.status,
            tags=run.tags,
            policy=GatePolicy.from_settings(self.settings),
            production_run_id=production_run_id,
            paired=paired,
        )


def _production_run_id(snap: Snapshot) -> str | None:
    config = snap.config_obj()
    model = config.get("model") if isinstance(config, dict) else None
    version = model.get("version") if isinstance(model, dict) else None
    return str(version) if version else None


def _text(value: Any) -> str:
    """A config value as the ledger's string (lists as JSON-ish text, floats exact)."""
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return format_value(value) if isinstance(value, (int, float, str)) else str(value)


def _check_approver(approver: Any) -> str:
    if not isinstance(approver, str) or not approver.strip():
        raise ValidationError(
            "approver must be a non-empty string (the user approving)", field="approver"
        )
    return approver.strip()
