"""The audited path every change of the production SageMaker endpoint takes.

A/B testing changes production too: switching the endpoint to another endpoint
configuration (``UpdateEndpoint``) or moving traffic between its production
variants (``UpdateEndpointWeightsAndCapacities``). Such a change gets what a
Parameter Store promotion gets (see ``transaction.py``), with the same lock and
the same append-only ledger:

1. validate the input (approver, reason unless a dry run, kind, A/B test id,
   target config name and/or weights) - nothing is read or written on bad input;
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

Any failure in 5 or 6 restores the ``before`` config (``UpdateEndpoint``) and
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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import map_aws_error
from fraud_jlab.errors import AwsOperationError, FraudJlabError, NotFoundError, ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME
from fraud_jlab.promotion.endpoint_checks import check_ab_test_id, check_text, check_weights
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.models import (
    ENDPOINT_CHANGE_KINDS,
    EndpointState,
    ProductionState,
    PromotionRecord,
)
from fraud_jlab.promotion.store import ProductionStore, aws_step
from fraud_jlab.tracking.ids import new_id

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Sleeps between the tries of a failed restore call (so 3 tries in all).
RESTORE_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.2)


class EndpointChangePlan(BaseModel):
    """What a dry run returns: the endpoint now and what the change would make it."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    ab_test_id: str
    before: EndpointState
    after: EndpointState
    changes: list[str]


@dataclass(frozen=True)
class EndpointTarget:
    """What the endpoint should become: a config name and/or variant weights (percent)."""

    config_name: str | None = None
    weights: Mapping[str, float] | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def endpoint_state(description: Mapping[str, Any]) -> EndpointState:
    """An :class:`EndpointState` from a ``DescribeEndpoint`` response."""
    weights: dict[str, float] = {}
    for variant in description.get("ProductionVariants") or []:
        weight = variant.get("CurrentWeight", variant.get("DesiredWeight"))
        weights[str(variant["VariantName"])] = float(weight) if weight is not None else 1.0
    shadows = [str(v["VariantName"]) for v in description.get("ShadowProductionVariants") or []]
    return EndpointState(
        endpoint_name=str(description["EndpointName"]),
        config_name=description.get("EndpointConfigName"),
        weights=weights,
        shadow_variants=shadows,
    )


def _same(a: EndpointState, b: EndpointState) -> bool:
    if a.config_name != b.config_name or set(a.weights) != set(b.weights):
        return False
    if sorted(a.shadow_variants) != sorted(b.shadow_variants):
        return False
    return all(abs(a.weights[k] - b.weights[k]) <= 1e-6 for k in a.weights)


def _percent(weights: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}%" for k, v in weights.items()) or "its initial weights"


def _describe(state: EndpointState) -> str:
    weights = ", ".join(f"{k}={v:g}" for k, v in sorted(state.weights.items()))
    return f"config {state.config_name!r}, weights {{{weights}}}"


class EndpointChanger:
    """Runs audited changes of one SageMaker endpoint (by default the production one).

    ``lock`` and ``ledger`` are the promotion lock and ledger of the config bucket
    (pass the ones of a :class:`~fraud_jlab.promotion.building_blocks` object to share
    them). ``waiter_delay`` is the poll interval of the ``endpoint_in_service`` waiter.
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

    # --- reading ---------------------------------------------------------------
    def read(self, step: str = "describe_endpoint") -> EndpointState:
        """The endpoint now; NotFoundError when it does not exist."""
        try:
            resp = aws_step(
                step,
                "sagemaker",
                None,
                self.sagemaker.describe_endpoint,
                EndpointName=self.endpoint_name,
            )
        except AwsOperationError as exc:
            if _missing(exc):
                raise NotFoundError("endpoint", self.endpoint_name) from exc
            raise
        return endpoint_state(resp)

    def _config_variants(self, config_name: str) -> tuple[dict[str, float], list[str]]:
        """A configuration's production variants (initial weights in percent) and shadows."""
        try:
            resp = aws_step(
                "describe_endpoint_config",
                "sagemaker",
                None,
                self.sagemaker.describe_endpoint_config,
                EndpointConfigName=config_name,
            )
        except AwsOperationError as exc:
            if _missing(exc):
                raise NotFoundError("endpoint configuration", config_name) from exc
            raise
        variants = resp.get("ProductionVariants") or []
        raw = {str(v["VariantName"]): float(v.get("InitialVariantWeight", 1.0)) for v in variants}
        total = sum(raw.values()) or 1.0
        shadows = [str(v["VariantName"]) for v in resp.get("ShadowProductionVariants") or []]
        return {k: 100.0 * w / total for k, w in raw.items()}, shadows

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
            base, shadows = new_config or self._config_variants(target.config_name)
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
        approver = check_text(approver, "approver", max_len=256)
        if not dry_run:
            reason = check_text(reason, "reason")
        elif reason is not None and not isinstance(reason, str):
            raise ValidationError(f"reason must be a string, got {reason!r}", field="reason")
        if kind not in ENDPOINT_CHANGE_KINDS:
            raise ValidationError(
                f"kind must be one of {', '.join(ENDPOINT_CHANGE_KINDS)}, got {kind!r}",
                field="kind",
            )
        ab_test_id = check_ab_test_id(ab_test_id)
        if target.config_name is not None and (
            not isinstance(target.config_name, str)
            or not ENDPOINT_NAME.fullmatch(target.config_name)
        ):
            raise ValidationError(
                f"config_name must be a SageMaker endpoint configuration name, got {target.config_name!r}",
                field="config_name",
            )
        weights = check_weights(target.weights) if target.weights is not None else None
        if target.config_name is None and weights is None:
            raise ValidationError(
                "an endpoint change needs a target: config_name and/or weights", field="target"
            )
        target = EndpointTarget(target.config_name, weights)
        if dry_run:
            return self.plan(kind, ab_test_id, target)
        try:
            lease = self.lock.acquire(approver)
        except AwsOperationError as exc:
            self._unchanged(exc)
            raise
        try:
            return self._locked(kind, ab_test_id, approver, str(reason), target, lease)
        finally:
            self.lock.release(lease)

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
        try:
            before = self.read()
            after = self._expected(before, target, planned=True, new_config=new_config)
        except AwsOperationError as exc:
            self._unchanged(exc)
            raise
        changes = list(prelude)
        if after.config_name != before.config_name:
            changes.append(
                f"UpdateEndpoint {self.endpoint_name}: {before.config_name} -> "
                f"{after.config_name} ({_percent(after.weights)}"
                + (
                    f"; shadow {', '.join(after.shadow_variants)})"
                    if after.shadow_variants
                    else ")"
                )
            )
        moved = before.model_copy(update={"config_name": after.config_name})
        if target.weights is not None and not _same(moved, after):
            changes.append(
                f"UpdateEndpointWeightsAndCapacities {self.endpoint_name}: "
                + ", ".join(
                    f"{k} {before.weights.get(k, 0):g}% -> {v:g}%" for k, v in after.weights.items()
                )
            )
        return EndpointChangePlan(
            kind=kind, ab_test_id=ab_test_id, before=before, after=after, changes=changes
        )

    def _unchanged(self, exc: AwsOperationError, promotion_id: str | None = None) -> None:
        """Amend the AWS error in place: nothing of the endpoint was changed."""
        suffix = "Production unchanged" + (f" (change {promotion_id})." if promotion_id else ".")
        exc.amend(suffix, production_unchanged=True)

    def _locked(
        self,
        kind: str,
        ab_test_id: str,
        approver: str,
        reason: str,
        target: EndpointTarget,
        lease: Any,
    ) -> PromotionRecord:
        promotion_id = new_id(int(self.clock().timestamp() * 1000))
        try:
            self.lock.name_promotion(lease, promotion_id)
            before = self.read()
            expected = self._expected(before, target)
        except AwsOperationError as exc:
            self._unchanged(exc, promotion_id)
            raise
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
            self.ledger.write_attempt(
                promotion_id, record.model_dump(mode="json") | {"status": "in_progress"}
            )
        except AwsOperationError as exc:
            self._unchanged(exc, promotion_id)
            self._finish(record, exc.step or "ledger_attempt", str(exc), "rolled_back")
            raise
        step = "start"
        try:
            if expected.config_name != before.config_name:
                step = "update_endpoint"
                self._update_config(step, str(expected.config_name))
                step = "wait_update_endpoint"
                self._wait(step)
            if target.weights is not None:
                step = "update_weights"
                self._update_weights(step, dict(target.weights))
                step = "wait_update_weights"
                self._wait(step)
            step = "verify"
            after = self.read(step)
            if target.weights is None:
                expected.weights = dict(after.weights)
            if not _same(after, expected):
                raise RuntimeError(
                    f"{self.endpoint_name} has {_describe(after)} after the change, "
                    f"not {_describe(expected)}"
                )
            record.endpoint_after = after
            record.status = "completed"
            step = "ledger_record"
            self.ledger.write_record(record)
            log.info(
                "endpoint change %s (%s) of %s by %s: %s -> %s",
                promotion_id,
                kind,
                self.endpoint_name,
                approver,
                _describe(before),
                _describe(after),
            )
            return record
        except Exception as exc:  # any failure after the attempt must restore the endpoint
            record.status = "rolled_back"
            record.endpoint_after = expected
            raise self._roll_back(record, before, step, exc) from exc

    # --- AWS calls -----------------------------------------------------------
    def _update_config(self, step: str, config_name: str) -> None:
        aws_step(
            step,
            "sagemaker",
            None,
            self.sagemaker.update_endpoint,
            EndpointName=self.endpoint_name,
            EndpointConfigName=config_name,
        )

    def _update_weights(self, step: str, weights: dict[str, float]) -> None:
        aws_step(
            step,
            "sagemaker",
            None,
            self.sagemaker.update_endpoint_weights_and_capacities,
            EndpointName=self.endpoint_name,
            DesiredWeightsAndCapacities=[
                {"VariantName": name, "DesiredWeight": weight} for name, weight in weights.items()
            ],
        )

    def _wait(self, step: str) -> None:
        try:
            self.sagemaker.get_waiter("endpoint_in_service").wait(
                EndpointName=self.endpoint_name, WaiterConfig=self.waiter_config
            )
        except Exception as exc:
            raise map_aws_error(exc, service="sagemaker", step=step) from exc

    # --- restore -------------------------------------------------------------
    def _retrying(self, fn: Callable[[], T]) -> T:
        for delay in self.retry_delays:
            try:
                return fn()
            except AwsOperationError as exc:
                log.warning(
                    "restore step %s failed (%s); retrying in %.2fs",
                    exc.step,
                    exc.aws_error_code or exc,
                    delay,
                )
                self.sleep(delay)
        return fn()

    def _restore(self, before: EndpointState) -> list[str]:
        """Put the endpoint back to ``before``; what is left (empty when verified)."""
        problems: list[str] = []
        try:
            now = self._retrying(lambda: self.read("restore_read"))
        except (AwsOperationError, NotFoundError) as exc:
            return [f"could not read {self.endpoint_name} to restore it ({exc})"]
        if now.config_name != before.config_name and before.config_name is not None:
            config = before.config_name
            try:
                self._retrying(lambda: self._update_config("restore_endpoint", config))
                self._retrying(lambda: self._wait("restore_wait"))
                now = self._retrying(lambda: self.read("restore_read"))
            except AwsOperationError as exc:
                problems.append(
                    f"restoring config {config!r} failed at '{exc.step}' ({_code(exc)})"
                )
        if not _same(now, before) and now.config_name == before.config_name:
            weights = dict(before.weights)
            try:
                self._retrying(lambda: self._update_weights("restore_weights", weights))
                self._retrying(lambda: self._wait("restore_wait"))
            except AwsOperationError as exc:
                problems.append(f"restoring weights failed at '{exc.step}' ({_code(exc)})")
        try:
            after = self._retrying(lambda: self.read("verify_restore"))
        except AwsOperationError as exc:
            problems.append(f"could not verify the restore ({_code(exc)})")
            return problems
        if not _same(after, before):
            problems.append(
                f"the endpoint has {_describe(after)}, before it had {_describe(before)}"
            )
        return problems

    def _roll_back(
        self, record: PromotionRecord, before: EndpointState, step: str, cause: BaseException
    ) -> FraudJlabError:
        inner: BaseException = cause
        if isinstance(cause, AwsOperationError) and cause.__cause__ is not None:
            inner = cause.__cause__
        code = error_code(inner) or type(inner).__name__
        problems = self._restore(before)
        head = (
            f"Endpoint change {record.promotion_id} ({record.kind}) of {self.endpoint_name!r} "
            f"failed at step '{step}' ({code}): {inner}."
        )
        if not problems:
            message = (
                f"{head} The endpoint was restored and verified equal to its state before the "
                f"change: production unchanged ({_describe(before)})."
            )
            status = "rolled_back"
        else:
            message = (
                f"{head} Production MAY BE CHANGED, restore incomplete: {'; '.join(problems)}. "
                f"Before the change it had {_describe(before)}."
            )
            status = "failed"
        self._finish(record, step, message, status)
        return AwsOperationError(
            message, step=step, aws_error_code=code, production_unchanged=status == "rolled_back"
        )

    def _finish(self, record: PromotionRecord, step: str, message: str, status: str) -> None:
        record.status = "failed" if status == "failed" else "rolled_back"
        record.failed_step = step
        record.error = message
        try:
            self.ledger.write_record(record)
        except AwsOperationError as exc:
            log.error("Could not write ledger record %s: %s", record.promotion_id, exc)


def _missing(exc: AwsOperationError) -> bool:
    """SageMaker's answer for an endpoint (configuration) that does not exist."""
    cause = exc.__cause__
    return (
        cause is not None
        and error_code(cause) == "ValidationException"
        and ("not find" in str(cause))
    )


def _code(exc: AwsOperationError) -> str:
    """The AWS error code of ``exc`` (or the underlying exception's text)."""
    return exc.aws_error_code or str(exc.__cause__ or exc)


__all__ = [
    "EndpointChangePlan",
    "EndpointChanger",
    "EndpointTarget",
    "check_ab_test_id",
    "check_text",
    "check_weights",
    "endpoint_state",
]
