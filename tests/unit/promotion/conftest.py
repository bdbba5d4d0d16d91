"""Fixtures for promotion tests: moto-backed AWS, a SQLite tracker, an integrator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from promotion_env import AwsEnv, provision

from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture
def aws_env(moto_env: None) -> AwsEnv:
    return provision()


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


@pytest.fixture
def integrator(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> ProductionIntegrator:
    return ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
