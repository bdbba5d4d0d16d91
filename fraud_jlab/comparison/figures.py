"""The figures of a run comparison: metric bars with CIs, ROC/PR overlays, parallel coordinates."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

from fraud_jlab.evaluation.holdout import HoldoutScores
from fraud_jlab.evaluation.metrics import HEADLINE_METRICS
from fraud_jlab.evaluation.plots import curve_points, downsample_low_fpr
from fraud_jlab.tracking.contract import RunDetail

#: Metric-name suffixes of logged confidence bounds (``auc_roc_ci_low``...).
CI_SUFFIXES = ("_ci_low", "_ci_high")


def figure_json(fig: go.Figure) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fig.to_json())
    return data


def metric_bars(runs: list[RunDetail], metric_names: list[str]) -> go.Figure:
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


def overlay(
    details: dict[str, RunDetail], holdouts: dict[str, HoldoutScores | None], kind: str
) -> dict[str, Any] | None:
    fig = go.Figure()
    any_curve = False
    for rid, scores in holdouts.items():
        if scores is None:
            continue
        fpr, tpr, precision, _thr = curve_points(scores.y_true, scores.y_score)
        if kind == "roc":
            x, y = downsample_low_fpr(fpr, fpr, tpr)
        else:
            x, y = downsample_low_fpr(fpr, tpr, precision)
        name = details[rid].run_name
        fig.add_trace(go.Scatter(x=x.tolist(), y=y.tolist(), mode="lines", name=name))
        any_curve = True
    if not any_curve:
        return None
    if kind == "roc":
        diag = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
        fig.add_trace(
            go.Scatter(
                x=diag,
                y=diag,
                mode="lines",
                name="chance",
                line={"dash": "dash", "color": "gray"},
            )
        )
        # Log FPR axis: the operating region (FPR 0.01%..1%) is kept at full resolution.
        fig.update_layout(
            title="ROC curves",
            xaxis_title="False positive rate (log scale)",
            yaxis_title="True positive rate",
            xaxis_type="log",
        )
    else:
        # A random model's precision: one dashed line per distinct holdout prevalence.
        prevalences = {
            round(float(s.y_true.mean()), 12) for s in holdouts.values() if s is not None
        }
        for prevalence in sorted(prevalences):
            fig.add_trace(
                go.Scatter(
                    x=[0.0, 1.0],
                    y=[prevalence, prevalence],
                    mode="lines",
                    name=f"prevalence {prevalence:.4%}",
                    line={"dash": "dash", "color": "gray"},
                )
            )
        fig.update_layout(
            title="Precision-recall curves", xaxis_title="Recall", yaxis_title="Precision"
        )
    return figure_json(fig)


def parallel(runs: list[RunDetail], notes: list[str]) -> dict[str, Any] | None:
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
    return figure_json(fig)


__all__ = ["figure_json", "metric_bars", "overlay", "parallel"]
