"""A/B tests as persisted, audited rollouts on the production endpoint.

An A/B test puts champion and challenger side by side as two production
variants (``Champion`` and ``Challenger``) of the production endpoint and moves
traffic through a rollout plan of challenger percentages (default 10 -> 25 ->
50 -> 100). Every endpoint write is an audited endpoint change
(:mod:`fraud_jlab.promotion.endpoint_change`: approver, reason, the promotion
lock, ledger records before and after, restore on failure):

- ``start``: a SageMaker model of the challenger's artifact and an endpoint
  configuration ``<test id>`` with both variants at the plan's first stage;
  ``ab_deploy`` switches production to it (config + weights);
- ``advance``: ``ab_weights`` (``UpdateEndpointWeightsAndCapacities``) to the next stage;
- ``promote``: an endpoint configuration with the challenger's model alone
  (the test id with ``challenger`` replaced by ``champion``); ``ab_promote``
  switches production to it; status ``completed``;
- ``rollback`` / ``stop``: ``ab_rollback`` / ``ab_stop`` switch production back to
  the champion's configuration from before the test; status ``rolled_back`` /
  ``stopped``.

The test's state lives in the config bucket beside the ledger:
``ab-tests/<id>/state.json`` (created with ``IfNoneMatch='*'``, then replaced
only with ``IfMatch=<ETag read>``) and one append-only event object per action
``ab-tests/<id>/events/<ULID>.json`` (``IfNoneMatch='*'``, never overwritten).
A new service instance (a restarted server) reads the same state.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from fraud_jlab.abtest.capture import latency_stats, read_capture
from fraud_jlab.abtest.challenger import EXPERIMENT_TAG, challenger_container, check_artifact
from fraud_jlab.abtest.deploy import (
    create_promoted,
    create_then_switch,
    promoted_config,
    start_plan,
)
from fraud_jlab.abtest.manager import ABTestingManager
from fraud_jlab.abtest.naming import challenger_endpoint_name, experiment_slug
from fraud_jlab.abtest.state import (
    CHALLENGER_VARIANT,
    CHAMPION_VARIANT,
    DEFAULT_PLAN,
    ABTestEvent,
    ABTestState,
    ABTestStore,
    check_plan,
    shadow_config_name,
    stage_weights,
)
from fraud_jlab.abtest.traffic import default_success_criteria
from fraud_jlab.abtest.view import ABTestView, build_view, start_design, view_window
from fraud_jlab.aws import client as aws_client
from fraud_jlab.errors import ConflictError, ValidationError
from fraud_jlab.models.abtest import SuccessCriteria
from fraud_jlab.promotion.endpoint_change import (
    EndpointChangePlan,
    EndpointTarget,
    check_ab_test_id,
)
from fraud_jlab.promotion.endpoint_checks import check_audit
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.tracking.ids import new_id

log = logging.getLogger(__name__)
Action = Literal["advance", "promote", "rollback", "stop"]


class ABTestService:
    """Start, list, read, advance, promote, roll back and stop A/B tests (the REST/magic API)."""

    def __init__(self, manager: ABTestingManager, *, cloudwatch: Any = None) -> None:
        self.manager = manager
        self.store = ABTestStore(manager.s3, manager.settings.config_bucket)
        self._cloudwatch = cloudwatch

    @property
    def cloudwatch(self) -> Any:
        """The CloudWatch client the readout's latency comes from (made on first use)."""
        if self._cloudwatch is None:
            self._cloudwatch = aws_client("cloudwatch", self.manager.settings)
        return self._cloudwatch

    def criteria(self) -> SuccessCriteria:
        """The success criteria tests are judged by (the design's, ``min_accuracy`` from settings)."""
        return default_success_criteria(self.manager.settings.min_accuracy)

    @property
    def sagemaker(self) -> Any:
        return self.manager.sagemaker

    # --- reading ---------------------------------------------------------------
    def get(self, ab_test_id: str) -> ABTestState:
        return self.store.read(check_ab_test_id(ab_test_id))[0]

    def list(self) -> list[ABTestState]:
        """Every A/B test, newest start first."""
        tests = [self.store.read(i)[0] for i in self.store.ids()]
        return sorted(tests, key=lambda t: t.started_at, reverse=True)

    # --- start -------------------------------------------------------------------
    def start(
        self,
        experiment_id: str,
        model_artifact_s3_path: str,
        *,
        approver: str | None,
        reason: str | None,
        plan: Sequence[int] = DEFAULT_PLAN,
        instance_type: str = "ml.m5.large",
        image_uri: str | None = None,
        environment: Mapping[str, str] | None = None,
        shadow: bool = False,
        dry_run: bool = False,
        artifact_pending: bool = False,
        named_at: datetime | None = None,
    ) -> ABTestState | EndpointChangePlan:
        """Deploy the challenger beside the champion at the plan's first stage (``ab_deploy``).

        With ``shadow`` the first stage (stage ``-1``) is a shadow variant: the challenger
        scores a copy of every request, customers see only the champion; ``advance`` then
        switches to the two-variant configuration at the plan's first stage.
        A dry run checks everything (not an ``artifact_pending``, uploaded later), creates
        nothing and returns what would change. ``named_at`` (default now) times the test's
        name: pass the dry run's so the test started is the one the dry run showed.
        """
        if not isinstance(shadow, bool):
            raise ValidationError(f"shadow must be true or false, got {shadow!r}", field="shadow")
        approver, reason = check_audit(approver, reason, dry_run)
        stages = check_plan(plan)
        experiment_slug(experiment_id)
        if not (dry_run and artifact_pending):
            check_artifact(self.manager.s3, model_artifact_s3_path)
        production = self.manager._describe_endpoint(self.manager.settings.production_endpoint)
        champion_config = str(production["EndpointConfigName"])
        champion = self.sagemaker.describe_endpoint_config(EndpointConfigName=champion_config)
        variant = champion["ProductionVariants"][0]
        name = challenger_endpoint_name(experiment_id, named_at or self.manager.clock())
        weights = stage_weights(stages[0])
        shadow_config = shadow_config_name(name) if shadow else None
        first_config, first_weights = (
            (shadow_config, {CHAMPION_VARIANT: 100.0}) if shadow_config else (name, weights)
        )
        # The sample size and duration the test needs, shown before it starts, kept with it.
        design = start_design(self.criteria())
        if dry_run:
            return start_plan(
                self.manager.changer.read(),
                name=name,
                artifact=model_artifact_s3_path,
                champion=variant,
                weights=weights,
                shadow_config=shadow_config,
                first_config=first_config,
                first_weights=first_weights,
                design_summary=str(design["summary"]),
            )
        tags = [{"Key": EXPERIMENT_TAG, "Value": experiment_slug(experiment_id)}]
        container = challenger_container(
            self.manager._region(), model_artifact_s3_path, image_uri, environment
        )
        record = create_then_switch(
            self.sagemaker,
            self.manager.settings,
            lambda: self._change(
                "ab_deploy", name, approver, str(reason), first_config, first_weights
            ),
            name=name,
            container=container,
            tags=tags,
            champion=variant,
            weights=weights,
            instance_type=instance_type,
            shadow_config=shadow_config,
        )
        now = self.manager.clock()
        state = ABTestState(
            ab_test_id=name,
            experiment_id=experiment_id,
            status="running",
            endpoint_name=self.manager.settings.production_endpoint,
            champion_config=champion_config,
            ab_config=name,
            challenger_model=name,
            plan=stages,
            stage=-1 if shadow else 0,
            weights=first_weights,
            shadow_config=shadow_config,
            started_at=now,
            started_by=approver,
            updated_at=now,
            design=design,
        )
        self._record(state, None, "start", approver, str(reason), record)
        return state

    # --- changes -----------------------------------------------------------------
    def _change(
        self,
        kind: str,
        ab_test_id: str,
        approver: str,
        reason: str,
        config_name: str | None,
        weights: Mapping[str, float] | None,
    ) -> PromotionRecord:
        record = self.manager.changer.change(
            kind=kind,
            ab_test_id=ab_test_id,
            approver=approver,
            reason=reason,
            target=EndpointTarget(config_name=config_name, weights=weights),
        )
        assert isinstance(record, PromotionRecord)
        return record

    def _record(
        self,
        state: ABTestState,
        etag: str | None,
        action: Literal["start", "advance", "promote", "rollback", "stop"],
        approver: str,
        reason: str,
        record: PromotionRecord,
    ) -> None:
        now = self.manager.clock()
        event = ABTestEvent(
            event_id=new_id(int(now.timestamp() * 1000)),
            action=action,
            approver=approver,
            reason=reason,
            timestamp=now,
            change_started_at=record.timestamp,
            promotion_id=record.promotion_id,
            stage=state.stage,
            weights=state.weights,
            status=state.status,
        )
        state.updated_at = now
        state.history.append(event)
        self.store.append_event(state.ab_test_id, event)
        self.store.write(state, etag)

    def _running(
        self, ab_test_id: str, approver: Any, reason: Any, dry_run: bool
    ) -> tuple[ABTestState, str, str, str]:
        approver, reason = check_audit(approver, reason, dry_run)
        state, etag = self.store.read(check_ab_test_id(ab_test_id))
        if state.status != "running":
            raise ConflictError(
                f"A/B test {ab_test_id} is {state.status}, not running; production unchanged"
            )
        return state, etag, approver, reason

    def advance(
        self,
        ab_test_id: str,
        *,
        approver: str | None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> ABTestState | EndpointChangePlan:
        """Move to the plan's next stage (``UpdateEndpointWeightsAndCapacities``, audited).

        Every change (advance, promote, rollback, stop) takes ``dry_run``: the same checks and
        refusals (ConflictError when the test is not running or at its last stage), nothing
        written, and the :class:`EndpointChangePlan` (endpoint before/after, calls in words).
        ``reason`` (and an approver) are required only for a real change (ValidationError).
        """
        state, etag, approver, reason = self._running(ab_test_id, approver, reason, dry_run)
        if state.stage + 1 >= len(state.plan):
            raise ConflictError(
                f"A/B test {ab_test_id} is at its last stage ({state.plan[state.stage]}%); "
                "promote or roll back. Production unchanged"
            )
        weights = stage_weights(state.plan[state.stage + 1])
        # From the shadow stage the two-variant configuration goes live (UpdateEndpoint).
        config = state.ab_config if state.stage < 0 else None
        if dry_run:
            return self.manager.changer.plan(
                "ab_weights", ab_test_id, EndpointTarget(config_name=config, weights=weights)
            )
        record = self._change("ab_weights", ab_test_id, approver, reason, config, weights)
        state.stage += 1
        state.weights = weights
        self._record(state, etag, "advance", approver, reason, record)
        return state

    def promote(
        self,
        ab_test_id: str,
        *,
        approver: str | None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> ABTestState | EndpointChangePlan:
        """Production serves the challenger's model alone (``ab_promote``); status completed.

        The promoted configuration (the challenger's variant alone, named ``Champion``) is
        created first unless it exists; a dry run only lists it in the plan's changes.
        """
        state, etag, approver, reason = self._running(ab_test_id, approver, reason, dry_run)
        promoted, variant, exists = promoted_config(self.sagemaker, state.ab_config)
        single = {CHAMPION_VARIANT: 100.0}
        target = EndpointTarget(config_name=promoted, weights=single)
        if dry_run:
            prelude = (
                []
                if exists
                else [
                    f"CreateEndpointConfig {promoted}: {CHAMPION_VARIANT} "
                    f"({variant['ModelName']}) 100%"
                ]
            )
            return self.manager.changer.plan(
                "ab_promote",
                ab_test_id,
                target,
                new_config=None if exists else (single, []),
                prelude=prelude,
            )
        if not exists:
            create_promoted(self.sagemaker, self.manager.settings, promoted, variant)
        record = self._change("ab_promote", ab_test_id, approver, reason, promoted, single)
        state.status = "completed"
        state.promoted_config = promoted
        state.weights = dict(single)
        self._record(state, etag, "promote", approver, reason, record)
        return state

    def rollback(
        self,
        ab_test_id: str,
        *,
        approver: str | None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> ABTestState | EndpointChangePlan:
        """Production back on the champion's configuration from before the test."""
        return self._back(ab_test_id, approver, reason, "rollback", dry_run)

    def stop(
        self,
        ab_test_id: str,
        *,
        approver: str | None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> ABTestState | EndpointChangePlan:
        """End a running test without a winner: production back on the champion."""
        return self._back(ab_test_id, approver, reason, "stop", dry_run)

    def _back(
        self,
        ab_test_id: str,
        approver: Any,
        reason: Any,
        action: Literal["rollback", "stop"],
        dry_run: bool,
    ) -> ABTestState | EndpointChangePlan:
        approver, reason = check_audit(approver, reason, dry_run)
        state, etag = self.store.read(check_ab_test_id(ab_test_id))
        allowed = ("running", "completed") if action == "rollback" else ("running",)
        if state.status not in allowed:
            raise ConflictError(
                f"A/B test {ab_test_id} is {state.status}; cannot {action} it. Production unchanged"
            )
        kind = "ab_rollback" if action == "rollback" else "ab_stop"
        if dry_run:
            target = EndpointTarget(config_name=state.champion_config)
            return self.manager.changer.plan(kind, ab_test_id, target)
        record = self._change(kind, ab_test_id, approver, reason, state.champion_config, None)
        state.status = "rolled_back" if action == "rollback" else "stopped"
        assert record.endpoint_after is not None
        state.weights = dict(record.endpoint_after.weights)
        self._record(state, etag, action, approver, reason, record)
        return state

    def view(self, ab_test_id: str) -> ABTestView:
        """The test with its design, data, readout, SRM check, latency and recommendation."""
        state = self.get(ab_test_id)
        start, end = view_window(state, self.manager.clock())
        settings = self.manager.settings
        variants = (CHAMPION_VARIANT, CHALLENGER_VARIANT)
        capture = read_capture(
            self.store.s3,
            data_capture_uri=settings.data_capture_uri(),
            ground_truth_uri=settings.ground_truth_uri(),
            endpoint=state.endpoint_name,
            variants=variants,
            since=start,
            now=end,
        )
        latency = latency_stats(self.cloudwatch, state.endpoint_name, variants, start, end)
        return build_view(
            state, capture, latency, self.criteria(), now=end, target_fpr=settings.gate_target_fpr
        )

    def events(self, ab_test_id: str) -> builtins.list[ABTestEvent]:
        """The append-only event objects of a test, oldest first."""
        return self.store.events(check_ab_test_id(ab_test_id))


__all__ = ["ABTestEvent", "ABTestService", "ABTestState"]
