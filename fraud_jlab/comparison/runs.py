"""Run-vs-run comparison: metrics table, deltas against a baseline (paired CIs), overlay figures.

Example::

    result = compare_runs(["01J...A", "01J...B"], baseline_run_id="01J...P")
    for d in result.deltas:
        print(d.run_id, d.metric, d.delta, d.ci_low, d.ci_high, d.significant)

Paired confidence intervals need both runs to have stored ``evaluation/holdout_scores.npz``
(written by ``ModelEvaluator.evaluate_model(..., run=run)``) with the same ``holdout_hash``;
otherwise the delta is reported without an interval and ``notes`` says why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from pydantic import BaseModel, Field

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.evaluation.bootstrap import PairedDelta, check_bootstrap_args, paired_bootstrap
from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, HoldoutScores, read_holdout_scores
from fraud_jlab.evaluation.metrics import DEFAULT_TARGET_FPR, HEADLINE_METRICS
from fraud_jlab.evaluation.plots import downsample, pr_points, roc_points
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

_CI_SUFFIXES = ("_ci_low", "_ci_high")


class ComparedRun(BaseModel):
    run_id: str
    run_name: str
    experiment_name: str
    metrics: dict[str, float]
    params: dict[str, str]


class MetricDelta(BaseModel):
    run_id: str
    metric: str
    value: float
    baseline_value: float
    delta: float
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool | None = None
    paired: bool = Field(
        default=False, description="True when both runs stored holdout scores on the same holdout."
    )


class CompareFigures(BaseModel):
    metric_bars: dict[str, Any]
    roc: dict[str, Any] | None = None
    pr: dict[str, Any] | None = None
    parallel_coordinates: dict[str, Any] | None = None


class CompareResult(BaseModel):
    runs: list[ComparedRun]
    baseline_run_id: str | None = None
    metric_names: list[str]
    deltas: list[MetricDelta]
    figures: CompareFigures
    notes: list[str] = Field(default_factory=list)


def _figure_json(fig: go.Figure) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fig.to_json())
    return data


def _validate_ids(run_ids: Any, max_runs: Any) -> list[str]:
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 2:
        raise ValidationError(
            f"max_runs must be an integer >= 2, got {max_runs!r}", field="max_runs"
        )
    if isinstance(run_ids, str) or not isinstance(run_ids, Sequence):
        raise ValidationError("run_ids must be a list of run id strings", field="run_ids")
    bad = [r for r in run_ids if not isinstance(r, str) or not r.strip()]
    if bad:
        raise ValidationError(
            f"run_ids must be non-empty strings, got {bad[:3]!r}", field="run_ids"
        )
    ids = list(dict.fromkeys(r.strip() for r in run_ids))
    if not 2 <= len(ids) <= max_runs:
        raise ValidationError(
            f"run_ids must name between 2 and {max_runs} distinct runs, got {len(ids)}",
            field="run_ids",
        )
    return ids


def _holdout(tracker: TrackerStore, run: RunDetail, notes: list[str]) -> HoldoutScores | None:
    if not any(a.path == HOLDOUT_ARTIFACT for a in run.artifacts):
        return None
    try:
        return read_holdout_scores(tracker.read_artifact(run.run_id, HOLDOUT_ARTIFACT))
    except (ValidationError, NotFoundError) as exc:
        notes.append(f"run {run.run_id}: holdout scores unreadable ({exc}); no paired CIs for it")
        return None


def _float_tag(run: RunDetail, key: str, default: float) -> float:
    try:
        return float(run.tags.get(key, default))
    except ValueError:
        return default


def compare_runs(
    run_ids: Sequence[str],
    baseline_run_id: str | None = None,
    *,
    tracker: TrackerStore | None = None,
    production_run_id: str | None = None,
    max_runs: int = 10,
    n_bootstrap: int = 1000,
    random_state: int = 0,
) -> CompareResult:
    """Compare 2..``max_runs`` runs (duplicates removed) against a baseline.

    The baseline is ``baseline_run_id``, else ``production_run_id`` (the run in production),
    else none (no deltas). A baseline not among ``run_ids`` is added to the table. Raises
    ValidationError for a bad id list and NotFoundError for an unknown run id.
    """
    from fraud_jlab.tracking.registry import get_tracker

    ids = _validate_ids(run_ids, max_runs)
    check_bootstrap_args(n_bootstrap, 0.95)
    store = tracker or get_tracker()
    notes: list[str] = []
    details = {rid: store.get_run(rid) for rid in ids}

    baseline = (
        baseline_run_id.strip()
        if isinstance(baseline_run_id, str) and baseline_run_id.strip()
        else None
    )
    if baseline_run_id is not None and baseline is None:
        raise ValidationError(
            "baseline_run_id must be a non-empty string or null", field="baseline_run_id"
        )
    if baseline is None and production_run_id:
        try:
            details.setdefault(production_run_id, store.get_run(production_run_id))
            baseline = production_run_id
            notes.append(f"baseline: run {production_run_id}, currently in production")
        except NotFoundError:
            notes.append(
                f"the production run {production_run_id} is not in this tracker; no baseline"
            )
    elif baseline is not None and baseline not in details:
        details[baseline] = store.get_run(baseline)
        notes.append(f"baseline run {baseline} was added to the compared runs")

    holdouts = {rid: _holdout(store, d, notes) for rid, d in details.items()}
    metric_names = _metric_names(details.values())
    deltas = (
        _deltas(details, holdouts, baseline, n_bootstrap, random_state, notes) if baseline else []
    )
    figures = CompareFigures(
        metric_bars=_figure_json(_metric_bars(list(details.values()), metric_names)),
        roc=_overlay(details, holdouts, "roc"),
        pr=_overlay(details, holdouts, "pr"),
        parallel_coordinates=_parallel(list(details.values()), notes),
    )
    return CompareResult(
        runs=[
            ComparedRun(
                run_id=d.run_id,
                run_name=d.run_name,
                experiment_name=d.experiment_name,
                metrics=dict(d.metrics),
                params=dict(d.params),
            )
            for d in details.values()
        ],
        baseline_run_id=baseline,
        metric_names=metric_names,
        deltas=deltas,
        figures=figures,
        notes=notes,
    )


def _metric_names(runs: Any) -> list[str]:
    names = {m for d in runs for m in d.metrics if not m.endswith(_CI_SUFFIXES)}
    head = [m for m in HEADLINE_METRICS if m in names]
    return head + sorted(names - set(head))


def _deltas(
    details: dict[str, RunDetail],
    holdouts: dict[str, HoldoutScores | None],
    baseline: str,
    n_bootstrap: int,
    random_state: int,
    notes: list[str],
) -> list[MetricDelta]:
    base = details[baseline]
    base_scores = holdouts[baseline]
    out: list[MetricDelta] = []
    for rid, run in details.items():
        if rid == baseline:
            continue
        paired: dict[str, PairedDelta] = {}
        scores = holdouts[rid]
        if scores is not None and base_scores is not None:
            if scores.holdout_hash == base_scores.holdout_hash:
                paired = paired_bootstrap(
                    scores.y_true,
                    scores.y_score,
                    base_scores.y_score,
                    threshold=_float_tag(run, "evaluation.threshold", 0.5),
                    threshold_b=_float_tag(base, "evaluation.threshold", 0.5),
                    target_fpr=_float_tag(run, "evaluation.target_fpr", DEFAULT_TARGET_FPR),
                    n_bootstrap=n_bootstrap,
                    random_state=random_state,
                )
            else:
                notes.append(
                    f"run {rid} and the baseline were evaluated on different holdouts; no paired CIs"
                )
        elif scores is None or base_scores is None:
            missing = rid if scores is None else baseline
            notes.append(
                f"run {missing} has no stored holdout scores; deltas against it have no CI"
            )
        for metric, value in run.metrics.items():
            if metric.endswith(_CI_SUFFIXES) or metric not in base.metrics:
                continue
            delta = MetricDelta(
                run_id=rid,
                metric=metric,
                value=value,
                baseline_value=base.metrics[metric],
                delta=value - base.metrics[metric],
            )
            if metric in paired:
                p = paired[metric]
                delta.ci_low, delta.ci_high, delta.significant, delta.paired = (
                    p.low,
                    p.high,
                    p.significant,
                    True,
                )
            out.append(delta)
    return out


def _metric_bars(runs: list[RunDetail], metric_names: list[str]) -> go.Figure:
    shown = [m for m in metric_names if m in HEADLINE_METRICS] or metric_names[:8]
    fig = go.Figure()
    for run in runs:
        values = [run.metrics.get(m) for m in shown]
        plus = [
            max(run.metrics[f"{m}_ci_high"] - v, 0.0)
            if v is not None and f"{m}_ci_high" in run.metrics
            else 0.0
            for m, v in zip(shown, values, strict=True)
        ]
        minus = [
            max(v - run.metrics[f"{m}_ci_low"], 0.0)
            if v is not None and f"{m}_ci_low" in run.metrics
            else 0.0
            for m, v in zip(shown, values, strict=True)
        ]
        fig.add_trace(
            go.Bar(
                name=run.run_name,
                x=shown,
                y=values,
                error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
            )
        )
    fig.update_layout(title="Metrics by run (95% CI where logged)", barmode="group")
    return fig


def _overlay(
    details: dict[str, RunDetail], holdouts: dict[str, HoldoutScores | None], kind: str
) -> dict[str, Any] | None:
    fig = go.Figure()
    any_curve = False
    for rid, scores in holdouts.items():
        if scores is None:
            continue
        if kind == "roc":
            x, y = downsample(*roc_points(scores.y_true, scores.y_score))
        else:
            x, y = downsample(*pr_points(scores.y_true, scores.y_score))
        fig.add_trace(
            go.Scatter(x=x.tolist(), y=y.tolist(), mode="lines", name=details[rid].run_name)
        )
        any_curve = True
    if not any_curve:
        return None
    if kind == "roc":
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="chance",
                line={"dash": "dash", "color": "gray"},
            )
        )
        fig.update_layout(
            title="ROC curves", xaxis_title="False positive rate", yaxis_title="True positive rate"
        )
    else:
        fig.update_layout(
            title="Precision-recall curves", xaxis_title="Recall", yaxis_title="Precision"
        )
    return _figure_json(fig)


def _parallel(runs: list[RunDetail], notes: list[str]) -> dict[str, Any] | None:
    objective = next(
        (m for m in ("average_precision", "auc_roc") if all(m in r.metrics for r in runs)), None
    )
    if objective is None:
        notes.append("no parallel-coordinates plot: not every run has average_precision or auc_roc")
        return None
    numeric: dict[str, list[float]] = {}
    keys = set.intersection(*(set(r.params) for r in runs))
    for key in sorted(keys):
        try:
            values = [float(r.params[key]) for r in runs]
        except ValueError:
            continue
        if len(set(values)) > 1 and all(abs(v) != float("inf") and v == v for v in values):
            numeric[key] = values
    if not numeric:
        notes.append(
            "no parallel-coordinates plot: the runs share no numeric hyperparameter that varies"
        )
        return None
    scores = [r.metrics[objective] for r in runs]
    dims = [{"label": k, "values": v} for k, v in numeric.items()]
    dims.append({"label": objective, "values": scores})
    fig = go.Figure(
        go.Parcoords(
            line={"color": scores, "colorscale": "Viridis", "showscale": True}, dimensions=dims
        )
    )
    fig.update_layout(title=f"Hyperparameters vs {objective}")
    return _figure_json(fig)
