"""``fraud_jlab.dashboard()`` and ``%fraud runs --widget`` open a RunBrowser; the core stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from IPython.core.interactiveshell import InteractiveShell

import fraud_jlab
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.widgets import RunBrowser

from .conftest import make_run

ROOT = Path(__file__).resolve().parents[3]


def test_dashboard_opens_the_run_browser(tracker: TrackerStore) -> None:
    run_id = make_run(tracker)
    browser = fraud_jlab.dashboard(filter="metrics.accuracy > 0.5", page_size=10)
    assert isinstance(browser, RunBrowser)
    assert browser.filter_box.value == "metrics.accuracy > 0.5" and browser.page_size == 10
    assert [v for _label, v in browser.table.options] == [run_id]


def test_fraud_runs_widget_returns_a_run_browser(tracker: TrackerStore) -> None:
    low = make_run(tracker, "low", accuracy=0.8)
    high = make_run(tracker, "high", accuracy=0.99)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "fraud_jlab")
    browser = shell.run_line_magic(
        "fraud", "runs --widget --order-by metrics.accuracy DESC --max-results 5"
    )
    assert isinstance(browser, RunBrowser)
    assert browser.order_box.value == "metrics.accuracy DESC" and browser.page_size == 5
    assert [v for _label, v in browser.table.options] == [high, low]
    bad = shell.run_line_magic("fraud", 'runs --widget --filter "metrics.accuracy >> 1"')
    assert isinstance(bad, RunBrowser) and "position 18" in bad.error.value


def test_importing_fraud_jlab_does_not_import_ipywidgets() -> None:
    code = (
        "import sys, fraud_jlab\n"
        "loaded = [m for m in ('ipywidgets', 'anywidget', 'fraud_jlab.widgets') if m in sys.modules]\n"
        "print(loaded)\n"
        "fraud_jlab.dashboard\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.stdout.strip() == "[]"
