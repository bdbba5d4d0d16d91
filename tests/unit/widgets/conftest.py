"""Widget tests: a temporary SQLite tracker and moto-backed production, as for ``%fraud``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from evaluated_runs import GATE_METRICS, log_evaluation

from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import set_tracker
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}
PREFIX = "/fraud-detection/hyperparameters/"
BUCKET = "fraud-detection-config"
USER = "widget-analyst"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[TrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    set_tracker(store)
    yield store
    set_tracker(None)
    store.close()


@pytest.fixture
def s3(moto_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto AWS with the production sandbox; settings from a clean environment."""
    monkeypatch.setenv("JUPYTERHUB_USER", USER)
    set_settings(None)
    client = boto3.client("s3", region_name="us-east-1")
    provision_sandbox(
        FraudJlab(),
        s3_client=client,
        sfn_client=boto3.client("stepfunctions", region_name="us-east-1"),
    )
    yield client
    set_settings(None)


def make_run(
    tracker: TrackerStore,
    name: str = "xgb",
    params: dict[str, str] = PARAMS,
    accuracy: float = 0.97,
    average_precision: float = 0.8,
    minutes: int = 0,
    holdout: bool = True,
) -> str:
    start = T0 + timedelta(minutes=minutes)
    run_id = tracker.create_run("fraud-detection-optimization", name, user="ds", start_time=start)
    tracker.log_params(run_id, params)
    tracker.log_metrics(
        run_id, {"accuracy": accuracy, "average_precision": average_precision} | GATE_METRICS
    )
    if holdout:  # the shared holdout the non-inferiority gate pairs on
        log_evaluation(tracker, run_id)
    tracker.end_run(run_id, "completed", end_time=start)
    return run_id


def ssm_values() -> dict[str, str]:
    resp = boto3.client("ssm", region_name="us-east-1").get_parameters_by_path(Path=PREFIX)
    return {p["Name"]: p["Value"] for p in resp["Parameters"]}


def bucket_keys(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def text(value: str) -> str:
    """What an HTML widget's value reads as: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", value))
