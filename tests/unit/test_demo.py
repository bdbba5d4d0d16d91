"""fraud_jlab.demo: the AWS emulator, provisioning, UpdateEndpoint, seeding and ``fraud-jlab demo``."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost as xgb
import yaml
from moto import mock_aws
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

import fraud_jlab
from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.datasets import generate_fraud_dataset, save_dataset
from fraud_jlab.demo import cli
from fraud_jlab.demo.emulator import (
    PRODUCTION_HYPERPARAMETERS,
    Emulator,
    default_production_config,
    install_sagemaker_update_endpoint,
    provision_resources,
    start_emulator,
)
from fraud_jlab.demo.seed import (
    DEFAULT_CONFIGS,
    EXPERIMENT_NAME,
    TUNING_GRID,
    find_baseline_run,
    holdout_metrics,
    seed_tracker,
)
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, holdout_identity, read_holdout_scores
from fraud_jlab.evaluation.intervals import MIN_FRAUDS
from fraud_jlab.modelstore import load_model
from fraud_jlab.tracking import capture, set_tracker
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "fraud_jlab" / "demo" / "notebooks" / "01_quickstart.ipynb"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for key in list(os.environ):
        if key.startswith("FRAUD_JLAB_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="module")
def _emulator_server() -> Iterator[Emulator]:
    with start_emulator() as emu:
        yield emu


@pytest.fixture
def emulator(_emulator_server: Emulator) -> Emulator:
    """The module's emulator, emptied (moto's reset API) so each test starts from nothing."""
    request = urllib.request.Request(
        f"{_emulator_server.endpoint_url}/moto-api/reset", data=b"", method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    return _emulator_server


def _clients(emu: Emulator) -> dict[str, Any]:
    kw: Any = {
        "endpoint_url": emu.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return {
        "s3_client": boto3.client("s3", **kw),
        "ssm_client": boto3.client("ssm", **kw),
        "sfn_client": boto3.client("stepfunctions", **kw),
        "sagemaker_client": boto3.client("sagemaker", **kw),
        "iam_client": boto3.client("iam", **kw),
        "sts_client": boto3.client("sts", **kw),
    }


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(tmp_path / "runs.db")
    yield store
    store.close()


# --- emulator and provisioning -------------------------------------------------
def test_emulator_environment_points_boto3_at_it(emulator: Emulator) -> None:
    env = emulator.environment()
    assert env == {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator.port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with urllib.request.urlopen(f"{emulator.endpoint_url}/moto-api/data.json", timeout=10) as r:
        assert r.status == 200


def test_stopped_emulator_releases_its_port() -> None:
    emu = start_emulator()
    port = emu.port
    emu.stop()
    emu.stop()  # idempotent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    with pytest.raises(ValidationError) as err:
        start_emulator(port=70000)
    assert err.value.field == "port"


def test_provisioning_creates_the_production_integration(emulator: Emulator) -> None:
    clients = _clients(emulator)
    settings = FraudJlab()
    config = default_production_config("run-123", {"average_precision": 0.8})

    result = provision_resources(settings, production_config=config, **clients)

    s3, ssm, sfn, sm = (
        clients[k] for k in ("s3_client", "ssm_client", "sfn_client", "sagemaker_client")
    )
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {settings.config_bucket, settings.data_bucket, settings.models_bucket} <= buckets
    assert s3.get_bucket_versioning(Bucket=settings.config_bucket)["Status"] == "Enabled"
    for name, value in {
        "objective": "binary:logistic",
        "num_round": "100",
        "max_depth": "5",
        "eta": "0.2",
        "subsample": "0.8",
        "colsample_bytree": "0.8",
    }.items():
        got = ssm.get_parameter(Name=f"/fraud-detection/hyperparameters/{name}")["Parameter"][
            "Value"
        ]
        assert got == value
    body = s3.get_object(Bucket=settings.config_bucket, Key="production-model-config.yaml")["Body"]
    stored = yaml.safe_load(body.read())
    assert stored == config
    assert set(stored["model"]) == {
        "algorithm", "version", "hyperparameters", "performance", "tested_date", "approved_by"
    }  # fmt: skip
    machine = sfn.describe_state_machine(stateMachineArn=settings.state_machine_arn)
    assert machine["stateMachineArn"] == settings.state_machine_arn
    assert result["state_machine_arn"] == settings.state_machine_arn
    execution = sfn.start_execution(stateMachineArn=settings.state_machine_arn, input="{}")
    assert execution["executionArn"].startswith("arn:aws:states:us-east-1:123456789012:execution:")
    endpoint = sm.describe_endpoint(EndpointName=settings.production_endpoint)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == result["endpoint"]["endpoint_config"]
    assert result["role_arn"] == settings.sagemaker_role_arn

    # Idempotent, and never overwrites what a promotion may have changed.
    ssm.put_parameter(
        Name="/fraud-detection/hyperparameters/max_depth", Value="7", Type="String", Overwrite=True
    )
    again = provision_resources(settings, **clients)
    assert again["config_written"] is False
    value = ssm.get_parameter(Name="/fraud-detection/hyperparameters/max_depth")["Parameter"][
        "Value"
    ]
    assert value == "7"
    assert (
        yaml.safe_load(
            s3.get_object(Bucket=settings.config_bucket, Key="production-model-config.yaml")[
                "Body"
            ].read()
        )
        == config
    )


def test_provisioning_refuses_an_arn_of_another_account_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv(
        "FRAUD_JLAB_STATE_MACHINE_ARN",
        "arn:aws:states:us-east-1:999999999999:stateMachine:fraud-detection-training-pipeline",
    )
    with mock_aws():
        with pytest.raises(ValidationError) as err:
            provision_resources(FraudJlab())
        assert err.value.field == "state_machine_arn"
        assert "999999999999" in str(err.value)
        assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"] == []


def test_update_endpoint_switches_the_endpoint_config(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    assert install_sagemaker_update_endpoint() is True
    assert install_sagemaker_update_endpoint() is True  # idempotent
    with mock_aws():
        provision_resources(FraudJlab())
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_endpoint_config(
            EndpointConfigName="challenger-config",
            ProductionVariants=[
                {
                    "VariantName": "Challenger",
                    "ModelName": "fraud-detection-production-model",
                    "InitialInstanceCount": 2,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        arn = sm.update_endpoint(
            EndpointName="fraud-detection-production", EndpointConfigName="challenger-config"
        )["EndpointArn"]
        sm.get_waiter("endpoint_in_service").wait(EndpointName="fraud-detection-production")
        endpoint = sm.describe_endpoint(EndpointName="fraud-detection-production")

        assert arn == endpoint["EndpointArn"]
        assert endpoint["EndpointConfigName"] == "challenger-config"
        assert endpoint["EndpointStatus"] == "InService"
        assert [v["VariantName"] for v in endpoint["ProductionVariants"]] == ["Challenger"]
        with pytest.raises(
            sm.exceptions.ClientError, match="Could not find endpoint configuration"
        ):
            sm.update_endpoint(EndpointName="fraud-detection-production", EndpointConfigName="nope")
        with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint 'arn"):
            sm.update_endpoint(EndpointName="nope", EndpointConfigName="challenger-config")


def test_update_endpoint_works_through_the_emulator_server(emulator: Emulator) -> None:
    clients = _clients(emulator)
    provision_resources(FraudJlab(), **clients)
    sm = clients["sagemaker_client"]
    sm.create_endpoint_config(
        EndpointConfigName="server-challenger",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "fraud-detection-production-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.update_endpoint(
        EndpointName="fraud-detection-production", EndpointConfigName="server-challenger"
    )
    endpoint = sm.describe_endpoint(EndpointName="fraud-detection-production")
    assert endpoint["EndpointConfigName"] == "server-challenger"
    assert endpoint["EndpointStatus"] == "InService"


def test_shadow_variants_and_weights_work_through_the_emulator_server(emulator: Emulator) -> None:
    clients = _clients(emulator)
    provision_resources(FraudJlab(), **clients)
    sm = clients["sagemaker_client"]
    variant = {
        "ModelName": "fraud-detection-production-model",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "InitialVariantWeight": 50.0,
    }
    sm.create_endpoint_config(
        EndpointConfigName="server-shadow",
        ProductionVariants=[{"VariantName": "Champion", **variant}],
        ShadowProductionVariants=[{"VariantName": "Challenger", **variant}],
    )
    assert [
        v["VariantName"]
        for v in sm.describe_endpoint_config(EndpointConfigName="server-shadow")[
            "ShadowProductionVariants"
        ]
    ] == ["Challenger"]
    sm.create_endpoint_config(
        EndpointConfigName="server-split",
        ProductionVariants=[{"VariantName": n, **variant} for n in ("Champion", "Challenger")],
    )
    production = "fraud-detection-production"
    sm.update_endpoint(EndpointName=production, EndpointConfigName="server-shadow")
    endpoint = sm.describe_endpoint(EndpointName=production)
    assert [v["VariantName"] for v in endpoint["ShadowProductionVariants"]] == ["Challenger"]

    sm.update_endpoint(EndpointName=production, EndpointConfigName="server-split")
    sm.update_endpoint_weights_and_capacities(
        EndpointName=production,
        DesiredWeightsAndCapacities=[
            {"VariantName": "Champion", "DesiredWeight": 75.0},
            {"VariantName": "Challenger", "DesiredWeight": 25.0},
        ],
    )
    endpoint = sm.describe_endpoint(EndpointName=production)
    assert "ShadowProductionVariants" not in endpoint
    assert {v["VariantName"]: v["CurrentWeight"] for v in endpoint["ProductionVariants"]} == {
        "Champion": 75.0,
        "Challenger": 25.0,
    }


# --- seeding -------------------------------------------------------------------
def test_seed_tracker_logs_runs_with_real_holdout_metrics(tracker: SqliteTrackerStore) -> None:
    configs = [dict(DEFAULT_CONFIGS[0]), {"max_depth": 3, "eta": 0.3, "num_round": 30,
                                          "subsample": 1.0, "colsample_bytree": 1.0}]  # fmt: skip
    ids = seed_tracker(tracker, n_rows=20_000, seed=1, configs=configs)

    # the configuration runs, the tuning parent, its trials, then the refit of its best trial
    assert len(ids) == len(configs) + 1 + len(TUNING_GRID) + 1
    assert len(set(ids)) == len(ids)
    runs = {run_id: tracker.get_run(run_id) for run_id in ids}
    parent = runs[ids[len(configs)]]
    assert parent.run_name == "xgboost-tuning"
    assert sorted(parent.children) == sorted(ids[len(configs) + 1 :])
    assert all(runs[c].parent_run_id == parent.run_id for c in parent.children)
    refit_id = ids[-1]
    trials = ids[len(configs) + 1 : -1]
    # the best trial is chosen on cross-validation; the reported run is its refit
    best = max(trials, key=lambda c: runs[c].metrics["mean_average_precision"])
    assert parent.tags["best_trial_run_id"] == best
    assert parent.tags["best_run_id"] == refit_id
    assert parent.metrics["best_average_precision"] == runs[best].metrics["mean_average_precision"]

    frame = generate_fraud_dataset(20_000, seed=1)
    _, test = train_test_split(frame, test_size=0.2, stratify=frame["Class"], random_state=1)
    features = xgb.DMatrix(test.drop(columns="Class"))
    identities: set[str | None] = set()
    for run_id in ids[: len(configs)]:
        run = runs[run_id]
        assert run.experiment_name == EXPERIMENT_NAME and run.status == "completed"
        assert set(run.params) == {
            "objective", "num_round", "max_depth", "eta", "subsample", "colsample_bytree"
        }  # fmt: skip
        assert "training" in run.datasets and run.dataset_version
        assert {a.path for a in run.artifacts} >= {"model.json", HOLDOUT_ARTIFACT}
        # The logged metrics are exactly what the stored holdout scores give ...
        holdout = read_holdout_scores(tracker.read_artifact(run_id, HOLDOUT_ARTIFACT))
        recomputed = holdout_metrics(holdout.y_true, holdout.y_score.astype(np.float64))
        # (the run also records its holdout's fraud count and rate for the promotion gates)
        assert {k: run.metrics[k] for k in recomputed} == pytest.approx(recomputed, abs=1e-6)
        n_pos = float(holdout.y_true.sum())
        assert run.metrics["holdout_n_pos"] == n_pos
        assert run.metrics["holdout_fraud_rate"] == pytest.approx(n_pos / holdout.y_true.size)
        # ... and each run shows its AP interval, or says the holdout has too few frauds
        if n_pos >= MIN_FRAUDS:
            ap = run.metrics["average_precision"]
            assert run.metrics["average_precision_ci_low"] <= ap
            assert ap <= run.metrics["average_precision_ci_high"]
        else:
            assert "average_precision" in run.tags["evaluation.ci_too_few_frauds"]
            assert "average_precision_ci_low" not in run.metrics
        assert set(recomputed) == {
            "accuracy", "precision", "recall", "f1_score", "auc_roc", "average_precision",
            "recall_at_fpr",
        }  # fmt: skip
        assert 0.0 < run.metrics["average_precision"] <= 1.0
        # ... and the stored model reproduces those scores.
        booster = xgb.Booster()
        booster.load_model(bytearray(tracker.read_artifact(run_id, "model.json")))
        assert int(booster.num_boosted_rounds()) == int(run.params["num_round"])
        np.testing.assert_allclose(booster.predict(features), holdout.y_score, rtol=1e-6)
        np.testing.assert_array_equal(holdout.y_true, test["Class"].to_numpy())
        # Every seeded run is scored on the same rows, so the compare view pairs them.
        identities.add(holdout.holdout_identity)

    # the refit is scored on the same rows too, so it pairs with the configuration runs
    refit_holdout = read_holdout_scores(tracker.read_artifact(refit_id, HOLDOUT_ARTIFACT))
    identities.add(refit_holdout.holdout_identity)
    assert identities == {holdout_identity(test.drop(columns="Class"), test["Class"])}
    baseline = find_baseline_run(tracker)
    assert baseline is not None and baseline.run_id == ids[0]
    assert baseline.params["max_depth"] == PRODUCTION_HYPERPARAMETERS["max_depth"]


def test_demo_reported_score_comes_from_rows_no_selection_step_saw(
    tracker: SqliteTrackerStore,
) -> None:
    configs = [{"max_depth": 3, "eta": 0.3, "num_round": 20, "subsample": 1.0,
                "colsample_bytree": 1.0}]  # fmt: skip
    ids = seed_tracker(tracker, n_rows=6_000, seed=2, configs=configs)
    parent, trials, refit = tracker.get_run(ids[1]), ids[2:-1], tracker.get_run(ids[-1])
    frame = generate_fraud_dataset(6_000, seed=2)
    train, test = train_test_split(frame, test_size=0.2, stratify=frame["Class"], random_state=2)
    train_hash = capture.dataset_hash(train.drop(columns="Class"))
    test_hash = capture.dataset_hash(test.drop(columns="Class"))
    assert set(train.index).isdisjoint(test.index)
    # Selection: the search and every trial saw the training rows only, and were scored on CV
    assert parent.datasets == {"training": train_hash}
    for trial_id in trials:
        trial = tracker.get_run(trial_id)
        assert "average_precision" not in trial.metrics  # no holdout score to select on
        assert {"mean_average_precision", "fold_0_average_precision"} <= set(trial.metrics)
        assert not trial.artifacts
    # Reporting: the refit is the tuning run's reported run, scored on the holdout rows only
    assert parent.tags["best_run_id"] == refit.run_id and refit.parent_run_id == parent.run_id
    assert refit.datasets == {"training": train_hash, "holdout": test_hash}
    holdout = read_holdout_scores(tracker.read_artifact(refit.run_id, HOLDOUT_ARTIFACT))
    np.testing.assert_array_equal(holdout.y_true, test["Class"].to_numpy())
    model = load_model(refit.run_id, tracker=tracker)
    score = model.predict_proba(test.drop(columns="Class"))[:, 1]
    assert refit.metrics["average_precision"] == pytest.approx(
        average_precision_score(test["Class"], score), abs=1e-12
    )
    assert refit.metrics["cv_mean_average_precision"] == parent.metrics["best_average_precision"]


def test_seed_tracker_without_tuning_logs_only_the_configurations(
    tracker: SqliteTrackerStore,
) -> None:
    config = {"run_name": "production-baseline", "max_depth": 3, "eta": 0.3, "num_round": 10,
              "subsample": 1.0, "colsample_bytree": 1.0}  # fmt: skip
    ids = seed_tracker(tracker, n_rows=5_000, configs=[config], tune=False)
    assert len(ids) == 1 and tracker.search_runs("").total == 1
    assert find_baseline_run(tracker).run_id == ids[0]


def test_seed_tracker_rejects_bad_configs_before_logging(tracker: SqliteTrackerStore) -> None:
    for bad in ({"max_depth": 0}, {"eta": 1.5}, {"num_round": 2.5}, {"gamma": 1}):
        config = {
            "max_depth": 4,
            "eta": 0.1,
            "num_round": 10,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
        }
        with pytest.raises(ValidationError) as err:
            seed_tracker(tracker, n_rows=2_000, configs=[{**config, **bad}])
        assert err.value.field == "configs"
    with pytest.raises(ValidationError):
        seed_tracker(tracker, configs=[])
    assert tracker.search_runs("").total == 0


def test_seed_tracker_reads_data_from_s3(
    monkeypatch: pytest.MonkeyPatch, tracker: SqliteTrackerStore
) -> None:
    _clean_env(monkeypatch)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="fraud-detection-data")
        uri = save_dataset(
            generate_fraud_dataset(15_000, seed=2), "s3://fraud-detection-data/d.parquet"
        )
        config = {
            "max_depth": 4,
            "eta": 0.3,
            "num_round": 20,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
        }
        ids = seed_tracker(tracker, configs=[config], data_uri=uri)
    first = tracker.get_run(ids[0])
    assert first.tags["data"] == uri
    assert first.run_name == "xgb-config-1"


# --- notebook ------------------------------------------------------------------
def test_quickstart_notebook_runs_against_the_emulator(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tracker: SqliteTrackerStore
) -> None:
    _clean_env(monkeypatch)
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    set_settings(None)
    set_tracker(tracker)
    try:
        provision_resources(FraudJlab())
        save_dataset(
            generate_fraud_dataset(20_000, seed=5),
            "s3://fraud-detection-data/datasets/creditcard.parquet",
        )
        notebook = json.loads(NOTEBOOK.read_text())
        namespace: dict[str, Any] = {}
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), namespace)
    finally:
        set_tracker(None)
        set_settings(None)
    runs = tracker.search_runs("run_name = 'quickstart-xgboost'").runs
    assert len(runs) == 1 and runs[0].metrics["average_precision"] > 0
    assert namespace["page"].total >= 1


# --- command line --------------------------------------------------------------
def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"fraud-jlab {fraud_jlab.__version__}"
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    out = capsys.readouterr().out
    for option in ("--port", "--no-browser", "--workdir", "--rows", "--ip"):
        assert option in out
    assert cli.main([]) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--port", "0"], "--port: must be in 1..65535"),
        (["demo", "--port", "http"], "--port: must be an integer"),
        (["demo", "--rows", "4999"], "--rows: must be >= 5000"),
        (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_options_get_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_refuses_a_busy_port_before_doing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(["demo", "--port", str(port), "--workdir", str(tmp_path / "wd")])
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "wd").exists()


def test_prepare_seeds_once_and_provisions_production(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _clean_env(monkeypatch)
    for key, value in emulator.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "restored-by-monkeypatch")
    args = cli.build_parser().parse_args(
        ["demo", "--rows", "5000", "--traffic", "100", "--workdir", str(tmp_path)]
    )
    environ: dict[str, str] = {}

    cli._prepare(args, tmp_path, environ)
    first = capsys.readouterr().out
    cli._prepare(args, tmp_path, environ)
    second = capsys.readouterr().out

    expected = len(DEFAULT_CONFIGS) + 1 + len(TUNING_GRID) + 1  # + the tuning's refit
    assert f"logged {expected} runs" in first
    assert "sent 100 records" in first and "sent 100 records" in second  # labelled traffic
    assert f"already has {expected} runs; skipping seeding" in second
    assert environ["FRAUD_JLAB_TRACKING_URI"] == f"sqlite:///{tmp_path / 'runs.db'}"
    assert (tmp_path / "01_quickstart.ipynb").read_bytes() == NOTEBOOK.read_bytes()
    s3 = _clients(emulator)["s3_client"]
    config = yaml.safe_load(
        s3.get_object(Bucket="fraud-detection-config", Key="production-model-config.yaml")[
            "Body"
        ].read()
    )
    store = SqliteTrackerStore(tmp_path / "runs.db")
    try:
        baseline = find_baseline_run(store)
        assert baseline is not None
        assert config["model"]["version"] == baseline.run_id
        assert config["model"]["performance"] == baseline.metrics
    finally:
        store.close()
    head = s3.head_object(Bucket="fraud-detection-data", Key=cli.DATA_KEY)
    assert head["ContentLength"] > 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demo_command() -> list[str]:
    script = Path(sys.executable).parent / "fraud-jlab"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "fraud_jlab.demo.cli"]


@pytest.mark.slow
def test_demo_serves_seeded_runs_and_stops_on_sigint(tmp_path: Path) -> None:
    port = _free_port()
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FRAUD_JLAB_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [*_demo_command(), "demo", "--no-browser", "--port", str(port), "--rows", "5000",
         "--workdir", str(workdir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output = io.StringIO()
    try:
        token = None
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            output.write(line)
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]+)", line)
            token = found.group(1) if found else None
        assert token, f"no URL printed:\n{output.getvalue()}"

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/fraud-jlab/api/runs?max_results=100",
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        assert page["total"] == len(DEFAULT_CONFIGS) + 1 + len(TUNING_GRID) + 1  # + refit
        assert {r["run_name"] for r in page["runs"]} >= {"production-baseline", "xgboost-tuning"}
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/fraud-jlab/api/runs", timeout=30)
        assert denied.value.code == 403
        assert (workdir / "01_quickstart.ipynb").exists()
        assert (workdir / "runs.db").exists()

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
        output.write(rest)
        assert proc.returncode == 0, output.getvalue()
        emulator_url = re.search(
            r"AWS emulator listening on http://127\.0\.0\.1:(\d+)", output.getvalue()
        )
        assert emulator_url, output.getvalue()
        for gone in (port, int(emulator_url.group(1))):  # Lab and the emulator stopped listening
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", gone), timeout=5).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_demo_lab_turns_off_the_news_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyterlab_server.config import get_static_page_config

    from fraud_jlab.demo.cli import demo_lab_config

    environ = {"JUPYTER_CONFIG_PATH": "/elsewhere"}
    folder = demo_lab_config(tmp_path, environ)
    assert environ["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(folder), "/elsewhere"]
    # Lab started with that environment reads the announcements plugin as disabled
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(folder))
    disabled = get_static_page_config(level="all").get("disabledExtensions", {})
    assert disabled.get("@jupyterlab/apputils-extension:announcements") is True
    # Idempotent across restarts of the same workdir
    demo_lab_config(tmp_path, environ)
    assert environ["JUPYTER_CONFIG_PATH"].count(str(folder)) == 1


def test_seeded_metrics_are_computed_by_fraud_jlab_evaluation() -> None:
    """The demo's numbers come from the evaluator's own metric functions, not a second copy."""
    import ast
    import inspect

    from fraud_jlab.demo import seed
    from fraud_jlab.evaluation.metrics import average_precision, recall_at_fpr

    tree = ast.parse(inspect.getsource(seed))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "sklearn.metrics" not in imported
    rng = np.random.default_rng(3)
    y = (rng.random(5_000) < 0.02).astype(int)
    score = np.clip(rng.normal(0.2 + 0.5 * y, 0.2), 0, 1)
    metrics = holdout_metrics(y, score)
    assert metrics["average_precision"] == average_precision(y, score)
    assert metrics["recall_at_fpr"] == recall_at_fpr(y, score, 0.001)
