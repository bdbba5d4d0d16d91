"""Fixtures for the tuning tests: a small fraud-shaped dataset and a temporary SQLite tracker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

from fraud_jlab.tracking.contract import RunSummary, TrackerStore
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture(scope="session")
def small_data() -> tuple[np.ndarray, np.ndarray]:
    """400 rows, 8 features, ~15% positives: big enough for 2-3 stratified folds, fast to fit."""
    X, y = make_classification(
        n_samples=400, n_features=8, n_informative=4, weights=[0.85], flip_y=0.02, random_state=7
    )
    return X, y


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[TrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


def children_of(tracker: TrackerStore, parent_run_id: str) -> list[RunSummary]:
    """Every child run of ``parent_run_id`` (all pages)."""
    runs: list[RunSummary] = []
    token = None
    while True:
        page = tracker.search_runs(
            f"parent_run_id = '{parent_run_id}'", max_results=1000, page_token=token
        )
        runs.extend(page.runs)
        token = page.next_page_token
        if not token:
            return runs


def all_runs(tracker: TrackerStore) -> list[RunSummary]:
    return tracker.search_runs("", max_results=1000).runs
