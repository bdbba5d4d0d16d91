"""Fixtures: a temporary SQLite tracker and a small fraud-like training/holdout frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

Split = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


@pytest.fixture(scope="session")
def split() -> Split:
    """600 training and 300 holdout rows, 6 features, ~8% fraud."""
    rng = np.random.default_rng(7)
    n = 900
    y = (rng.random(n) < 0.08).astype(np.int64)
    X = pd.DataFrame(
        rng.normal(size=(n, 6)) + y[:, None] * np.array([1.5, -1.0, 0.5, 0, 0, 0.8]),
        columns=["Time", "V1", "V2", "V3", "V4", "Amount"],
    )
    return X.iloc[:600], y[:600], X.iloc[600:].reset_index(drop=True), y[600:]
