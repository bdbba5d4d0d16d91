"""A whole A/B test on the local emulator, as the demo runs it: start from a run whose saved
model is not packaged yet, advance, send labelled traffic, read the view (Data Capture +
ground truth + CloudWatch), roll back. Real boto3 clients against a ThreadedMotoServer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import xgboost as xgb

from fraud_jlab.abtest.from_run import ab_service, resolve_challenger, start_challenger
from fraud_jlab.abtest.service import ABTestState
from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.datasets import generate_fraud_dataset
from fraud_jlab.demo.data_capture import flush_capture
from fraud_jlab.demo.emulator import Emulator, start_emulator
from fraud_jlab.demo.seed import holdout_rows
from fraud_jlab.demo.traffic import send_traffic
from fraud_jlab.demo.workspace import prepare_workspace
from fraud_jlab.errors import ValidationError
from fraud_jlab.modelstore.sagemaker import MODEL_DATA_URL_TAG
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.tracking import Run, tracker_from_uri

ROWS = 5_000


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The demo's workspace (baseline serving as Champion) and a challenger run with a
    saved model that nobody packaged."""
    with start_emulator() as emu:
        for key in list(os.environ):
            if key.startswith("FRAUD_JLAB_") or key == "AWS_PROFILE":
                monkeypatch.delenv(key)
        for key, value in emu.environment().items():
            monkeypatch.setenv(key, value)
        # prepare_workspace sets FRAUD_JLAB_TRACKING_URI in os.environ: monkeypatch restores it.
        monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "replaced-by-prepare-workspace")
        set_settings(None)
        uri = prepare_workspace(tmp_path, ROWS, {}, lambda _: None, baseline_only=True)
        settings = FraudJlab()
        tracker = tracker_from_uri(uri)
        frame = generate_fraud_dataset(ROWS, seed=0)
        features = [c for c in frame.columns if c != "Class"]
        model = xgb.XGBClassifier(n_estimators=40, max_depth=3, nthread=1, random_state=1)
        model.fit(frame[features], frame["Class"])
        with Run("ab-demo", "challenger", tracker=tracker) as run:
            run.log_model(model, frame[features])
        with Run("ab-demo", "no-model", tracker=tracker) as bare:
            bare.log_metrics({"auc_roc": 0.5})
        yield {
            "emu": emu,
            "settings": settings,
            "tracker": tracker,
            "run_id": run.run_id,
            "bare_id": bare.run_id,
            "rows": holdout_rows(frame, 0),
        }
        flush_capture()
        tracker.close()
        set_settings(None)


def _client(emu: Emulator, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _objects(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_whole_ab_test_on_the_emulator_from_an_unpackaged_run(demo: dict[str, Any]) -> None:
    settings, tracker, emu = demo["settings"], demo["tracker"], demo["emu"]
    s3 = _client(emu, "s3")
    service = ab_service(settings, cloudwatch=_client(emu, "cloudwatch"))
    audit: dict[str, Any] = {"approver": "alice", "reason": "challenger beats the baseline"}

    # A run without a saved model cannot be deployed, and says how to fix it
    with pytest.raises(ValidationError) as bad:
        resolve_challenger(tracker, demo["bare_id"], None, settings)
    assert bad.value.field == "model_artifact_s3_path" and "log_model" in str(bad.value)

    # The dry run names the package it would upload, and uploads nothing
    challenger = resolve_challenger(tracker, "challenger", None, settings)
    assert challenger.needs_package and challenger.run_id == demo["run_id"]
    models_before = _objects(s3, settings.models_bucket)
    plan = start_challenger(
        service, tracker, challenger, approver="alice", reason=None, dry_run=True
    )
    assert isinstance(plan, EndpointChangePlan)
    assert plan.changes[0].startswith(f"PutObject {challenger.artifact}: package run")
    assert _objects(s3, settings.models_bucket) == models_before
    assert MODEL_DATA_URL_TAG not in tracker.get_run(demo["run_id"]).tags

    # The start packages the model, tags the run and deploys that package at 10%
    state = start_challenger(service, tracker, challenger, **audit)
    assert isinstance(state, ABTestState) and state.weights == {
        "Champion": 90.0,
        "Challenger": 10.0,
    }
    assert tracker.get_run(demo["run_id"]).tags[MODEL_DATA_URL_TAG] == challenger.artifact
    assert state.challenger_model
    state = service.advance(state.ab_test_id, **audit)
    state = service.advance(state.ab_test_id, **audit)
    assert state.weights == {"Champion": 50.0, "Challenger": 50.0}

    # Labelled traffic through the real runtime API reaches the readout
    sent = send_traffic(
        _client(emu, "sagemaker-runtime"),
        settings.production_endpoint,
        demo["rows"],
        900,
        ground_truth_uri=settings.ground_truth_uri(),
        s3=s3,
        seed=5,
    )
    flush_capture()
    view = service.view(state.ab_test_id)
    print(
        "emulator A/B view:",
        view.data.model_dump(),
        {k: v.model_dump() for k, v in view.latency.items()},
        view.recommendation.model_dump(),
    )
    assert sent.records == 900
    assert view.data.records_scored == 900 and view.data.malformed == 0
    assert view.data.records_labelled == sent.labelled  # a fifth of the labels arrive later
    assert view.data.frauds_labelled == sent.frauds_labelled
    assert view.readout is not None
    split = {k: v["n"] for k, v in view.readout["variants"].items()}
    assert sum(split.values()) == 900 and 350 < split["Challenger"] < 550
    assert view.srm is not None and not view.srm["alarm"]
    assert all(view.latency[v].invocations for v in ("Champion", "Challenger"))
    assert view.latency["Challenger"].source == "cloudwatch-max"
    # a handful of labelled frauds is far from the design's first look: keep going
    assert view.recommendation.action == "continue"

    # Rolling back restores the champion's config with all the traffic
    champion_config = state.champion_config
    state = service.rollback(state.ab_test_id, **audit)
    endpoint = _client(emu, "sagemaker").describe_endpoint(
        EndpointName=settings.production_endpoint
    )
    assert state.status == "rolled_back" and endpoint["EndpointConfigName"] == champion_config
