"""ComparisonDashboard: everything it shows comes from the CompareResult of the core call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fraud_jlab import Run
from fraud_jlab.comparison.algorithms import FIGURE_METRICS
from fraud_jlab.config import get_settings
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.widgets import ComparisonDashboard, RunBrowser

from .conftest import PARAMS, text


class FixedScoreModel:
    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.scores[np.asarray(X, dtype=int).ravel()]
        return np.column_stack([1 - p, p])


@pytest.fixture
def evaluated(tracker: TrackerStore, s3: Any) -> dict[str, str]:
    """Three runs scored on one 2,000-row holdout (~3% fraud); "champion" is in production."""
    rng = np.random.default_rng(5)
    y = (rng.random(2000) < 0.03).astype(np.int8)
    good = 1 / (1 + np.exp(-(rng.normal(size=y.size) + 3.5 * y - 3.5)))
    runs: dict[str, str] = {}
    for name, noise, depth in (("champion", 0.3, "5"), ("good", 0.0, "7"), ("noisy", 0.6, "3")):
        score = np.clip(good + rng.normal(scale=noise, size=y.size), 0, 1) if noise else good
        with Run("widget-compare", name, tracker=tracker) as run:
            run.log_parameters(PARAMS | {"max_depth": depth})
            ModelEvaluator(n_bootstrap=20, warn_accuracy=0.0).evaluate_model(
                FixedScoreModel(score), np.arange(y.size).reshape(-1, 1), y, run=run
            )
        runs[name] = run.run_id
    ProductionIntegrator(settings=get_settings(), tracker=tracker).promote_run(
        runs["champion"], approver="ds", reason="first model", force=True
    )
    runs["prevalence"] = f"{y.mean():.4%}"
    return runs


def test_dashboard_compares_against_the_champion(
    tracker: TrackerStore, evaluated: dict[str, str]
) -> None:
    # When two challengers are compared without naming a baseline
    dashboard = ComparisonDashboard([evaluated["good"], evaluated["noisy"]], tracker=tracker)
    result = dashboard.result

    # Then the run in production is the baseline (added to the table)
    assert result.baseline_run_id == evaluated["champion"]
    assert [r.run_name for r in result.runs] == ["good", "noisy", "champion"]
    assert "baseline champion" in text(dashboard.summary.value)

    # The metric panels: one per figure metric, one bar a run, the logged CIs as error bars
    panels = dashboard.metric_panels
    titles = [a.text for a in panels.layout.annotations]
    assert titles[:6] == ["Accuracy", "Precision", "Recall", "F1 Score", "AUC ROC",
                          "Training Time Seconds"]  # fmt: skip
    assert len(panels.data) == len(FIGURE_METRICS)
    ap = panels.data[FIGURE_METRICS.index("average_precision")]
    assert list(ap.x) == ["good", "noisy", "champion"]
    good = result.runs[0].metrics
    assert ap.y[0] == pytest.approx(good["average_precision"])
    assert ap.error_y.array[0] == pytest.approx(
        good["average_precision_ci_high"] - good["average_precision"]
    )
    assert ap.error_y.arrayminus[0] == pytest.approx(
        good["average_precision"] - good["average_precision_ci_low"]
    )

    # ROC and PR overlaid (PR with the prevalence line), parallel coordinates vs the objective
    assert [t.name for t in dashboard.roc.data] == ["good", "noisy", "champion", "chance"]
    assert [t.name for t in dashboard.pr.data][-1] == f"prevalence {evaluated['prevalence']}"
    dims = [d.label for d in dashboard.parallel.data[0].dimensions]
    assert dims == ["max_depth", "average_precision"]

    # Deltas vs the champion with paired CIs and the roles
    shown = text(dashboard.deltas.value)
    ap_good = next(
        d
        for d in result.deltas
        if d.run_id == evaluated["good"] and d.metric == "average_precision"
    )
    assert ap_good.paired and ap_good.role == "primary"
    assert f"[{ap_good.ci_low:+.4g}, {ap_good.ci_high:+.4g}]" in shown
    roles = {d.role for d in result.deltas}
    assert {"primary", "secondary"} <= roles and all(role in shown for role in roles)
    assert dashboard.deltas.value.count("<tr") == len(result.deltas) + 1
    assert [dashboard.tabs.get_title(i) for i in range(4)] == [
        "Metrics", "ROC and PR", "Hyperparameters", "Deltas vs baseline"
    ]  # fmt: skip


def test_named_baseline_and_runs_without_holdouts(tracker: TrackerStore, s3: Any) -> None:
    from .conftest import make_run

    a = make_run(tracker, "a", average_precision=0.7, holdout=False)
    b = make_run(
        tracker, "b", average_precision=0.8, params=PARAMS | {"max_depth": "8"}, holdout=False
    )
    dashboard = ComparisonDashboard([a, b], baseline=a, tracker=tracker)
    assert dashboard.result.baseline_run_id == a
    assert "No ROC curves" in text(dashboard.roc.value)
    assert "no stored holdout scores" in text(dashboard.notes.value)
    assert "+0.1" in text(dashboard.deltas.value)


def test_browser_compare_uses_the_same_result(
    tracker: TrackerStore, evaluated: dict[str, str]
) -> None:
    browser = RunBrowser(filter="attributes.run_name != 'champion'", tracker=tracker)
    browser.select([evaluated["good"], evaluated["noisy"]])
    browser.compare_button.click()
    assert browser.dashboard is not None
    assert browser.dashboard.result.baseline_run_id == evaluated["champion"]


def test_metric_panels_hold_no_nan_for_metrics_no_run_logged(
    tracker: TrackerStore, s3: Any
) -> None:
    """NaN is not JSON: the FigureWidget's comm message would fail ("Out of range float values")."""
    import json
    import math

    from .conftest import make_run

    a = make_run(tracker, "a", average_precision=0.7, holdout=False)
    b = make_run(tracker, "b", average_precision=0.8, holdout=False)
    dashboard = ComparisonDashboard([a, b], baseline=a, tracker=tracker)
    figure = dashboard.metric_panels.to_dict()
    floats = [
        v
        for trace in figure["data"]
        for key in ("y",)
        for v in list(trace.get(key) or [])
        + list((trace.get("error_y") or {}).get("array") or [])
        + list((trace.get("error_y") or {}).get("arrayminus") or [])
        if isinstance(v, float)
    ]
    assert floats and not any(math.isnan(v) for v in floats)
    # some panel is a metric these runs did not log: its bars are gaps (None), not NaN
    assert any(None in list(trace["y"]) for trace in figure["data"])
    json.dumps(figure["data"], allow_nan=False, default=list)
