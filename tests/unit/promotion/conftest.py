"""Fixtures for promotion tests: moto-backed AWS, a SQLite tracker, an integrator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from promotion_env import REGION, AwsEnv, provision

from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for key in list(os.environ):
        if key.startswith("FRAUD_JLAB_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield provision()


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


@pytest.fixture
def integrator(aws_env: AwsEnv, tracker: SqliteTrackerStore) -> ProductionIntegrator:
    return ProductionIntegrator(aws_env.settings, tracker=tracker, **aws_env.clients())
