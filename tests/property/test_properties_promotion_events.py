"""Property 4: every successful promotion logs a promotion event with experiment id and timestamp."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from fraud_jlab.config import FraudJlab
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.sandbox import provision_sandbox
from fraud_jlab.promotion.validation import ALLOWED_OBJECTIVES
from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore

unit = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, allow_nan=False)
hyperparameters = st.fixed_dictionaries(
    {
        "objective": st.sampled_from(ALLOWED_OBJECTIVES),
        "num_round": st.integers(1, 1000),
        "max_depth": st.integers(1, 20),
        "eta": unit,
        "subsample": unit,
        "colsample_bytree": unit,
    }
)
metrics = st.dictionaries(
    st.sampled_from(["accuracy", "precision", "recall", "f1_score", "auc_roc"]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
experiment_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s)


class Sandbox:
    def __init__(self, db: Path) -> None:
        settings_ = FraudJlab()
        s3 = boto3.client("s3", region_name="us-east-1")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        provision_sandbox(settings_, s3_client=s3, sfn_client=sfn)
        self.tracker = SqliteTrackerStore(db)
        self.integrator = ProductionIntegrator(
            settings_,
            s3_client=s3,
            sfn_client=sfn,
            ssm_client=boto3.client("ssm", region_name="us-east-1"),
            tracker=self.tracker,
        )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with pytest.MonkeyPatch.context() as mp:
        for name in (
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
            "FRAUD_JLAB_CONFIG_BUCKET",
            "FRAUD_JLAB_SSM_PREFIX",
        ):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            box = Sandbox(tmp_path_factory.mktemp("events") / "runs.db")
            yield box
            box.tracker.close()


@settings(max_examples=100, deadline=None)
@given(exp=experiment_ids, hp=hyperparameters, m=metrics, who=st.sampled_from(["alice", "bob"]))
def test_property_4_promotion_event_logging(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    before = len(sandbox.tracker.list_events("promotion"))
    started = datetime.now().astimezone()
    result = sandbox.integrator.promote_to_production(exp, hp, m, who)
    events = sandbox.tracker.list_events("promotion")
    assert len(events) == before + 1
    payload = events[0].payload
    assert payload["experiment_id"] == exp
    assert payload["promotion_id"] == result["promotion_event"]["promotion_id"]
    assert payload["status"] == "completed" and payload["approver"] == who
    stamp = datetime.fromisoformat(payload["timestamp"])
    assert stamp.tzinfo is not None and stamp >= started.replace(microsecond=0)
    assert payload["metrics"] == m
