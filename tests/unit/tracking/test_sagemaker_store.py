"""SageMaker Experiments backend on moto (``mock_aws``): the requests it sends and its layout.

The contract suite (``test_contract.py``) runs this backend against moto's threaded server;
these tests pin what the contract cannot see: the SageMaker SDK's ``Run`` layout, the
``SearchExpression`` sent, the client-side part of a filter, ``BatchPutMetrics`` batching,
S3 artifacts, throttling retries and runs written the way the SageMaker SDK writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fraud_jlab.demo.sagemaker_experiments import install_sagemaker_experiments
from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.registry import tracker_from_uri
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sagemaker.store import SageMakerTrackerStore

install_sagemaker_experiments()
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
BUCKET = "runs-bucket"


class Recorder:
    """Every request a client sends: (operation, params)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


@pytest.fixture
def clients(moto_env: None) -> Iterator[dict[str, Any]]:
    made = {
        "sagemaker": boto3.client("sagemaker"),
        "metrics": boto3.client("sagemaker-metrics"),
        "s3": boto3.client("s3"),
    }
    made["s3"].create_bucket(Bucket=BUCKET)
    yield made


@pytest.fixture
def recorder(clients: dict[str, Any]) -> Recorder:
    rec = Recorder()
    clients["sagemaker"].meta.events.register("provide-client-params.sagemaker.*", rec)
    clients["metrics"].meta.events.register("provide-client-params.sagemaker-metrics.*", rec)
    return rec


@pytest.fixture
def store(clients: dict[str, Any]) -> SageMakerTrackerStore:
    return SageMakerTrackerStore(**clients, artifact_bucket=BUCKET, sleep=lambda _: None)


def test_uri_selects_the_backend_and_region(moto_env: None) -> None:
    store = tracker_from_uri("sagemaker:?region=eu-west-1&bucket=b")
    assert isinstance(store, SageMakerTrackerStore)
    assert (store.region, store.artifact_bucket) == ("eu-west-1", "b")
    assert isinstance(tracker_from_uri("sagemaker:"), SageMakerTrackerStore)
    with pytest.raises(ValidationError) as err:
        tracker_from_uri("sagemaker:?regoin=eu-west-1")
    assert err.value.field == "tracking_uri" and "regoin" in str(err.value)


def test_runs_use_the_sagemaker_sdk_run_layout(
    store: SageMakerTrackerStore, clients: dict[str, Any]
) -> None:
    # When
    with Run("fraud-exp", "xgb 1", tracker=store, tags={"team": "risk"}) as run:
        run.log_parameters({"max_depth": 7})
    # Then: trial component <experiment>-<run name>, tagged as a Run, in the default run group
    sm = clients["sagemaker"]
    assert run.run_id == "fraud-exp-xgb-1"
    tc = sm.describe_trial_component(TrialComponentName=run.run_id)
    assert tc["DisplayName"] == "xgb-1" and tc["Status"]["PrimaryStatus"] == "Completed"
    assert tc["Parameters"]["max_depth"] == {"StringValue": "7"}
    tags = sm.list_tags(ResourceArn=tc["TrialComponentArn"])["Tags"]
    assert {"Key": "sagemaker:trial-component-source", "Value": "run"} in tags
    assert {"Key": "team", "Value": "risk"} in tags
    trial = sm.describe_trial(TrialName="Default-Run-Group-fraud-exp")
    assert trial["ExperimentName"] == "fraud-exp"
    # The same run name again gets its own trial component.
    with Run("fraud-exp", "xgb 1", tracker=store) as again:
        pass
    assert again.run_id != run.run_id and again.run_id.startswith("fraud-exp-xgb-1-")
    assert store.get_run(run.run_id).run_name == "xgb 1"


def test_metrics_go_through_batch_put_metrics_ten_at_a_time(
    store: SageMakerTrackerStore, recorder: Recorder
) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    store.log_metrics(run_id, {f"m{i}": float(i) for i in range(25)}, step=3)
    batches = recorder.of("BatchPutMetrics")
    assert [len(b["MetricData"]) for b in batches] == [10, 10, 5]
    assert all(
        d["Step"] == 3 and b["TrialComponentName"] == run_id
        for b in batches
        for d in b["MetricData"]
    )
    store.log_metrics(run_id, {"m1": 0.5}, step=4)
    detail = store.get_run(run_id)
    assert detail.metrics["m1"] == 0.5 and detail.metric_history["m1"] == [(3, 1.0), (4, 0.5)]


def test_search_sends_what_the_service_can_evaluate(
    store: SageMakerTrackerStore, recorder: Recorder
) -> None:
    a = store.create_run("exp", "a", user="alice", start_time=T0)
    store.log_metrics(a, {"auc": 0.95})
    b = store.create_run("exp", "b", user="alice", start_time=T0, tags={"kind": "x"})
    store.log_metrics(b, {"auc": 0.5})
    recorder.calls.clear()
    # When: every part can be pushed
    page = store.search_runs("experiment = 'exp' and metrics.auc >= 0.9")
    # Then
    assert [r.run_id for r in page.runs] == [a] and page.client_side_filter is None
    (request,) = recorder.of("Search")
    assert request["Resource"] == "ExperimentTrialComponent" and request["MaxResults"] == 100
    assert request["SearchExpression"] == {
        "Filters": [
            {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "exp"},
            {"Name": "Metrics.auc", "Operator": "GreaterThanOrEqualTo", "Value": "0.9"},
        ]
    }
    # When: OR and LIKE are evaluated client-side, and the result says so
    recorder.calls.clear()
    page = store.search_runs(
        "experiment = 'exp' and (metrics.auc > 0.9 or tags.kind = 'x') and run_name LIKE '_'"
    )
    assert sorted(r.run_id for r in page.runs) == sorted([a, b])
    assert page.client_side_filter == "(metrics.auc > 0.9 OR tags.kind = 'x') AND run_name LIKE '_'"
    (request,) = recorder.of("Search")
    assert request["SearchExpression"]["Filters"] == [
        {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "exp"}
    ]


def test_filter_the_service_rejects_is_evaluated_client_side(
    store: SageMakerTrackerStore, clients: dict[str, Any], recorder: Recorder
) -> None:
    # Given: a service that cannot filter on metrics (as plain moto)
    a = store.create_run("exp", "a", user="alice", start_time=T0)
    store.log_metrics(a, {"auc": 0.95})
    b = store.create_run("exp", "b", user="alice", start_time=T0)
    store.log_metrics(b, {"auc": 0.1})

    def reject(params: dict[str, Any], **_: Any) -> None:
        names = [f["Name"] for f in params.get("SearchExpression", {}).get("Filters", [])]
        if any(n.startswith("Metrics.") for n in names):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "Unknown property"}}, "Search"
            )

    clients["sagemaker"].meta.events.register("provide-client-params.sagemaker.Search", reject)
    recorder.calls.clear()
    # When
    page = store.search_runs("metrics.auc > 0.5 and experiment = 'exp'")
    # Then: retried with the experiment scope, the metric evaluated here
    assert [r.run_id for r in page.runs] == [a] and page.total == 1
    assert page.client_side_filter == "metrics.auc > 0.5 AND experiment = 'exp'"
    first, second = recorder.of("Search")
    assert len(first["SearchExpression"]["Filters"]) == 2
    assert second["SearchExpression"]["Filters"] == [
        {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "exp"}
    ]


def test_search_reads_one_page_per_request_not_one_per_run(
    store: SageMakerTrackerStore, recorder: Recorder
) -> None:
    for i in range(230):
        store.create_run("exp", f"r{i}", user="alice", start_time=T0)
    recorder.calls.clear()
    page = store.search_runs("", max_results=10)
    assert page.total == 230 and len(page.runs) == 10
    assert [len(recorder.of("Search")), len(recorder.calls)] == [3, 3]


def test_artifacts_are_s3_output_and_input_artifacts(
    store: SageMakerTrackerStore, clients: dict[str, Any], tmp_path: Path
) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    model = tmp_path / "model.json"
    model.write_text("{}")
    store.log_artifact(run_id, model, artifact_path="model/model.json")
    store.log_artifact(run_id, model, artifact_path="train.csv", is_output=False)
    tc = clients["sagemaker"].describe_trial_component(TrialComponentName=run_id)
    uri = f"s3://{BUCKET}/fraud-jlab/artifacts/{run_id}/model/model.json"
    assert tc["OutputArtifacts"]["model/model.json"]["Value"] == uri
    assert "train.csv" in tc["InputArtifacts"]
    body = clients["s3"].get_object(Bucket=BUCKET, Key=uri.split("/", 3)[3])["Body"].read()
    assert body == b"{}" and store.read_artifact(run_id, "model/model.json") == b"{}"


def test_throttling_is_retried_with_backoff(clients: dict[str, Any]) -> None:
    waits: list[float] = []
    store = SageMakerTrackerStore(**clients, artifact_bucket=BUCKET, sleep=waits.append)
    calls = {"n": 0}

    def throttle(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Op")

    clients["sagemaker"].meta.events.register(
        "before-call.sagemaker.CreateTrialComponent", throttle
    )
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    assert store.get_run(run_id).status == "running"
    assert calls["n"] == 3 and len(waits) == 2
    # A persistent throttle gives up after max_attempts.
    calls["n"] = -100
    with pytest.raises(ClientError):
        store.create_run("exp", "r2", user="alice", start_time=T0)
    assert len(waits) == 2 + store.max_attempts - 1


def test_runs_written_by_the_sagemaker_sdk_show_up(
    store: SageMakerTrackerStore, clients: dict[str, Any]
) -> None:
    # Given: what sagemaker.experiments.Run.init + log_parameter + log_metric write
    sm, metrics = clients["sagemaker"], clients["metrics"]
    sm.create_experiment(ExperimentName="studio-exp")
    sm.create_trial(TrialName="Default-Run-Group-studio-exp", ExperimentName="studio-exp")
    sm.create_trial_component(
        TrialComponentName="studio-exp-run-1",
        DisplayName="run-1",
        Status={"PrimaryStatus": "Completed"},
        StartTime=T0,
        EndTime=T0,
        Parameters={"eta": {"NumberValue": 0.15}, "max_depth": {"NumberValue": 7}},
        Tags=[{"Key": "sagemaker:trial-component-source", "Value": "run"}],
    )
    sm.associate_trial_component(
        TrialComponentName="studio-exp-run-1", TrialName="Default-Run-Group-studio-exp"
    )
    metrics.batch_put_metrics(
        TrialComponentName="studio-exp-run-1",
        MetricData=[{"MetricName": "auc", "Value": 0.9, "Step": 0, "Timestamp": T0}],
    )
    # When
    page = store.search_runs("experiment = 'studio-exp'")
    # Then
    (run,) = page.runs
    assert (run.run_id, run.run_name, run.status) == ("studio-exp-run-1", "run-1", "completed")
    assert run.params == {"eta": "0.15", "max_depth": "7"} and run.metrics == {"auc": 0.9}
    assert [e.name for e in store.list_experiments()] == ["studio-exp"]


def test_experiment_names_follow_sagemaker_rules(store: SageMakerTrackerStore) -> None:
    with pytest.raises(ValidationError) as err:
        store.create_run("my experiment", "r", user="alice", start_time=T0)
    assert err.value.field == "experiment_name" and "letters, digits" in str(err.value)


def test_page_sorted_by_a_metric_is_sorted_and_paged_by_the_service(
    store: SageMakerTrackerStore, recorder: Recorder
) -> None:
    # Given: 230 runs with the metric and 2 without
    for i in range(230):
        run_id = store.create_run("exp", f"r{i}", user="alice", start_time=T0)
        store.log_metrics(run_id, {"auc": (i * 37 % 230) / 230})
    lacking = [store.create_run("exp", f"none{i}", user="alice", start_time=T0) for i in range(2)]
    recorder.calls.clear()
    # When: the first page of 10 by the metric
    page = store.search_runs("experiment = 'exp'", order_by=["metrics.auc DESC"], max_results=10)
    # Then: one Search request, sorted by the service, with a lower-bound total
    (request,) = recorder.of("Search")
    assert (request["SortBy"], request["SortOrder"]) == ("Metrics.auc.Last", "Descending")
    assert request["SearchExpression"]["Filters"] == [
        {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "exp"},
        {"Name": "Metrics.auc", "Operator": "Exists"},
    ]
    assert [r.metrics["auc"] for r in page.runs] == [(229 - i) / 230 for i in range(10)]
    assert page.total == 11 and page.total_is_exact is False and page.next_page_token
    # When: paging to the end (ascending)
    seen: list[str] = []
    token = None
    while True:
        page = store.search_runs(
            "experiment = 'exp'", order_by=["metrics.auc ASC"], max_results=100, page_token=token
        )
        seen += [r.run_id for r in page.runs]
        token = page.next_page_token
        if token is None:
            break
    # Then: every run once, the two lacking the metric last (newest first), and an exact
    # total once the runs ran out
    assert len(seen) == len(set(seen)) == 232
    assert seen[-2:] == lacking[::-1]
    assert page.total == 232 and page.total_is_exact is True
    assert recorder.of("Search")[-1]["SearchExpression"]["Filters"][-1] == {
        "Name": "Metrics.auc",
        "Operator": "NotExists",
    }


def test_metric_sort_the_service_rejects_reads_every_candidate(
    store: SageMakerTrackerStore, clients: dict[str, Any], recorder: Recorder
) -> None:
    a = store.create_run("exp", "a", user="alice", start_time=T0)
    store.log_metrics(a, {"auc": 0.2})
    b = store.create_run("exp", "b", user="alice", start_time=T0)
    store.log_metrics(b, {"auc": 0.9})

    def reject(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("SortBy", "")).startswith("Metrics."):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "bad SortBy"}}, "Search"
            )

    clients["sagemaker"].meta.events.register("provide-client-params.sagemaker.Search", reject)
    page = store.search_runs(order_by=["metrics.auc DESC"])
    assert [r.run_id for r in page.runs] == [b, a]
    assert page.total == 2 and page.total_is_exact is True
    assert recorder.of("Search")[-1]["SortBy"] == "CreationTime"
