"""The audited path every change of the production SageMaker endpoint takes.

A/B testing changes production too: switching the endpoint to another endpoint
configuration (``UpdateEndpoint``) or moving traffic between its production
variants (``UpdateEndpointWeightsAndCapacities``). Such a change gets what a
Parameter Store promotion gets (see ``transaction.py``), with the same lock and
the same append-only ledger:

1. validate the input (approver, reason unless a dry run, kind, A/B test id,
   target config name and/or weights; ``endpoint_checks.py``) - nothing is read or
   written on bad input;
2. take the promotion lock (``ConflictError`` while another promotion or endpoint
   change holds it) and name the change in it;
3. read the endpoint -> ``before`` (config name, variant weights, shadow variants)
   and check the target (the configuration exists, the weighted variants are the
   variants production will have);
4. write the ledger attempt ``promotions/<id>/attempt.json`` (``in_progress``);
5. ``UpdateEndpoint`` (when the config changes), wait; then
   ``UpdateEndpointWeightsAndCapacities`` (when weights are given), wait;
6. verify the endpoint serves the target, write the final ledger record (the
   commit point).

Any failure in 5 or 6 (``endpoint_restore.py``) restores the ``before`` config (``UpdateEndpoint``) and
weights, waits, re-reads the endpoint to verify it equals ``before``, writes the
final record ``rolled_back`` (or ``failed`` naming what is left) and raises
:class:`~fraud_jlab.errors.AwsOperationError` whose message starts the verdict
with "production unchanged" or "Production MAY BE CHANGED". The lock is released
in ``finally``. A dry run validates and reads, writes nothing, and returns an
:class:`EndpointChangePlan`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict

from fraud_jlab.aws.errors import amended
from fraud_jlab.errors import AwsOperationError, ValidationError
from fraud_jlab.promotion.audit import RESTORE_RETRY_DELAYS, Audit
from fraud_jlab.promotion.endpoint_checks import (
    EndpointTarget,
    check_ab_test_id,
    check_change,
    check_text,
    check_weights,
    describe_state,
    endpoint_state,
    same_state,
)
from fraud_jlab.promotion.endpoint_restore import roll_back
from fraud_jlab.promotion.endpoint_store import EndpointStore
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.models import EndpointState, ProductionState, PromotionRecord
from fraud_jlab.promotion.store import ProductionStore

log = logging.getLogger(__name__)


class EndpointChangePlan(BaseModel):
    """What a dry run returns: the endpoint now and what the change would make it."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    ab_test_id: str
    before: EndpointState
    after: EndpointState
    changes: list[str]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _percent(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}%" for k, v in weights.items()) or "its initial weights"


class EndpointChanger:
    """Runs audited changes of one SageMaker endpoint (by default the production one).

    ``lock`` and ``ledger`` are the promotion lock and ledger of the config bucket
    (pass a :class:`~fraud_jlab.promotion.ProductionIntegrator`'s ``lock`` and ``ledger``
    to share them). ``waiter_delay`` is the poll interval of the ``endpoint_in_service`` waiter.
    """

    def __init__(
        self,
        sagemaker: Any,
        lock: PromotionLock,
        ledger: PromotionLedger,
        endpoint_name: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        retry_delays: tuple[float, ...] = RESTORE_RETRY_DELAYS,
        waiter_delay: int = 5,
        waiter_max_attempts: int = 360,
    ) -> None:
        self.sagemaker = sagemaker
        self.lock = lock
        self.ledger = ledger
        self.endpoint_name = endpoint_name
        self.clock = clock
        self.sleep = sleep
        self.retry_delays = retry_delays
        self.waiter_config = {"Delay": waiter_delay, "MaxAttempts": waiter_max_attempts}

    @classmethod
    def for_settings(
        cls,
        settings: Any,
        *,
        sagemaker: Any,
        s3: Any,
        clock: Callable[[], datetime] = _utcnow,
        **kwargs: Any,
    ) -> EndpointChanger:
        """The changer of ``settings.production_endpoint`` with the config bucket's lock/ledger."""
        store = ProductionStore(None, s3, settings.config_bucket, settings.ssm_prefix)
        lock = PromotionLock(s3, settings.config_bucket, clock, settings.promotion_lock_ttl_seconds)
        return cls(
            sagemaker,
            lock,
            PromotionLedger(store),
            settings.production_endpoint,
            clock=clock,
            **kwargs,
        )

    @property
    def bucket(self) -> str:
        return self.ledger.store.bucket

    @property
    def endpoint(self) -> EndpointStore:
        """The AWS calls of this changer's endpoint."""
        return EndpointStore(self.sagemaker, self.endpoint_name, self.waiter_config)

    def _audit(self) -> Audit:
        return Audit(self.lock, self.ledger, self.clock, self.sleep, self.retry_delays)

    # --- reading ---------------------------------------------------------------
    def read(self, step: str = "describe_endpoint") -> EndpointState:
        """The endpoint now; NotFoundError when it does not exist."""
        return self.endpoint.read(step)

    def _expected(
        self,
        before: EndpointState,
        target: EndpointTarget,
        *,
        planned: bool = False,
        new_config: tuple[dict[str, float], list[str]] | None = None,
    ) -> EndpointState:
        """The endpoint after ``target``; ValidationError when the target cannot apply.

        ``planned`` (a dry run) keeps a new configuration's initial weights as the weights
        after; ``new_config`` gives the variants of a target configuration not created yet.
        """
        if target.config_name is not None and target.config_name != before.config_name:
            base, shadows = new_config or self.endpoint.config_variants(target.config_name)
        else:
            base, shadows = dict(before.weights), list(before.shadow_variants)
        weights = dict(target.weights) if target.weights is not None else base
        if target.weights is not None and set(weights) != set(base):
            raise ValidationError(
                f"weights must name exactly the production variants {sorted(base)} of "
                f"{target.config_name or before.config_name!r}, got {sorted(weights)}",
                field="weights",
            )
        if target.weights is None and target.config_name not in (None, before.config_name):
            # A new config serves its own initial weights: record them as described after.
            weights = dict(base) if planned else {}
        return EndpointState(
            endpoint_name=self.endpoint_name,
            config_name=target.config_name or before.config_name,
            weights=weights,
            shadow_variants=shadows,
        )

    # --- the public call --------------------------------------------------------
    def change(
        self,
        *,
        kind: str,
        ab_test_id: str,
        approver: str,
        reason: str | None,
        target: EndpointTarget,
        dry_run: bool = False,
    ) -> PromotionRecord | EndpointChangePlan:
        """Apply ``target`` audited (see the module docstring).

        Returns the completed ledger record, or the plan for a dry run. Raises
        ValidationError (bad input, nothing read or written), NotFoundError (the
        endpoint or target configuration does not exist, nothing written),
        ConflictError (the promotion lock is held, nothing written) or
        AwsOperationError (``production_unchanged`` says whether it was restored).
        """
        ab_test_id, approver, why, target = check_change(
            kind, ab_test_id, approver, reason, target, dry_run
        )
        if dry_run:
            return self.plan(kind, ab_test_id, target)
        audit = self._audit()
        return audit.run(
            approver,
            lambda pid: self._locked(audit, pid, kind, ab_test_id, approver, why, target),
        )

    def plan(
        self,
        kind: str,
        ab_test_id: str,
        target: EndpointTarget,
        *,
        new_config: tuple[dict[str, float], list[str]] | None = None,
        prelude: Sequence[str] = (),
    ) -> EndpointChangePlan:
        """What ``target`` would do to the endpoint, reading only (a dry run).

        ``before`` is the endpoint now, ``after`` what it would be, ``changes`` the calls in
        words (``prelude`` first: e.g. creating the ``new_config`` it would switch to).
        """
        with amended("Production unchanged.", production_unchanged=True):
            before = self.read()
            after = self._expected(before, target, planned=True, new_config=new_config)
        changes = list(prelude)
        if after.config_name != before.config_name:
            shadow = f"; shadow {', '.join(after.shadow_variants)}" if after.shadow_variants else ""
            changes.append(
                f"UpdateEndpoint {self.endpoint_name}: {before.config_name} -> "
                f"{after.config_name} ({_percent(after.weights)}{shadow})"
            )
        moved = before.model_copy(update={"config_name": after.config_name})
        if target.weights is not None and not same_state(moved, after):
            changes.append(
                f"UpdateEndpointWeightsAndCapacities {self.endpoint_name}: "
                + ", ".join(
                    f"{k} {before.weights.get(k, 0):g}% -> {v:g}%" for k, v in after.weights.items()
                )
            )
        return EndpointChangePlan(
            kind=kind, ab_test_id=ab_test_id, before=before, after=after, changes=changes
        )

    def _locked(
        self,
        audit: Audit,
        promotion_id: str,
        kind: str,
        ab_test_id: str,
        approver: str,
        reason: str,
        target: EndpointTarget,
    ) -> PromotionRecord:
        unchanged = f"Production unchanged (change {promotion_id})."
        with amended(unchanged, production_unchanged=True):
            before = self.read()
            expected = self._expected(before, target)
        empty = ProductionState(ssm={}, config=None)
        record = PromotionRecord(
            promotion_id=promotion_id,
            kind=kind,  # checked against ENDPOINT_CHANGE_KINDS
            status="rolled_back",
            run_id=ab_test_id,
            approver=approver,
            reason=reason,
            timestamp=self.clock(),
            before=empty,
            after=empty,
            parameter_store_backup_key="",
            ab_test_id=ab_test_id,
            endpoint_before=before,
            endpoint_after=expected,
        )
        try:
            audit.begin(record)
        except AwsOperationError as exc:
            exc.amend(unchanged, production_unchanged=True)
            audit.finish(record, exc.step or "ledger_attempt", str(exc), "rolled_back")
            raise
        endpoint = self.endpoint
        step = "start"
        try:
            if expected.config_name != before.config_name:
                step = "update_endpoint"
                endpoint.update_config(step, str(expected.config_name))
                step = "wait_update_endpoint"
                endpoint.wait(step)
            if target.weights is not None:
                step = "update_weights"
                endpoint.update_weights(step, dict(target.weights))
                step = "wait_update_weights"
                endpoint.wait(step)
            step = "verify"
            after = endpoint.read(step)
            if target.weights is None:
                expected.weights = dict(after.weights)
            if not same_state(after, expected):
                raise RuntimeError(
                    f"{self.endpoint_name} has {describe_state(after)} after the change, "
                    f"not {describe_state(expected)}"
                )
            record.endpoint_after = after
            record.status = "completed"
            step = "ledger_record"
            audit.ledger.write_record(record)
            log.info(
                "endpoint change %s (%s) of %s by %s: %s -> %s",
                promotion_id,
                kind,
                self.endpoint_name,
                approver,
                describe_state(before),
                describe_state(after),
            )
            return record
        except Exception as exc:  # any failure after the attempt must restore the endpoint
            record.status = "rolled_back"
            record.endpoint_after = expected
            raise roll_back(audit, endpoint, record, before, step, exc) from exc


__all__ = [
    "EndpointChangePlan",
    "EndpointChanger",
    "EndpointTarget",
    "check_ab_test_id",
    "check_text",
    "check_weights",
    "endpoint_state",
]
