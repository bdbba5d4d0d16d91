"""In-notebook dashboards (ipywidgets 8, plotly ``FigureWidget``) over the same core calls.

::

    from fraud_jlab.widgets import RunBrowser, ComparisonDashboard, TuningMonitor
    RunBrowser(filter="metrics.average_precision > 0.8", order_by="metrics.auc_roc DESC")
    ComparisonDashboard([run_a, run_b])            # baseline: the run in production
    monitor = TuningMonitor(); monitor              # show it, then
    grid_search(X, y, grid, on_trial=monitor)       # it updates after every trial
    ABTestMonitor("<ab test id>")                   # readout, recommendation, actions

Like ``%fraud``, the widgets call the functions behind the REST API (``search_runs``,
``compare_with_production_default``, ``ProductionIntegrator.promote_run``,
``ABTestService.view`` and its actions), so the
sidebar, the magic and the widgets never disagree. ``fraud_jlab.dashboard()`` opens a
RunBrowser; importing :mod:`fraud_jlab` does not import ipywidgets.
"""

from __future__ import annotations

from fraud_jlab.widgets.abtest import ABTestMonitor
from fraud_jlab.widgets.compare import ComparisonDashboard
from fraud_jlab.widgets.promote import PromotePanel, approver
from fraud_jlab.widgets.runs import RunBrowser
from fraud_jlab.widgets.tuning import AmtJobPoller, TuningMonitor

__all__ = [
    "ABTestMonitor",
    "AmtJobPoller",
    "ComparisonDashboard",
    "PromotePanel",
    "RunBrowser",
    "TuningMonitor",
    "approver",
]
