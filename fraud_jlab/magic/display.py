"""Plain-text views of the core models for ``%fraud`` (printed, or IPython's ``text/plain`` repr)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from fraud_jlab.abtest.service import ABTestState
from fraud_jlab.abtest.view import ABTestView
from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.evaluation.intervals import ci_summary
from fraud_jlab.promotion import undo
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.promotion.models import (
    ProductionView,
    PromotionPlan,
    PromotionRecord,
    PromotionsPage,
)
from fraud_jlab.tracking.contract import RunDetail, RunsPage


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def when(value: Any) -> str:
    """A datetime as ISO 8601 to the second, or '-'."""
    return value.isoformat(timespec="seconds") if value is not None else "-"


def _section(title: str, items: dict[str, Any]) -> list[str]:
    if not items:
        return [f"{title}: none"]
    width = max(len(k) for k in items)
    return [f"{title}:"] + [f"  {k:<{width}}  {v}" for k, v in sorted(items.items())]


def run_detail_text(run: RunDetail) -> str:
    """Everything about one run, one fact a line."""
    lines = [
        f"Run {run.run_id}  {run.run_name!r}  experiment {run.experiment_name!r}  [{run.status}]",
        f"  started {when(run.start_time)}  ended {when(run.end_time)}  by {run.user}",
        f"  parent {run.parent_run_id or '-'}  children {', '.join(run.children) or '-'}",
        f"  code {run.code_version or '-'}  dataset {run.dataset_version or '-'}",
    ]
    lines += _section("Params", dict(run.params))
    lines += _section("Metrics", {k: _num(v) for k, v in run.metrics.items()})
    cis = ci_summary(dict(run.metrics), dict(run.tags))
    if cis:
        lines += _section("95% confidence intervals", cis)
    lines += _section("Tags", dict(run.tags))
    lines += _section("Artifacts", {a.path: f"{a.size_bytes} bytes" for a in run.artifacts})
    return "\n".join(lines)


def runs_frame(page: RunsPage) -> pd.DataFrame:
    """One row a run: id, name, experiment, status, start, then one ``metrics.<k>`` column a metric."""
    metric_names = sorted({m for r in page.runs for m in r.metrics})
    rows = [
        {
            "run_id": r.run_id,
            "run_name": r.run_name,
            "experiment": r.experiment_name,
            "status": r.status,
            "start_time": r.start_time,
            **{f"metrics.{m}": r.metrics.get(m) for m in metric_names},
        }
        for r in page.runs
    ]
    columns = ["run_id", "run_name", "experiment", "status", "start_time"]
    return pd.DataFrame(rows, columns=columns + [f"metrics.{m}" for m in metric_names])


def compare_text(result: CompareResult) -> str:
    """The baseline, the per-metric deltas (with CIs when paired) and the notes.

    ``role`` is primary (tested alone), secondary (Holm-corrected; ``significant`` uses the
    adjusted p-value shown as ``p (Holm)``) or descriptive (not tested). ``paired`` says
    whether the two runs were scored on the same holdout rows, ``method`` how the CI and p were
    computed (DeLong for ROC AUC, paired bootstrap otherwise).
    """
    names = {r.run_id: r.run_name for r in result.runs}
    lines = [
        f"Compared {len(result.runs)} runs on {len(result.metric_names)} metrics; "
        + (
            f"baseline {names.get(result.baseline_run_id, '')} ({result.baseline_run_id})"
            if result.baseline_run_id
            else "no baseline (pass --baseline RUN_ID)"
        )
    ]
    if result.baseline_run_id:
        lines.append(
            f"Primary metric: {result.primary_metric} (decides significance at 5%); other "
            "headline metrics Holm-corrected; the rest descriptive"
        )
    if result.deltas:
        table = pd.DataFrame(
            [
                {
                    "run": names.get(d.run_id, ""),
                    "run_id": d.run_id,
                    "metric": d.metric,
                    "value": _num(d.value),
                    "baseline": _num(d.baseline_value),
                    "delta": f"{d.delta:+.4g}",
                    "95% CI": (
                        f"[{d.ci_low:+.4g}, {d.ci_high:+.4g}]"
                        if d.ci_low is not None and d.ci_high is not None
                        else "-"
                    ),
                    "role": d.role,
                    "paired": "yes" if d.paired else "no",
                    "method": d.method or "-",
                    "p": _p(d.p_value),
                    "p (Holm)": _p(d.p_adjusted) if d.role == "secondary" else "-",
                    "significant": "-"
                    if d.significant is None
                    else ("yes" if d.significant else "no"),
                }
                for d in result.deltas
            ]
        )
        lines.append(table.to_string(index=False))
    lines += [f"Note: {n}" for n in result.notes]
    return "\n".join(lines)


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def plan_text(plan: PromotionPlan, *, trigger_pipeline: bool = False) -> str:
    """A dry run: gate results, the SSM diff and the config model change."""
    lines = [f"Dry run for run {plan.run_id}: nothing written yet.", "Gates:"]
    lines += [f"  [{'PASS' if g.passed else 'FAIL'}] {g.name}: {g.detail}" for g in plan.gates]
    lines.append("SSM parameters:")
    for d in plan.diff.ssm:
        mark = "changes" if d.changed else "unchanged"
        lines.append(
            f"  {d.path}: {d.current if d.current is not None else '(not set)'} -> {d.new}  ({mark})"
        )
    lines.append(
        "Config model: "
        + _model_line(plan.diff.config.current)
        + " -> "
        + _model_line(plan.diff.config.new)
    )
    if trigger_pipeline:
        lines.append("The production pipeline will be started.")
    return "\n".join(lines)


def _model_line(config: dict[str, Any] | None) -> str:
    model = config.get("model") if isinstance(config, dict) else None
    if not isinstance(model, dict):
        return "(no config)"
    return f"version {model.get('version', '-')} approved by {model.get('approved_by', '-')}"


def record_text(record: PromotionRecord) -> str:
    """The ledger record summary a user needs to find, audit or undo the change."""
    title = "Rollback" if record.kind == "rollback" else "Promotion"
    lines = [
        f"{title} {record.promotion_id}: {record.status}",
        f"  run {record.run_id}"
        + (f" ({record.experiment_name})" if record.experiment_name else "")
        + f"  approver {record.approver}  at {when(record.timestamp)}",
        f"  reason: {record.reason}",
        f"  SSM backup key: {record.parameter_store_backup_key}",
        f"  config backup key: {record.config_file_backup_key or '-'}",
        f"  pipeline execution: {record.pipeline_execution_arn or 'not started'}"
        + (f" ({record.pipeline_status})" if record.pipeline_status else ""),
    ]
    if record.rollback_of and record.rollback_target == "before":
        lines.append(f"  undoes {record.rollback_of} (restored the state before it)")
    elif record.rollback_of:
        lines.append(f"  restored the state of promotion {record.rollback_of}")
    if record.forced:
        overridden = ", ".join(record.forced_gates)
        lines.append("  forced past failed gates" + (f": {overridden}" if overridden else ""))
    if record.error:
        lines.append(f"  error at {record.failed_step or '-'}: {record.error}")
    return "\n".join(lines)


def promotions_frame(page: PromotionsPage) -> pd.DataFrame:
    """One row a ledger record, newest first."""
    columns = [
        "promotion_id",
        "kind",
        "status",
        "run_id",
        "experiment",
        "approver",
        "reason",
        "timestamp",
        "forced",
        "rollback_of",
        "pipeline_execution_arn",
        "error",
        "change",
    ]
    rows = [
        {
            **r.model_dump(include=set(columns)),
            "experiment": r.experiment_name,
            "change": undo.describe(r),
        }
        for r in page.promotions
    ]
    return pd.DataFrame(rows, columns=columns)


def production_text(view: ProductionView) -> str:
    """Live SSM values, the config's model version/approver and the promotion behind them."""
    lines = _section(
        "Production SSM parameters",
        {p: v if v is not None else "(not set)" for p, v in view.ssm.items()},
    )
    lines.append("Config model: " + _model_line(view.config))
    p = view.promotion
    lines.append(
        f"Set by {p.kind} {p.promotion_id} of run {p.run_id} at {when(p.timestamp)} "
        f"by {p.approver}: {p.reason}"
        if p is not None
        else "Set by: no completed promotion in the ledger"
    )
    return "\n".join(lines)


def _one_line(obj: Any) -> str:
    if isinstance(obj, PromotionRecord):
        return f"<PromotionRecord {obj.promotion_id} {obj.kind} {obj.status} run={obj.run_id}>"
    if isinstance(obj, PromotionPlan):
        state = "passed" if obj.gates_passed else "failed"
        changed = sum(d.changed for d in obj.diff.ssm)
        return f"<PromotionPlan run={obj.run_id} gates {state}, {changed} SSM values change>"
    if isinstance(obj, EndpointChangePlan):
        return f"<EndpointChangePlan {obj.kind} {obj.ab_test_id}, {len(obj.changes)} changes>"
    if isinstance(obj, CompareResult):
        return (
            f"<CompareResult {len(obj.runs)} runs, baseline={obj.baseline_run_id}, "
            f"{len(obj.deltas)} deltas; figures in .figures>"
        )
    return repr(obj)


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}%" for name, value in weights.items()) or "-"


def endpoint_plan_text(plan: EndpointChangePlan) -> str:
    """A dry run of an endpoint change: the endpoint now and the calls that would change it."""
    lines = [
        f"Dry run for {plan.kind} {plan.ab_test_id}: nothing written yet.",
        f"  endpoint {plan.before.endpoint_name} now: config {plan.before.config_name} "
        f"({_weights(plan.before.weights)})",
        f"  after: config {plan.after.config_name} ({_weights(plan.after.weights)})"
        + (
            f", shadow {', '.join(plan.after.shadow_variants)}"
            if plan.after.shadow_variants
            else ""
        ),
        "Changes:",
    ]
    lines += [f"  {change}" for change in plan.changes]
    return "\n".join(lines)


def _stage(state: ABTestState) -> str:
    if state.stage < 0:
        return "shadow stage (the challenger scores a copy of the traffic)"
    return f"stage {state.stage + 1} of {len(state.plan)}"


def ab_test_text(state: ABTestState) -> str:
    """An A/B test: status, stage of the plan, live weights and who did what."""
    plan = " -> ".join(f"{p}%" for p in state.plan)
    lines = [
        f"A/B test {state.ab_test_id}: {state.status}",
        f"  run {state.experiment_id} on endpoint {state.endpoint_name}",
        f"  {_stage(state)} (plan {plan}); weights {_weights(state.weights)}",
        f"  champion config {state.champion_config}; A/B config {state.ab_config}"
        + (f"; promoted config {state.promoted_config}" if state.promoted_config else ""),
        f"  started {when(state.started_at)} by {state.started_by}",
    ]
    lines += [
        f"  {when(e.timestamp)}  {e.action:<8} by {e.approver}: {e.reason} "
        f"(ledger {e.promotion_id})"
        for e in state.history
    ]
    return "\n".join(lines)


def _estimate(value: dict[str, Any] | None) -> str:
    if not value or value.get("value") is None:
        return "-"
    low, high = value.get("low"), value.get("high")
    ci = f" [{low:.3g}, {high:.3g}]" if low is not None and high is not None else ""
    return f"{value['value']:.3g}{ci}"


def ab_view_text(view: ABTestView) -> str:
    """An A/B test as ``GET ab-tests/{id}`` answers it: state, design, data, readout, decision."""
    data, rec = view.data, view.recommendation
    lines = [ab_test_text(view.state)]
    if view.design:
        lines.append(f"  design: {view.design.get('summary', '')}")
    lines.append(
        f"  data: {data.records_scored} scored, {data.records_labelled} labelled "
        f"({data.frauds_labelled} frauds), {data.records_unlabelled} unlabelled; label cut-off "
        f"{data.label_cutoff or 'none yet'}"
        + (f"; {data.malformed} malformed lines" if data.malformed else "")
    )
    variants: dict[str, Any] = (view.readout or {}).get("variants", {})
    metrics = ("detection_rate", "average_precision", "recall_at_fpr", "alert_rate", "accuracy")
    for name, v in variants.items():
        lat = view.latency.get(name)
        p99 = "-" if lat is None or lat.p99_ms is None else f"{lat.p99_ms:.1f} ms ({lat.source})"
        shown = ", ".join(f"{m} {_estimate(v.get(m))}" for m in metrics)
        lines.append(f"  {name}: {v.get('n_labelled', 0)} labelled; {shown}; p99 {p99}")
    if view.srm:
        lines.append(f"  sample ratio: {view.srm.get('detail', '')}")
    lines.append(f"  recommendation: {rec.action.upper()}: {rec.reason}")
    return "\n".join(lines)


def ab_tests_frame(tests: list[ABTestState]) -> pd.DataFrame:
    """Every A/B test, one row each."""
    rows = [
        {
            "ab_test_id": t.ab_test_id,
            "status": t.status,
            "run_id": t.experiment_id,
            "stage": "shadow" if t.stage < 0 else f"{t.stage + 1}/{len(t.plan)}",
            "weights": _weights(t.weights),
            "started": when(t.started_at),
            "started_by": t.started_by,
        }
        for t in tests
    ]
    columns = ["ab_test_id", "status", "run_id", "stage", "weights", "started", "started_by"]
    return pd.DataFrame(rows, columns=columns)


def _printer(render: Callable[[Any], str]) -> Callable[[Any, Any, bool], None]:
    def pretty(obj: Any, p: Any, cycle: bool) -> None:
        p.text(render(obj))

    return pretty


def register_formatters(ipython: Any) -> None:
    """Readable ``text/plain`` reprs in IPython for the models ``%fraud`` returns.

    Records, plans and comparison results get one line, because the magic has
    already printed their summary; runs and the production view get the full text.
    """
    formatter = ipython.display_formatter.formatters["text/plain"]
    formatter.for_type(RunDetail, _printer(run_detail_text))
    formatter.for_type(ProductionView, _printer(production_text))
    formatter.for_type(ABTestState, _printer(ab_test_text))
    formatter.for_type(ABTestView, _printer(ab_view_text))
    for cls in (PromotionRecord, PromotionPlan, CompareResult, EndpointChangePlan):
        formatter.for_type(cls, _printer(_one_line))
