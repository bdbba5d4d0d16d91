"""Contract tests: what every tracker backend must do (parametrized over ``tracker``).

Behaviours covered:
- create/get: run id round trip, status ``running``, captured user/code/dependencies/tags, start time
- params: stored as strings, idempotent re-log, changing a value or an oversized value rejected
  with nothing written
- metrics: latest value + history by step, NaN/inf/non-numeric rejected naming the metric
- tags overwrite; datasets set the run's dataset version ("training" first)
- end_run: completed/failed, a second end rejected, a bad status rejected
- the ``Run`` facade: completed on success, failed + exception propagated on error
- parent/child runs; unknown ids -> NotFoundError on every method
- artifacts: copied, sha256 recorded, read back; unsafe paths rejected
- search: filters, multi-key order_by with missing keys last, default order, total,
  max_results bounds, page tokens (complete, no duplicates, bound to their filter)
- experiments listing; append-only events newest first
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.contract import MAX_PARAM_LENGTH, TrackerStore
from fraud_jlab.tracking.run import Run, get_run, search_runs
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def start(
    tracker: TrackerStore, name: str = "r", *, exp: str = "exp", minutes: int = 0, **kw: Any
) -> str:
    return tracker.create_run(
        exp, name, user="alice", start_time=T0 + timedelta(minutes=minutes), **kw
    )


def test_create_run_records_identity_and_environment(tracker: TrackerStore) -> None:
    # Given / When
    run_id = start(
        tracker, tags={"stage": "dev"}, code_version="git:abc", dependencies={"numpy": "2.0"}
    )
    # Then
    run = tracker.get_run(run_id)
    # Id format is backend-specific (SQLite: 26-char ULID, see test_sqlite_store.py).
    assert isinstance(run_id, str) and run_id and run.run_id == run_id
    assert (run.experiment_name, run.run_name, run.status, run.user) == (
        "exp",
        "r",
        "running",
        "alice",
    )
    assert run.start_time == T0 and run.end_time is None
    assert run.tags == {"stage": "dev"}
    assert run.code_version == "git:abc" and run.dependencies == {"numpy": "2.0"}


def test_params_are_strings_and_immutable(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    tracker.log_params(run_id, {"max_depth": 7, "eta": 0.15})
    tracker.log_params(run_id, {"max_depth": "7"})  # same value again: fine
    with pytest.raises(ValidationError) as err:
        tracker.log_params(run_id, {"new": 1, "max_depth": 8})
    assert err.value.field == "params.max_depth" and "max_depth" in str(err.value)
    assert tracker.get_run(run_id).params == {"max_depth": "7", "eta": "0.15"}


def test_oversized_param_is_rejected_and_nothing_written(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    with pytest.raises(ValidationError) as err:
        tracker.log_params(run_id, {"ok": 1, "blob": "x" * (MAX_PARAM_LENGTH + 1)})
    assert "blob" in str(err.value) and str(MAX_PARAM_LENGTH) in str(err.value)
    assert tracker.get_run(run_id).params == {}


def test_metrics_keep_latest_and_history(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    tracker.log_metrics(run_id, {"loss": 0.9}, step=1)
    tracker.log_metrics(run_id, {"loss": 0.5, "auc_roc": 0.8}, step=2)
    run = tracker.get_run(run_id)
    assert run.metrics == {"loss": 0.5, "auc_roc": 0.8}
    assert run.metric_history["loss"] == [(1, 0.9), (2, 0.5)]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "0.9", None])
def test_bad_metric_values_are_rejected_naming_the_metric(
    tracker: TrackerStore, bad: object
) -> None:
    run_id = start(tracker)
    with pytest.raises(ValidationError) as err:
        tracker.log_metrics(run_id, {"good": 1.0, "accuracy": bad})  # type: ignore[dict-item]
    assert "accuracy" in str(err.value) and err.value.field == "metrics.accuracy"
    assert tracker.get_run(run_id).metrics == {}


def test_tags_overwrite(tracker: TrackerStore) -> None:
    run_id = start(tracker, tags={"stage": "dev"})
    tracker.set_tags(run_id, {"stage": "prod", "team": "fraud"})
    assert tracker.get_run(run_id).tags == {"stage": "prod", "team": "fraud"}


def test_dataset_version_prefers_training(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    tracker.log_dataset(run_id, "holdout", "sha256:" + "1" * 64)
    assert tracker.get_run(run_id).dataset_version == "sha256:" + "1" * 64
    tracker.log_dataset(run_id, "training", "sha256:" + "2" * 64)
    run = tracker.get_run(run_id)
    assert run.dataset_version == "sha256:" + "2" * 64
    assert run.datasets == {"holdout": "sha256:" + "1" * 64, "training": "sha256:" + "2" * 64}
    with pytest.raises(ValidationError):
        tracker.log_dataset(run_id, "training", "sha256:" + "3" * 64)


def test_end_run_once(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    with pytest.raises(ValidationError) as err:
        tracker.end_run(run_id, "running", end_time=T0)
    assert err.value.field == "status"
    tracker.end_run(run_id, "completed", end_time=T0 + timedelta(seconds=5))
    run = tracker.get_run(run_id)
    assert run.status == "completed" and run.end_time == T0 + timedelta(seconds=5)
    with pytest.raises(ValidationError, match="already ended"):
        tracker.end_run(run_id, "failed", end_time=T0)


def test_run_facade_marks_failure_and_propagates(tracker: TrackerStore) -> None:
    with Run("exp", "ok", tracker=tracker) as run:
        run.log_parameters({"max_depth": 3})
    assert get_run(run.run_id, tracker=tracker).status == "completed"
    with pytest.raises(ZeroDivisionError), Run("exp", "boom", tracker=tracker) as failing:
        failing.log_metric("accuracy", 0.5)
        _ = 1 / 0
    detail = tracker.get_run(failing.run_id)
    assert detail.status == "failed" and detail.end_time is not None
    assert detail.tags["error"].startswith("ZeroDivisionError")
    assert detail.metrics == {"accuracy": 0.5}


def test_parent_and_children(tracker: TrackerStore) -> None:
    with Run("tuning", "parent", tracker=tracker) as parent:
        with parent.child("trial-1") as c1:
            pass
        with parent.child("trial-2") as c2:
            pass
    detail = tracker.get_run(parent.run_id)
    assert detail.children == [c1.run_id, c2.run_id]
    assert tracker.get_run(c1.run_id).parent_run_id == parent.run_id
    page = tracker.search_runs(f"parent_run_id = '{parent.run_id}'")
    assert {r.run_id for r in page.runs} == {c1.run_id, c2.run_id}
    with pytest.raises(NotFoundError):
        start(tracker, parent_run_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_unknown_run_ids_raise_not_found(tracker: TrackerStore, tmp_path: Path) -> None:
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    file = tmp_path / "f.txt"
    file.write_text("x")
    calls: list[Callable[[], object]] = [
        lambda: tracker.get_run(missing),
        lambda: tracker.log_params(missing, {"a": 1}),
        lambda: tracker.log_metrics(missing, {"a": 1.0}),
        lambda: tracker.set_tags(missing, {"a": "b"}),
        lambda: tracker.end_run(missing, "completed", end_time=T0),
        lambda: tracker.log_artifact(missing, file),
        lambda: tracker.log_dataset(missing, "training", "sha256:00"),
        lambda: tracker.read_artifact(missing, "f.txt"),
        lambda: tracker.log_event("promotion", {}, run_id=missing),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()


def test_artifacts_round_trip_with_sha256(tracker: TrackerStore, tmp_path: Path) -> None:
    run_id = start(tracker)
    file = tmp_path / "model.json"
    file.write_bytes(b'{"trees": 3}')
    info = tracker.log_artifact(run_id, file, artifact_path="models/model.json")
    assert info.sha256 == hashlib.sha256(b'{"trees": 3}').hexdigest() and info.size_bytes == 12
    assert tracker.read_artifact(run_id, "models/model.json") == b'{"trees": 3}'
    assert [a.path for a in tracker.get_run(run_id).artifacts] == ["models/model.json"]
    for bad in ("../escape.json", "/etc/passwd"):
        with pytest.raises(ValidationError) as err:
            tracker.log_artifact(run_id, file, artifact_path=bad)
        assert err.value.field == "artifact_path"
    with pytest.raises(NotFoundError):
        tracker.read_artifact(run_id, "nope.bin")


def test_in_memory_artifact_through_run(tracker: TrackerStore) -> None:
    with Run("exp", "r", tracker=tracker) as run:
        run.log_artifact("evaluation/report.txt", "precision 0.9")
    assert tracker.read_artifact(run.run_id, "evaluation/report.txt") == b"precision 0.9"


def _seed_search(tracker: TrackerStore) -> dict[str, str]:
    ids = {}
    for i, (auc, depth) in enumerate([(0.9, "7"), (0.95, "3"), (None, "7"), (0.8, "10")]):
        run_id = start(tracker, f"r{i}", minutes=i, exp="fraud" if i % 2 == 0 else "other")
        tracker.log_params(run_id, {"max_depth": depth})
        if auc is not None:
            tracker.log_metrics(run_id, {"auc_roc": auc, "accuracy": auc + 0.04})
        ids[f"r{i}"] = run_id
    return ids


def names(page: object) -> list[str]:
    return [r.run_name for r in page.runs]  # type: ignore[attr-defined]


def test_search_filters_and_total(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    page = tracker.search_runs("metrics.accuracy >= 0.9 and params.max_depth = '7'")
    assert names(page) == ["r0"] and page.total == 1
    page = tracker.search_runs(
        "metrics.auc_roc > 0.85 or (params.max_depth = '10' and experiment = 'other')"
    )
    assert names(page) == ["r3", "r1", "r0"] and page.total == 3


def test_default_order_is_newest_first(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    assert names(tracker.search_runs()) == ["r3", "r2", "r1", "r0"]


def test_order_by_several_keys_missing_last(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    page = search_runs(order_by=["metrics.auc_roc DESC"], tracker=tracker)
    assert names(page) == ["r1", "r0", "r3", "r2"]
    page = search_runs(order_by=["metrics.auc_roc ASC"], tracker=tracker)
    assert names(page) == ["r3", "r0", "r1", "r2"]
    page = search_runs(order_by=["params.max_depth", "start_time ASC"], tracker=tracker)
    assert names(page) == ["r3", "r1", "r0", "r2"]  # '10' < '3' < '7' as strings
    page = search_runs(order_by=["experiment DESC, metrics.auc_roc DESC"], tracker=tracker)
    assert names(page) == ["r1", "r3", "r0", "r2"]
    page = search_runs(order_by="experiment DESC, metrics.auc_roc DESC", tracker=tracker)
    assert names(page) == ["r1", "r3", "r0", "r2"]


def _walk(tracker: TrackerStore, size: int, **search: Any) -> list[tuple[list[str], int, bool]]:
    """Every page of a search: (run names, total, total_is_exact)."""
    pages: list[tuple[list[str], int, bool]] = []
    token = None
    while True:
        page = tracker.search_runs(max_results=size, page_token=token, **search)
        pages.append((names(page), page.total, page.total_is_exact))
        token = page.next_page_token
        if token is None:
            return pages


@pytest.mark.parametrize("size", [1, 2])
def test_missing_last_holds_across_page_boundaries(tracker: TrackerStore, size: int) -> None:
    # Given: r2 lacks the metric; r4 and r5 lack it too, and r5 ties r1 on it
    _seed_search(tracker)
    start(tracker, "r4", minutes=4)
    r5 = start(tracker, "r5", minutes=5)
    tracker.log_metrics(r5, {"auc_roc": 0.95})
    for order, expected in [
        ("DESC", ["r5", "r1", "r0", "r3", "r4", "r2"]),
        ("ASC", ["r3", "r0", "r5", "r1", "r4", "r2"]),
    ]:
        # When: paging through an order by the metric, one or two runs a page
        pages = _walk(tracker, size, order_by=[f"metrics.auc_roc {order}"])
        # Then: every run once, missing last (newest first), ties newest first
        assert [n for p in pages for n in p[0]] == expected
        seen = 0
        for runs, total, exact in pages:
            seen += len(runs)
            if exact:
                assert total == 6
            else:
                # A lower bound: at least one run beyond this page, never more than exist.
                assert seen < total <= 6
        assert pages[-1][1:] == (6, True)
        if isinstance(tracker, SqliteTrackerStore):
            assert all(exact for _, _, exact in pages)


def test_pagination_covers_every_run_once(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    seen: list[str] = []
    token = None
    while True:
        page = tracker.search_runs(
            order_by=["metrics.auc_roc DESC"], max_results=3, page_token=token
        )
        assert page.total == 4
        seen += names(page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == ["r1", "r0", "r3", "r2"]


def test_page_token_is_bound_to_its_filter(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    token = tracker.search_runs("params.max_depth = '7'", max_results=1).next_page_token
    assert token is not None
    with pytest.raises(ValidationError) as err:
        tracker.search_runs("params.max_depth = '3'", max_results=1, page_token=token)
    assert err.value.field == "page_token"
    with pytest.raises(ValidationError):
        tracker.search_runs(page_token="not-a-token")


@pytest.mark.parametrize("bad", [0, 1001, -5, True, "10"])
def test_max_results_bounds(tracker: TrackerStore, bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        tracker.search_runs(max_results=bad)  # type: ignore[arg-type]
    assert err.value.field == "max_results" and "1 and 1000" in str(err.value)


def test_malformed_filter_names_token_and_position(tracker: TrackerStore) -> None:
    with pytest.raises(ValidationError) as err:
        tracker.search_runs("metrics.accuracy >= 0.95 AND AND")
    assert "'AND' at position 29" in str(err.value) and err.value.field == "filter"


def test_list_experiments(tracker: TrackerStore) -> None:
    _seed_search(tracker)
    experiments = {e.name: e for e in tracker.list_experiments()}
    assert experiments["fraud"].run_count == 2 and experiments["other"].run_count == 2
    assert experiments["other"].last_run_time == T0 + timedelta(minutes=3)


def test_events_are_append_only_newest_first(tracker: TrackerStore) -> None:
    run_id = start(tracker)
    first = tracker.log_event("promotion", {"approver": "bob"}, run_id=run_id)
    second = tracker.log_event("rollback", {"reason": "drift"})
    third = tracker.log_event("promotion", {"approver": "eve"})
    assert [e.event_id for e in tracker.list_events()] == [
        third.event_id,
        second.event_id,
        first.event_id,
    ]
    assert [e.payload["approver"] for e in tracker.list_events("promotion")] == ["eve", "bob"]
    assert [e.event_id for e in tracker.list_events(run_id=run_id)] == [first.event_id]
    with pytest.raises(ValidationError):
        tracker.log_event("promotion", {"bad": object()})
