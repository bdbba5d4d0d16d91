"""``ComparisonDashboard``: runs side by side and against the current champion.

Built only from the :class:`~fraud_jlab.comparison.runs.CompareResult` of
:func:`~fraud_jlab.comparison.production.compare_with_production_default` (the call
behind ``POST compare`` and ``%fraud compare``): its metrics and logged CIs, its ROC,
PR and parallel-coordinates figures, and its deltas with paired CIs and roles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from fraud_jlab.comparison.algorithms import FIGURE_METRICS, comparison_figure
from fraud_jlab.comparison.production import compare_with_production_default
from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.config import FraudJlab
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.widgets.html import STYLE, esc, note, num, table

#: The delta table's columns.
DELTA_COLUMNS: tuple[str, ...] = (
    "run", "metric", "role", "value", "baseline", "delta", "95% CI (paired)",
    "paired", "method", "p", "p (Holm)", "significant",
)  # fmt: skip


def run_labels(result: CompareResult) -> dict[str, str]:
    """Run id -> its name, with the id's tail added where names repeat."""
    counts = Counter(r.run_name for r in result.runs)
    return {
        r.run_id: r.run_name if counts[r.run_name] == 1 else f"{r.run_name} ({r.run_id[-6:]})"
        for r in result.runs
    }


def metric_panels(result: CompareResult) -> go.Figure:
    """One bar panel a metric (the design's six, then AP and recall@FPR), logged 95% CIs as bars.

    The same figure as the algorithm comparison, from the runs' logged values and
    ``<metric>_ci_low``/``_ci_high``; a metric a run did not log is left empty.
    """
    labels = run_labels(result)
    rows: list[dict[str, Any]] = []
    for run in result.runs:
        row: dict[str, Any] = {"algorithm": labels[run.run_id]}
        for m in FIGURE_METRICS:
            row[m] = run.metrics.get(m, float("nan"))
            for suffix in ("_ci_low", "_ci_high"):
                # no CI logged: a zero-length error bar at the value
                row[m + suffix] = run.metrics.get(m + suffix, row[m])
        rows.append(row)
    fig = comparison_figure(pd.DataFrame(rows))
    fig.update_layout(title="Metrics by run (95% CI where logged)")
    return fig


def deltas_rows(result: CompareResult) -> tuple[list[list[object]], list[str]]:
    """The delta table's rows and their CSS classes (role, significance)."""
    labels = run_labels(result)
    rows: list[list[object]] = []
    classes: list[str] = []
    for d in result.deltas:
        ci = (
            f"[{d.ci_low:+.4g}, {d.ci_high:+.4g}]"
            if d.ci_low is not None and d.ci_high is not None
            else "-"
        )
        significant = "-" if d.significant is None else ("yes" if d.significant else "no")
        rows.append(
            [
                labels.get(d.run_id, d.run_id), d.metric, d.role, num(d.value),
                num(d.baseline_value), f"{d.delta:+.4g}", ci, "yes" if d.paired else "no",
                d.method or "-", num(d.p_value, 3),
                num(d.p_adjusted, 3) if d.role == "secondary" else "-", significant,
            ]
        )  # fmt: skip
        classes.append(f"role-{d.role}" + (" significant" if d.significant else ""))
    return rows, classes


def _figure(data: dict[str, Any] | None, missing: str) -> widgets.Widget:
    return go.FigureWidget(data) if data is not None else widgets.HTML(note(missing))


class ComparisonDashboard(widgets.VBox):
    """Compare ``run_ids`` (2..``max_compare_runs``) against ``baseline``, else the champion.

    The champion is the run in production (``model.version`` of the live config).
    Raises ValidationError / NotFoundError as ``%fraud compare`` reports them.
    ``result`` is the CompareResult everything shown comes from.
    """

    def __init__(
        self,
        run_ids: Sequence[str],
        baseline: str | None = None,
        *,
        settings: FraudJlab | None = None,
        tracker: TrackerStore | None = None,
    ) -> None:
        result = compare_with_production_default(
            run_ids, baseline, settings=settings, tracker=tracker
        )
        self.result = result
        names = run_labels(result)
        if result.baseline_run_id:
            base = names.get(result.baseline_run_id, "")
            summary = (
                f"{len(result.runs)} runs; baseline {base} ({result.baseline_run_id}). Primary "
                f"metric: {result.primary_metric} (decides significance at 5%); other headline "
                "metrics Holm-corrected; the rest descriptive."
            )
        else:
            summary = f"{len(result.runs)} runs; no baseline, so no deltas."
        self.summary = widgets.HTML(f"<b>{esc(summary)}</b>")
        self.metric_panels = go.FigureWidget(metric_panels(result))
        self.roc = _figure(result.figures.roc, "No ROC curves: no run stored holdout scores.")
        self.pr = _figure(result.figures.pr, "No PR curves: no run stored holdout scores.")
        self.parallel = _figure(
            result.figures.parallel_coordinates,
            "No parallel-coordinates plot (see the notes).",
        )
        rows, classes = deltas_rows(result)
        self.deltas = widgets.HTML(
            table(DELTA_COLUMNS, rows, label="Deltas vs baseline", row_classes=classes)
            if rows
            else note("No deltas: there is no baseline (pass baseline=RUN_ID).")
        )
        self.notes = widgets.HTML(
            "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes) + "</ul>"
            if result.notes
            else ""
        )
        tabs = widgets.Tab(
            children=[
                self.metric_panels,
                widgets.HBox([self.roc, self.pr]),
                self.parallel,
                widgets.VBox([self.deltas, self.notes]),
            ]
        )
        for i, title in enumerate(
            ["Metrics", "ROC and PR", "Hyperparameters", "Deltas vs baseline"]
        ):
            tabs.set_title(i, title)
        self.tabs = tabs
        super().__init__([widgets.HTML(STYLE), self.summary, tabs])
        self.add_class("fraud-jlab-widget")
