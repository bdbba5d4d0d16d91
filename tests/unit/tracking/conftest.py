"""The ``tracker`` fixture: every tracker backend the contract tests run against.

A new backend adds a factory to ``BACKENDS`` (name -> callable taking a temp
dir); every test in ``test_contract.py`` then runs against it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore

BACKENDS: dict[str, Callable[[Path], TrackerStore]] = {
    "sqlite": lambda tmp: SqliteTrackerStore(tmp / "tracking.db"),
}


@pytest.fixture(params=sorted(BACKENDS))
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackerStore]:
    store = BACKENDS[request.param](tmp_path)
    yield store
    store.close()
