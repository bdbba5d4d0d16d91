"""Shared fixtures: a temporary SQLite tracker and a seeded fraud-like holdout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


@pytest.fixture
def holdout() -> tuple[np.ndarray, np.ndarray]:
    """5,000 rows, ~2% fraud, scores that separate the classes well but not perfectly."""
    rng = np.random.default_rng(42)
    y = (rng.random(5000) < 0.02).astype(np.int8)
    score = 1 / (1 + np.exp(-(rng.normal(size=5000) + 3.0 * y - 3.0)))
    return y, score
