"""MLflow-specific behaviour: what MLflow users see, foreign runs, limits, events, search parity.

The shared behaviour is covered by ``test_contract.py`` (the ``mlflow`` backend).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.mlflow.store import EVENTS_EXPERIMENT, MlflowTrackerStore
from fraud_jlab.tracking.registry import tracker_from_uri
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

from .conftest import BACKENDS

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MlflowTrackerStore]:
    tracker = BACKENDS["mlflow"](tmp_path)
    assert isinstance(tracker, MlflowTrackerStore)
    yield tracker
    tracker.close()


def client_of(store: MlflowTrackerStore) -> MlflowClient:
    return MlflowClient(tracking_uri=store.tracking_uri)


def test_runs_look_native_to_mlflow_users(store: MlflowTrackerStore) -> None:
    # Given a parent and a child run logged through fraud_jlab
    with Run("fraud", "tuning", tracker=store) as parent:
        parent.log_parameters({"max_depth": 7})
        parent.log_metric("loss", 0.9, step=1)
        parent.log_metric("loss", 0.4, step=2)
        parent.log_artifact("plots/roc.json", "{}")
        with parent.child("trial-1") as child:
            pass
    # When MLflow reads them directly
    client = client_of(store)
    run = client.get_run(parent.run_id)
    # Then every field is where MLflow's UI and API look for it
    assert client.get_experiment(run.info.experiment_id).name == "fraud"
    assert (run.info.run_name, run.info.status) == ("tuning", "FINISHED")
    assert run.data.params == {"max_depth": "7"}
    assert [(m.step, m.value) for m in client.get_metric_history(parent.run_id, "loss")] == [
        (1, 0.9),
        (2, 0.4),
    ]
    assert run.data.tags["mlflow.user"] and "fraud_jlab.dependencies" in run.data.tags
    assert [a.path for a in client.list_artifacts(parent.run_id, "plots")] == ["plots/roc.json"]
    assert client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == parent.run_id


def test_runs_logged_by_mlflow_itself_are_searchable(store: MlflowTrackerStore) -> None:
    # Given runs created with MLflow's own client (e.g. by autologging)
    client = client_of(store)
    exp = client.create_experiment("native", artifact_location=store.artifact_location)
    killed = client.create_run(exp, start_time=1_000, run_name="killed", tags={"team": "risk"})
    client.log_metric(killed.info.run_id, "auc_roc", 0.91)
    client.set_terminated(killed.info.run_id, status="KILLED", end_time=2_000)
    client.create_run(exp, start_time=3_000, run_name="live")
    # When fraud_jlab searches them
    page = store.search_runs("experiment = 'native' and status = 'failed'")
    # Then statuses map onto the contract and MLflow's own tags stay hidden
    assert [r.run_name for r in page.runs] == ["killed"] and page.total == 1
    assert page.runs[0].tags == {"team": "risk"} and page.runs[0].metrics == {"auc_roc": 0.91}
    assert store.get_run(killed.info.run_id).end_time == datetime.fromtimestamp(2, timezone.utc)
    assert {r.run_name for r in store.search_runs("status = 'running'").runs} == {"live"}


def test_param_over_mlflow_limit_is_rejected_and_nothing_written(
    store: MlflowTrackerStore,
) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    with pytest.raises(ValidationError) as err:
        store.log_params(run_id, {"ok": 1, "blob": "x" * 6001})
    assert err.value.field == "params.blob" and "6000" in str(err.value)
    assert store.get_run(run_id).params == {}


def test_param_changed_behind_our_back_is_still_rejected(store: MlflowTrackerStore) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    client_of(store).log_param(run_id, "eta", "0.1")
    with pytest.raises(ValidationError) as err:
        store.log_params(run_id, {"eta": 0.2})
    assert err.value.field == "params.eta"
    assert store.get_run(run_id).params == {"eta": "0.1"}


def test_reserved_tag_prefixes_are_rejected(store: MlflowTrackerStore) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    for key in ("mlflow.user", "fraud_jlab.datasets"):
        with pytest.raises(ValidationError) as err:
            store.set_tags(run_id, {key: "x"})
        assert err.value.field == f"tags.{key}"
    assert store.get_run(run_id).user == "alice"


def test_events_stay_out_of_runs_and_keep_large_payloads(store: MlflowTrackerStore) -> None:
    run_id = store.create_run("exp", "r", user="alice", start_time=T0)
    big = {"config": "y" * 20_000}
    event = store.log_event("promotion", big, run_id=run_id)
    assert [e.payload for e in store.list_events(run_id=run_id)] == [big]
    assert store.search_runs().total == 1
    assert EVENTS_EXPERIMENT not in {e.name for e in store.list_experiments()}
    with pytest.raises(NotFoundError):
        store.get_run(event.event_id)
    with pytest.raises(ValidationError):
        store.create_run(EVENTS_EXPERIMENT, "r", user="alice", start_time=T0)


def test_deleted_experiment_name_is_a_conflict(store: MlflowTrackerStore) -> None:
    client = client_of(store)
    client.delete_experiment(client.create_experiment("gone"))
    with pytest.raises(ConflictError, match="gone"):
        store.create_run("gone", "r", user="alice", start_time=T0)


def _seed(tracker: TrackerStore) -> None:
    rows = [
        ("a", "fraud", {"max_depth": "7", "algo": "XGB"}, {"auc_roc": 0.91}, {"stage": "dev"}),
        ("b", "fraud", {"max_depth": "3", "algo": "xgb"}, {"auc_roc": 0.95}, {}),
        ("c", "other", {"max_depth": "10", "algo": "lgbm"}, {}, {"stage": "it's prod"}),
        ("d", "other", {"algo": "rf"}, {"auc_roc": 0.80, "loss": 0.2}, {"stage": "prod"}),
        ("e", "fraud", {"max_depth": "7"}, {"auc_roc": 0.95}, {"stage": "Dev"}),
    ]
    for i, (name, exp, params, metrics, tags) in enumerate(rows):
        run_id = tracker.create_run(
            exp, name, user="bob" if i % 2 else "alice", start_time=T0 + timedelta(minutes=i)
        )
        tracker.log_params(run_id, params)
        tracker.log_metrics(run_id, metrics)
        tracker.set_tags(run_id, tags)
        if i < 2:
            tracker.end_run(run_id, "completed", end_time=T0 + timedelta(hours=1))


PARITY_FILTERS = [
    "",
    "metrics.auc_roc >= 0.9",
    "metrics.auc_roc != 0.95",
    "params.max_depth = '7' and experiment = 'fraud'",
    "params.algo ILIKE 'x%' or tags.stage = 'it''s prod'",
    "params.algo LIKE 'x%'",
    "params.algo NOT LIKE 'x_b'",
    "tags.stage IS NULL or metrics.loss IS NOT NULL",
    "params.max_depth IN ('3', '10') and status != 'completed'",
    "metrics.auc_roc NOT IN (0.95)",
    "start_time >= '2026-01-01T00:02:00Z' and user = 'alice'",
    "end_time IS NULL and run_name < 'e'",
    "params.max_depth > '3'",
    "experiment ILIKE 'OTH%' and (tags.stage ILIKE '%prod' or params.algo = 'rf')",
]
PARITY_ORDERS = [
    [],
    ["metrics.auc_roc DESC", "run_name"],
    ["params.max_depth", "end_time DESC"],
    ["tags.stage DESC", "user", "experiment DESC"],
]


def test_search_matches_the_sqlite_store(store: MlflowTrackerStore, tmp_path: Path) -> None:
    # Given the same runs in both backends
    sqlite = SqliteTrackerStore(tmp_path / "parity.db")
    _seed(sqlite)
    _seed(store)
    # Then every filter and order gives the same runs in the same order, page by page
    for filter_string in PARITY_FILTERS:
        for order_by in PARITY_ORDERS:
            pages: dict[str, list[list[str]]] = {}
            for name, tracker in (("sqlite", sqlite), ("mlflow", store)):
                token, seen = None, []
                while True:
                    page = tracker.search_runs(filter_string, order_by, 2, token)
                    seen.append([r.run_name for r in page.runs])
                    token = page.next_page_token
                    if token is None:
                        break
                pages[name] = seen
            assert pages["mlflow"] == pages["sqlite"], (filter_string, order_by)
    sqlite.close()


def test_registry_serves_mlflow_uris(tmp_path: Path) -> None:
    uri = f"mlflow+sqlite:///{tmp_path / 'reg.db'}"
    store = tracker_from_uri(uri)
    assert isinstance(store, MlflowTrackerStore) and tracker_from_uri(uri) is store
    with Run("exp", "r", tracker=store) as run:
        run.log_artifact("a.txt", "hello")
    assert (tmp_path / "reg-artifacts").is_dir()
    assert store.read_artifact(run.run_id, "a.txt") == b"hello"


def test_threads_share_one_store(store: MlflowTrackerStore) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with Run("exp", f"t{i}", tracker=store) as run:
                run.log_parameters({"worker": i})
                for step in range(5):
                    run.log_metric("loss", 1.0 / (step + 1), step=step)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    page = store.search_runs("status = 'completed' and metrics.loss = 0.2")
    assert sorted(r.params["worker"] for r in page.runs) == ["0", "1", "2", "3"]


def test_unusable_tracking_uri_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as err:
        tracker_from_uri("mlflow+bogus://nowhere")
    assert err.value.field == "tracking_uri" and "bogus://nowhere" in str(err.value)


def test_registry_names_the_extra_when_mlflow_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "fraud_jlab.tracking.mlflow.store")
    # None in sys.modules makes an import fail as if the package were not installed.
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ValidationError) as err:
        tracker_from_uri(f"mlflow+sqlite:///{tmp_path / 'missing.db'}")
    assert err.value.field == "tracking_uri" and "fraud_jlab[mlflow]" in str(err.value)


def test_page_sorted_by_a_metric_is_sorted_and_paged_by_mlflow(
    store: MlflowTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 30 runs with the metric, one without
    for i in range(30):
        run_id = store.create_run("exp", f"r{i}", user="alice", start_time=T0)
        store.log_metrics(run_id, {"auc": (i * 7 % 30) / 30})
    lacking = store.create_run("exp", "none", user="alice", start_time=T0)
    calls: list[dict[str, Any]] = []
    original = store._client.search_runs

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(store._client, "search_runs", spy)
    # When
    page = store.search_runs(order_by=["metrics.auc DESC"], max_results=5)
    # Then: one request, ordered and limited by MLflow
    assert [(c["order_by"], c["max_results"]) for c in calls] == [(["metrics.`auc` DESC"], 100)]
    assert [r.metrics["auc"] for r in page.runs] == [(29 - i) / 30 for i in range(5)]
    assert page.total == 6 and page.total_is_exact is False and page.next_page_token
    # When: the last page of an ascending order
    page = store.search_runs(order_by=["metrics.auc ASC"], max_results=100)
    # Then: the run lacking the metric is last, and the total is exact
    assert page.runs[-1].run_id == lacking and page.total == 31 and page.total_is_exact
    # When: an order MLflow cannot evaluate like the contract
    calls.clear()
    page = store.search_runs(order_by=["status"], max_results=5)
    assert calls[0]["order_by"] is None and page.total == 31 and page.total_is_exact
