"""Fixtures of the %fraud magic tests: a real IPython shell with fraud_jlab loaded, a tracker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import set_tracker
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "fraud_jlab")
    return ip


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[TrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    set_tracker(store)
    yield store
    set_tracker(None)
