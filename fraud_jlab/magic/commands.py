"""``%fraud`` sub-commands: parse, call the same core functions as the REST API, print.

Domain errors (:class:`fraud_jlab.errors.FraudJlabError`) are printed as one clear
message and the magic returns None; anything else is a bug and propagates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from fraud_jlab.abtest.from_run import ab_service, resolve_challenger, start_challenger
from fraud_jlab.abtest.service import ABTestService, ABTestState
from fraud_jlab.browse.names import resolve_run_ref, resolve_run_refs
from fraud_jlab.comparison.production import compare_with_production_default
from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.config import get_settings
from fraud_jlab.errors import FraudJlabError, ValidationError
from fraud_jlab.identity import Identity, resolve_identity
from fraud_jlab.magic import display
from fraud_jlab.magic.parser import HelpShown, MagicUsageError, parse_line, usage_message
from fraud_jlab.promotion import (
    ProductionIntegrator,
    ProductionView,
    PromotionPlan,
    PromotionRecord,
)
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.promotion.validation import validate_reason
from fraud_jlab.tracking.contract import RunDetail
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.tracking.run import get_run, search_runs


def _integrator() -> ProductionIntegrator:
    return ProductionIntegrator(settings=get_settings(), tracker=get_tracker())


def _identity() -> Identity:
    """The approver, resolved as the REST API does (the kernel knows no browser user)."""
    return resolve_identity(None, settings=get_settings(), use_kernel_environment=True)


def _confirm(question: str) -> bool:
    """Ask on stdin; only "y"/"yes" confirms (EOF, blank or anything else declines)."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def cmd_runs(ns: argparse.Namespace) -> Any:
    """``%fraud runs``: search runs; a DataFrame with one row a run (``--widget``: a RunBrowser)."""
    if ns.widget:
        from fraud_jlab.widgets.runs import RunBrowser

        return RunBrowser(filter=ns.filter, order_by=ns.order_by, page_size=ns.max_results)
    page = search_runs(ns.filter, ns.order_by, ns.max_results, ns.page_token, tracker=get_tracker())
    if page.next_page_token:
        print(
            f"Showing {len(page.runs)} of {'' if page.total_is_exact else 'at least '}"
            f"{page.total} matching runs; "
            f"next page: --page-token {page.next_page_token}"
        )
    return display.runs_frame(page)


def cmd_run(ns: argparse.Namespace) -> RunDetail:
    """``%fraud run RUN_ID``: the run in full."""
    tracker = get_tracker()
    return get_run(resolve_run_ref(ns.run_id, tracker=tracker), tracker=tracker)


def cmd_compare(ns: argparse.Namespace) -> CompareResult:
    """``%fraud compare``: print the delta table, return the full result (with figures)."""
    # The same core call as the REST handler: same default baseline (the run in production).
    tracker = get_tracker()
    run_ids = resolve_run_refs(ns.run_ids, tracker=tracker)
    baseline = (
        resolve_run_ref(ns.baseline, tracker=tracker, field="baseline") if ns.baseline else None
    )
    result = compare_with_production_default(
        run_ids, baseline, settings=get_settings(), tracker=tracker
    )
    print(display.compare_text(result))
    return result


def cmd_promote(ns: argparse.Namespace) -> PromotionRecord | PromotionPlan | None:
    """``%fraud promote``: dry run shown, confirmation, then the all-or-nothing promotion."""
    reason: str = ns.reason
    if not ns.dry_run:
        if not reason.strip():
            raise ValidationError(
                "--reason is required for a real promotion (it is recorded in the ledger): "
                'add --reason "why", or use --dry-run to only see the plan. Nothing was written.',
                field="reason",
            )
        reason = validate_reason(reason)
    identity = _identity()
    # Refuse before anything is computed when nobody would be recorded as approver.
    approver = identity.approver_or_dry_run() if ns.dry_run else identity.require()
    integrator = _integrator()
    run_id = resolve_run_ref(ns.run_id, tracker=integrator.tracker, experiment_name=ns.experiment)
    plan = integrator.promote_run(run_id, approver=approver, reason=reason, dry_run=True)
    assert isinstance(plan, PromotionPlan)  # dry_run=True always returns the plan
    print(display.plan_text(plan, trigger_pipeline=ns.trigger_pipeline))
    if ns.dry_run:
        return plan
    if not plan.gates_passed and not ns.force:
        raise ValidationError(
            "Promotion gates failed (see above); nothing was written. "
            "Add --force to override (recorded in the ledger).",
            field="gates",
        )
    print(f"Approver recorded in the ledger: {approver} ({identity.source})")
    if not ns.yes and not _confirm(f"Promote run {plan.run_id} to production?"):
        print("Cancelled: nothing was written.")
        return None
    record = integrator.promote_run(
        plan.run_id,
        approver=approver,
        reason=reason,
        trigger_pipeline=ns.trigger_pipeline,
        force=ns.force,
    )
    assert isinstance(record, PromotionRecord)  # dry_run=False always returns the record
    print(display.record_text(record))
    return record


def cmd_rollback(ns: argparse.Namespace) -> PromotionRecord | None:
    """``%fraud rollback``: show what would be restored, confirm, restore all-or-nothing."""
    reason = validate_reason(ns.reason)
    approver = _identity().require()
    integrator = _integrator()
    target = integrator.ledger_get(ns.promotion_id)
    live = integrator.current_production()
    if ns.target == "before":
        state = integrator.state_before(target)
        print(
            f"Rollback undoes {target.kind} {target.promotion_id} (run {target.run_id}, "
            f"{display.when(target.timestamp)}): restores the state before it, from backup "
            f"{target.parameter_store_backup_key}:"
        )
    else:
        state = target.after
        print(
            f"Rollback restores the state {target.kind} {target.promotion_id} "
            f"(run {target.run_id}) left on {display.when(target.timestamp)}:"
        )
    for path, value in sorted(state.ssm.items()):
        now = live.ssm.get(path)
        mark = "unchanged" if now == value else "changes"
        shown = value if value is not None else "(not set)"
        print(f"  {path}: {now if now is not None else '(not set)'} -> {shown}  ({mark})")
    question = (
        f"Undo {target.kind} {target.promotion_id}?"
        if ns.target == "before"
        else f"Roll production back to promotion {target.promotion_id}?"
    )
    if not ns.yes and not _confirm(question):
        print("Cancelled: nothing was written.")
        return None
    record = integrator.rollback_to(
        target.promotion_id, approver=approver, reason=reason, target=ns.target
    )
    print(display.record_text(record))
    return record


def cmd_promotions(ns: argparse.Namespace) -> pd.DataFrame:
    """``%fraud promotions``: the ledger, newest first."""
    page = _integrator().list_promotions(ns.max_results, ns.page_token)
    if page.next_page_token:
        print(f"More promotions: --page-token {page.next_page_token}")
    if page.baseline is not None:
        print(
            "Production before fraud_jlab (backup of the first record, "
            f"{display.when(page.baseline.timestamp)}): restore it with "
            f"%fraud rollback {page.baseline.promotion_id} --target before --reason ..."
        )
    return display.promotions_frame(page)


def cmd_production(ns: argparse.Namespace) -> ProductionView:
    """``%fraud production``: live SSM values, config and the promotion that set them."""
    return _integrator().current_production()


def _ab_service() -> ABTestService:
    return ab_service(get_settings())


def _ab_start(ns: argparse.Namespace) -> ABTestState | EndpointChangePlan | None:
    """Dry run shown, confirmation, then the audited deploy of the challenger."""
    reason: str = ns.reason
    if not ns.dry_run:
        if not reason.strip():
            raise ValidationError(
                "--reason is required to start an A/B test (it is recorded in the ledger): "
                'add --reason "why", or use --dry-run to only see the plan. Nothing was written.',
                field="reason",
            )
        reason = validate_reason(reason)
    identity = _identity()
    approver = identity.approver_or_dry_run() if ns.dry_run else identity.require()
    tracker = get_tracker()
    challenger = resolve_challenger(tracker, ns.run_id, ns.artifact, get_settings())
    run_id = challenger.run_id
    service = _ab_service()
    start = partial(
        start_challenger,
        service,
        tracker,
        challenger,
        approver=approver,
        reason=reason,
        shadow=ns.shadow,
        named_at=service.manager.clock(),  # the test started is the one the dry run shows
    )
    plan = start(dry_run=True)
    assert isinstance(plan, EndpointChangePlan)  # dry_run=True always returns the plan
    print(display.endpoint_plan_text(plan))
    if ns.dry_run:
        return plan
    print(f"Approver recorded in the ledger: {approver} ({identity.source})")
    if not ns.yes and not _confirm(f"Start an A/B test of run {run_id} on production?"):
        print("Cancelled: nothing was written.")
        return None
    state = start()
    assert isinstance(state, ABTestState)  # dry_run=False always returns the state
    print(display.ab_test_text(state))
    return state


def _ab_change(ns: argparse.Namespace) -> ABTestState | EndpointChangePlan | None:
    """The change's dry run shown (the same checks), confirmation, then the audited change."""
    action: str = ns.ab_command
    reason: str = ns.reason
    if not ns.dry_run:
        if not reason.strip():
            raise ValidationError(
                f"--reason is required to {action} an A/B test (it is recorded in the ledger): "
                'add --reason "why", or use --dry-run to only see the plan. Nothing was written.',
                field="reason",
            )
        reason = validate_reason(reason)
    identity = _identity()
    approver = identity.approver_or_dry_run() if ns.dry_run else identity.require()
    change = getattr(_ab_service(), action)
    plan = change(ns.ab_test_id, approver=approver, reason=reason, dry_run=True)
    assert isinstance(plan, EndpointChangePlan)  # dry_run=True always returns the plan
    print(display.endpoint_plan_text(plan))
    if ns.dry_run:
        return plan
    print(f"Approver recorded in the ledger: {approver} ({identity.source})")
    if not ns.yes and not _confirm(f"{action.capitalize()} A/B test {plan.ab_test_id}?"):
        print("Cancelled: nothing was written.")
        return None
    result = change(plan.ab_test_id, approver=approver, reason=reason)
    assert isinstance(result, ABTestState)  # dry_run=False always returns the state
    print(display.ab_test_text(result))
    return result


def cmd_ab(ns: argparse.Namespace) -> Any:
    """``%fraud ab start|status|advance|promote|rollback|stop``: A/B tests, as over REST."""
    if ns.ab_command == "start":
        return _ab_start(ns)
    if ns.ab_command == "status":
        if ns.widget:
            from fraud_jlab.widgets.abtest import ABTestMonitor

            return ABTestMonitor(ns.ab_test_id)
        if ns.ab_test_id is None:
            return display.ab_tests_frame(_ab_service().list())
        return _ab_service().view(ns.ab_test_id)
    return _ab_change(ns)


COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "ab": cmd_ab,
    "runs": cmd_runs,
    "run": cmd_run,
    "compare": cmd_compare,
    "promote": cmd_promote,
    "rollback": cmd_rollback,
    "promotions": cmd_promotions,
    "production": cmd_production,
}


def _print_error(exc: FraudJlabError) -> None:
    lines = [f"Error: {exc}"]
    extra = getattr(exc, "errors", [])
    if len(extra) > 1:
        lines += [f"  - {e}" for e in extra]
    print("\n".join(lines), file=sys.stderr)


def fraud(line: str) -> Any:
    """The ``%fraud`` line magic: ``%fraud <command> [args]``; ``%fraud --help`` lists commands.

    Returns the command's result, or None after printing a usage or domain error.
    Exceptions that are not :class:`fraud_jlab.errors.FraudJlabError` propagate.
    """
    try:
        ns = parse_line(line)
    except HelpShown:
        return None
    except MagicUsageError as exc:
        print(usage_message(exc), file=sys.stderr)
        return None
    try:
        return COMMANDS[ns.command](ns)
    except FraudJlabError as exc:
        _print_error(exc)
        return None
