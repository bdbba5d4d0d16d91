"""The emulator's endpoints score for real: variant split, shadow copies, Data Capture,
ground truth, CloudWatch metrics, SageMaker's errors; against a ThreadedMotoServer on
127.0.0.1 with real boto3 clients."""

from __future__ import annotations

import json
import math
import os
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
import requests
import xgboost as xgb
from botocore.exceptions import ClientError

from fraud_jlab.datasets import generate_fraud_dataset
from fraud_jlab.demo.data_capture import FLUSH_LINES, flush_capture
from fraud_jlab.demo.emulator import Emulator, start_emulator
from fraud_jlab.demo.traffic import csv_row, send_traffic
from fraud_jlab.errors import ValidationError
from fraud_jlab.modelstore import load_model, package_for_sagemaker
from fraud_jlab.tracking import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

REGION = "us-east-1"
CONFIG_BUCKET = "fraud-detection-config"
MODELS_BUCKET = "fraud-detection-models"
CAPTURE = f"s3://{CONFIG_BUCKET}/data-capture"
GROUND_TRUTH = f"s3://{CONFIG_BUCKET}/ground-truth/ep"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecutionRole"


@pytest.fixture(scope="module")
def _server() -> Iterator[Emulator]:
    with start_emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two small XGBoost models saved with their runs, and rows nobody trained on."""
    frame = generate_fraud_dataset(6_000, seed=3)
    features = [c for c in frame.columns if c != "Class"]
    train, rows = frame.iloc[:4_000], frame.iloc[4_000:].reset_index(drop=True)
    store = SqliteTrackerStore(tmp_path_factory.mktemp("runs") / "runs.db")
    runs = {}
    for name, rounds, eta in (("champion", 30, 0.3), ("challenger", 60, 0.1)):
        model = xgb.XGBClassifier(
            n_estimators=rounds, learning_rate=eta, max_depth=4, nthread=1, random_state=0
        )
        model.fit(train[features], train["Class"])
        with Run("serving", name, tracker=store) as run:
            run.log_model(model, train[features])
        runs[name] = run.run_id
    return {"store": store, "runs": runs, "rows": rows, "features": features}


@pytest.fixture
def aws(_server: Emulator, models: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Real clients on the emptied emulator, both models packaged in its models bucket."""
    reset = urllib.request.Request(
        f"{_server.endpoint_url}/moto-api/reset", data=b"", method="POST"
    )
    with urllib.request.urlopen(reset, timeout=30) as response:
        assert response.status == 200
    kw: Any = {
        "endpoint_url": _server.endpoint_url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    clients = {
        s: boto3.client(s, **kw) for s in ("s3", "sagemaker", "sagemaker-runtime", "cloudwatch")
    }
    for bucket in (CONFIG_BUCKET, MODELS_BUCKET):
        clients["s3"].create_bucket(Bucket=bucket)
    for name, run_id in models["runs"].items():
        url = package_for_sagemaker(
            run_id, tracker=models["store"], s3_client=clients["s3"], bucket=MODELS_BUCKET
        )
        clients["sagemaker"].create_model(
            ModelName=f"{name}-model",
            PrimaryContainer={"Image": "xgboost:1.7-1", "ModelDataUrl": url},
            ExecutionRoleArn=ROLE,
        )
    yield {**clients, "url": _server.endpoint_url}
    flush_capture()  # nothing of this test is left in the buffers for the next one


def _variant(name: str, model: str, weight: float) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": f"{model}-model",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "InitialVariantWeight": weight,
    }


CAPTURE_CONFIG = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": CAPTURE,
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
}


def _endpoint(sagemaker: Any, name: str, variants: list[dict[str, Any]], **extra: Any) -> None:
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=variants,
        DataCaptureConfig=CAPTURE_CONFIG,
        **extra,
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def _send(aws: dict[str, Any], models: dict[str, Any], endpoint: str, n: int, **kw: Any) -> Any:
    """``n`` held-out rows to ``endpoint`` through the runtime client, labels to GROUND_TRUTH."""
    return send_traffic(
        aws["sagemaker-runtime"], endpoint, models["rows"], n,
        ground_truth_uri=GROUND_TRUTH, s3=aws["s3"], **kw,
    )  # fmt: skip


def _jsonl(s3: Any, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Every object under ``prefix`` -> its parsed lines."""
    found: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=CONFIG_BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=CONFIG_BUCKET, Key=item["Key"])["Body"].read().decode()
            found[item["Key"]] = [json.loads(line) for line in body.splitlines() if line]
    return found


def _lines(objects: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [line for lines in objects.values() for line in lines]


def _invocations(
    cloudwatch: Any, endpoint: str, variant: str, stat: str = "Sum", metric: str = "Invocations"
) -> float:
    now = datetime.now(timezone.utc)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ],
        StartTime=now - timedelta(hours=2),
        EndTime=now + timedelta(hours=1),
        Period=3 * 3600,
        Statistics=[stat],
    )["Datapoints"]
    return float(sum(p[stat] for p in points))


def test_weights_split_traffic_and_cloudwatch_counts_every_call(
    aws: dict[str, Any], models: dict[str, Any]
) -> None:
    # Given an endpoint serving 90 % champion, 10 % challenger
    _endpoint(
        aws["sagemaker"],
        "ep",
        [_variant("Champion", "champion", 90.0), _variant("Challenger", "challenger", 10.0)],
    )
    # When 2,000 customers are scored
    n = 2_000
    result = _send(
        aws,
        models,
        "ep",
        n,
        seed=1,
    )
    # Then the challenger's share is within 4 binomial standard deviations of 10 %
    challenger = result.variants.get("Challenger", 0)
    sd = math.sqrt(n * 0.1 * 0.9)
    print(
        f"90/10 split over {n} invokes: Challenger {challenger} (expected {n * 0.1:.0f} +- {4 * sd:.0f}); {result.summary()}"
    )
    assert abs(challenger - n * 0.1) <= 4 * sd
    assert result.variants["Champion"] + challenger == n
    # and CloudWatch counted exactly the calls each variant answered, with their latencies
    assert _invocations(aws["cloudwatch"], "ep", "Champion") == result.variants["Champion"]
    assert _invocations(aws["cloudwatch"], "ep", "Challenger") == challenger
    latencies = _invocations(aws["cloudwatch"], "ep", "Challenger", "SampleCount", "ModelLatency")
    assert latencies == challenger
    assert _invocations(aws["cloudwatch"], "ep", "Challenger", "Minimum", "ModelLatency") > 0

    # When the weights move to 50/50, the next calls follow them at once
    aws["sagemaker"].update_endpoint_weights_and_capacities(
        EndpointName="ep",
        DesiredWeightsAndCapacities=[
            {"VariantName": "Champion", "DesiredWeight": 50.0},
            {"VariantName": "Challenger", "DesiredWeight": 50.0},
        ],
    )
    half = _send(
        aws,
        models,
        "ep",
        400,
        seed=2,
    )
    assert abs(half.variants["Challenger"] - 200) <= 4 * math.sqrt(400 * 0.25)


def test_split_is_reproducible_per_endpoint(aws: dict[str, Any], models: dict[str, Any]) -> None:
    body = csv_row(models["rows"].iloc[0, :-1].to_numpy())

    def draws() -> list[str]:
        return [
            aws["sagemaker-runtime"].invoke_endpoint(
                EndpointName="rep", Body=body, ContentType="text/csv"
            )["InvokedProductionVariant"]
            for _ in range(80)
        ]

    _endpoint(
        aws["sagemaker"],
        "rep",
        [_variant("Champion", "champion", 1.0), _variant("Challenger", "challenger", 1.0)],
    )
    first = draws()
    # a new endpoint of the same name draws the same variants in the same order
    aws["sagemaker"].delete_endpoint(EndpointName="rep")
    aws["sagemaker"].create_endpoint(EndpointName="rep", EndpointConfigName="rep-config")
    assert draws() == first
    assert 20 < first.count("Challenger") < 60


def test_scores_are_the_models_own_probabilities(
    aws: dict[str, Any], models: dict[str, Any]
) -> None:
    _endpoint(
        aws["sagemaker"],
        "ep",
        [_variant("Champion", "champion", 1.0), _variant("Challenger", "challenger", 1.0)],
    )
    rows = models["rows"].iloc[:40]
    matrix = rows[models["features"]].to_numpy(dtype=np.float64)
    for variant, model in (("Champion", "champion"), ("Challenger", "challenger")):
        expected = load_model(models["runs"][model], tracker=models["store"]).predict_proba(
            rows[models["features"]]
        )[:, 1]
        # one row a request, as customers send them
        single = [
            float(
                aws["sagemaker-runtime"]
                .invoke_endpoint(
                    EndpointName="ep",
                    Body=csv_row(r),
                    ContentType="text/csv",
                    TargetVariant=variant,
                )["Body"]
                .read()
            )
            for r in matrix
        ]
        assert np.array_equal(np.array(single), expected.astype(np.float64))
        # several rows in one request: one score a line
        batch = aws["sagemaker-runtime"].invoke_endpoint(
            EndpointName="ep",
            Body="\n".join(csv_row(r) for r in matrix),
            ContentType="text/csv",
            TargetVariant=variant,
        )
        assert batch["InvokedProductionVariant"] == variant
        assert np.array_equal(
            np.array([float(x) for x in batch["Body"].read().decode().splitlines()]),
            expected.astype(np.float64),
        )
    champion = load_model(models["runs"]["champion"], tracker=models["store"]).predict_proba(
        rows[models["features"]]
    )[:, 1]
    challenger = load_model(models["runs"]["challenger"], tracker=models["store"]).predict_proba(
        rows[models["features"]]
    )[:, 1]
    assert not np.array_equal(champion, challenger)  # the two variants really are different models


CAPTURE_KEY = re.compile(
    r"^data-capture/ep/(Champion|Challenger)/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[\w-]+\.jsonl$"
)
GROUND_TRUTH_KEY = re.compile(r"^ground-truth/ep/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[\w-]+\.jsonl$")


def test_shadow_gets_copies_customers_see_the_champion_and_capture_keeps_the_contract(
    aws: dict[str, Any], models: dict[str, Any]
) -> None:
    # Given the champion serving with the challenger in shadow
    _endpoint(
        aws["sagemaker"],
        "ep",
        [_variant("Champion", "champion", 100.0)],
        ShadowProductionVariants=[_variant("Challenger", "challenger", 100.0)],
    )
    # When 450 requests are scored (labels for all but about a fifth)
    n = 450
    result = _send(
        aws,
        models,
        "ep",
        n,
        batch=100,
        seed=4,
    )
    flush_capture()
    # Then every customer got the champion's answer
    assert result.variants == {"Champion": n}
    captured = _jsonl(aws["s3"], "data-capture/")
    by_variant: dict[str, list[dict[str, Any]]] = {"Champion": [], "Challenger": []}
    for key, lines in captured.items():
        match = CAPTURE_KEY.match(key)
        assert match, key
        assert 1 <= len(lines) <= FLUSH_LINES
        for line in lines:
            at = datetime.strptime(line["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
            assert match.groups()[1:] == (f"{at:%Y}", f"{at:%m}", f"{at:%d}", f"{at:%H}")
        by_variant[match.group(1)].extend(lines)
    # and the shadow scored a copy of every request
    assert len(by_variant["Champion"]) == len(by_variant["Challenger"]) == n
    assert _invocations(aws["cloudwatch"], "ep", "Challenger") == n
    line = by_variant["Champion"][0]
    assert (
        set(line) == {"captureData", "eventMetadata", "eventVersion"}
        and line["eventVersion"] == "0"
    )
    assert line["captureData"]["endpointInput"].keys() == {
        "observedContentType",
        "mode",
        "data",
        "encoding",
    }
    assert line["captureData"]["endpointInput"]["mode"] == "INPUT"
    assert line["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert line["captureData"]["endpointInput"]["observedContentType"] == "text/csv"
    assert line["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert line["captureData"]["endpointOutput"]["encoding"] == "CSV"
    assert set(line["eventMetadata"]) == {"eventId", "inferenceId", "inferenceTime"}
    # The shadow's line of a request carries the same event and inference ids and its own score
    champion_model = load_model(models["runs"]["champion"], tracker=models["store"])
    challenger_model = load_model(models["runs"]["challenger"], tracker=models["store"])
    shadow = {x["eventMetadata"]["inferenceId"]: x for x in by_variant["Challenger"]}
    sent = {i: (score, variant) for i, score, variant in result.scored}
    for line in by_variant["Champion"]:
        meta = line["eventMetadata"]
        copy = shadow[meta["inferenceId"]]
        assert copy["eventMetadata"]["eventId"] == meta["eventId"]
        assert (
            copy["captureData"]["endpointInput"]["data"]
            == line["captureData"]["endpointInput"]["data"]
        )
        row = pd.DataFrame(
            [[float(v) for v in line["captureData"]["endpointInput"]["data"].split(",")]],
            columns=models["features"],
        )
        assert float(line["captureData"]["endpointOutput"]["data"]) == float(
            champion_model.predict_proba(row)[0, 1]
        )
        assert float(copy["captureData"]["endpointOutput"]["data"]) == float(
            challenger_model.predict_proba(row)[0, 1]
        )
        assert float(line["captureData"]["endpointOutput"]["data"]) == sent[meta["inferenceId"]][0]
    # Ground truth: Model Monitor's layout, keyed by the captured inferenceId; late labels absent
    truth = _jsonl(aws["s3"], "ground-truth/")
    assert truth and all(GROUND_TRUTH_KEY.match(k) for k in truth)
    labels = {x["eventMetadata"]["eventId"]: x for x in _lines(truth)}
    assert len(labels) == result.labelled == n - len(result.pending)
    assert 0.1 * n < len(result.pending) < 0.3 * n  # label_delay_fraction 0.2
    assert set(labels) | {i for i, _ in result.pending} == set(shadow)
    assert set(labels).isdisjoint(i for i, _ in result.pending)
    example = next(iter(labels.values()))
    assert example["groundTruthData"]["encoding"] == "CSV" and example["eventVersion"] == "0"
    assert {x["groundTruthData"]["data"] for x in labels.values()} <= {"0", "1"}


def test_capture_sampling_and_destination_follow_the_config(
    aws: dict[str, Any], models: dict[str, Any]
) -> None:
    aws["sagemaker"].create_endpoint_config(
        EndpointConfigName="half-config",
        ProductionVariants=[_variant("Champion", "champion", 1.0)],
        DataCaptureConfig={
            **CAPTURE_CONFIG,
            "InitialSamplingPercentage": 50,
            "DestinationS3Uri": f"s3://{CONFIG_BUCKET}/elsewhere/",
        },
    )
    aws["sagemaker"].create_endpoint(EndpointName="half", EndpointConfigName="half-config")
    aws["sagemaker"].create_endpoint_config(
        EndpointConfigName="none-config", ProductionVariants=[_variant("Champion", "champion", 1.0)]
    )
    aws["sagemaker"].create_endpoint(EndpointName="none", EndpointConfigName="none-config")
    for endpoint in ("half", "none"):
        _send(aws, models, endpoint, 300)
    flush_capture()
    lines = _lines(_jsonl(aws["s3"], "elsewhere/half/Champion/"))
    assert abs(len(lines) - 150) <= 4 * math.sqrt(300 * 0.25)
    assert not _jsonl(aws["s3"], "data-capture/")  # no capture configured for "none"
    assert _invocations(aws["cloudwatch"], "none", "Champion") == 300  # metrics regardless


def test_sagemaker_errors_and_seeded_results(aws: dict[str, Any], models: dict[str, Any]) -> None:
    _endpoint(aws["sagemaker"], "ep", [_variant("Champion", "champion", 1.0)])
    runtime = aws["sagemaker-runtime"]
    with pytest.raises(ClientError) as short:
        runtime.invoke_endpoint(EndpointName="ep", Body="1,2,3", ContentType="text/csv")
    assert short.value.response["Error"]["Code"] == "ModelError"
    assert short.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "expected: 30, got 3" in short.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as words:
        runtime.invoke_endpoint(EndpointName="ep", Body="a,b", ContentType="text/csv")
    assert words.value.response["Error"]["Code"] == "ModelError"
    with pytest.raises(ClientError) as kind:
        runtime.invoke_endpoint(EndpointName="ep", Body="{}", ContentType="application/json")
    assert "not supported" in kind.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        runtime.invoke_endpoint(EndpointName="nope", Body="1", ContentType="text/csv")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as target:
        runtime.invoke_endpoint(
            EndpointName="ep", Body="1", ContentType="text/csv", TargetVariant="Other"
        )
    assert target.value.response["Error"]["Code"] == "ValidationError"
    # a variant whose model archive is gone answers ModelError
    aws["sagemaker"].create_model(
        ModelName="gone-model",
        PrimaryContainer={"Image": "x", "ModelDataUrl": f"s3://{MODELS_BUCKET}/gone.tar.gz"},
        ExecutionRoleArn=ROLE,
    )
    _endpoint(aws["sagemaker"], "gone", [_variant("Champion", "gone", 1.0)])
    with pytest.raises(ClientError) as gone:
        runtime.invoke_endpoint(EndpointName="gone", Body="1", ContentType="text/csv")
    assert gone.value.response["Error"]["Code"] == "ModelError"
    # Results queued through moto's API are still answered as queued
    response = requests.post(
        f"{aws['url']}/moto-api/static/sagemaker/endpoint-results",
        json={"region": REGION, "results": [{"Body": "0.25", "ContentType": "text/csv"}]},
        timeout=10,
    )
    assert response.status_code == 201
    assert (
        runtime.invoke_endpoint(EndpointName="ep", Body="x", ContentType="text/csv")["Body"].read()
        == b"0.25"
    )


def test_send_traffic_rejects_bad_arguments_before_sending(
    aws: dict[str, Any], models: dict[str, Any]
) -> None:
    calls: list[str] = []
    aws["sagemaker-runtime"].meta.events.register(
        "before-call.sagemaker-runtime.InvokeEndpoint", lambda **_: calls.append("x")
    )
    rows = models["rows"]
    for bad, field in (
        ({"n": 0}, "n"),
        ({"batch": 0}, "batch"),
        ({"label_delay_fraction": 1.5}, "label_delay_fraction"),
        ({"ground_truth_uri": "bucket/gt"}, "ground_truth_uri"),
        ({"rows": rows.drop(columns="Class")}, "rows"),
    ):
        kwargs: dict[str, Any] = {"rows": rows, "n": 5, "ground_truth_uri": GROUND_TRUTH, **bad}
        with pytest.raises(ValidationError) as err:
            send_traffic(
                aws["sagemaker-runtime"],
                "ep",
                kwargs.pop("rows"),
                kwargs.pop("n"),
                s3=aws["s3"],
                **kwargs,
            )
        assert err.value.field == field
    assert calls == []
    assert not _jsonl(aws["s3"], "ground-truth/")


def test_demo_champion_serves_the_baseline_and_traffic_command_adds_labelled_requests(
    _server: Emulator,
    aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fraud_jlab.config import set_settings
    from fraud_jlab.demo import cli
    from fraud_jlab.demo.seed import find_baseline_run
    from fraud_jlab.demo.workspace import prepare_workspace
    from fraud_jlab.modelstore.sagemaker import MODEL_DATA_URL_TAG
    from fraud_jlab.tracking import tracker_from_uri

    for key in list(os.environ):
        if key.startswith("FRAUD_JLAB_") or key == "AWS_PROFILE":
            monkeypatch.delenv(key)
    for key, value in _server.environment().items():
        monkeypatch.setenv(key, value)
    set_settings(None)
    # Given the demo's workspace (baseline only, 300 labelled requests at start)
    prepare_workspace(tmp_path, 5_000, {}, print, baseline_only=True, traffic_records=300)
    out = capsys.readouterr().out
    assert re.search(r"sent 300 records in [\d.]+ s", out), out
    # Then production serves the baseline run's packaged model
    store = tracker_from_uri(f"sqlite:///{tmp_path / 'runs.db'}")
    baseline = find_baseline_run(store)
    sm = aws["sagemaker"]
    endpoint = sm.describe_endpoint(EndpointName="fraud-detection-production")
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert (
        model["PrimaryContainer"]["ModelDataUrl"]
        == store.get_run(baseline.run_id).tags[MODEL_DATA_URL_TAG]
    )
    # When the traffic command sends 120 more
    code = cli.main(
        ["traffic", "--endpoint-url", _server.endpoint_url, "--records", "120", "--seed", "7"]
    )
    assert code == 0, capsys.readouterr().err
    assert "sent 120 records" in capsys.readouterr().out
    flush_capture()
    # Then all 420 requests are captured under the production endpoint, with their labels
    captured = _lines(_jsonl(aws["s3"], "data-capture/fraud-detection-production/AllTraffic/"))
    assert len(captured) == 420
    labels = _lines(_jsonl(aws["s3"], "ground-truth/fraud-detection-production/"))
    ids = {x["eventMetadata"]["inferenceId"] for x in captured}
    assert 0.6 * 420 < len(labels) < 0.95 * 420
    assert {x["eventMetadata"]["eventId"] for x in labels} <= ids
    with pytest.raises(SystemExit):
        cli.main(["traffic", "--records", "0"])
    assert "must be in 1..1000000, got 0" in capsys.readouterr().err
    set_settings(None)
