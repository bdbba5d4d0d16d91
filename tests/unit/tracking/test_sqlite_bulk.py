"""``SqliteTrackerStore.log_runs``: many runs in one transaction, stored as the one-run calls store them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.sqlite.bulk import RunToLog
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)


def one_by_one(store: SqliteTrackerStore, run: RunToLog) -> str:
    run_id = store.create_run(
        run.experiment_name, run.run_name, user=run.user, start_time=run.start_time
    )
    store.log_params(run_id, run.params)
    store.log_metrics(run_id, run.metrics)
    store.set_tags(run_id, run.tags)
    assert run.end_time is not None
    store.end_run(run_id, run.status, end_time=run.end_time)
    return run_id


def test_bulk_runs_read_back_exactly_like_runs_logged_one_call_at_a_time(tmp_path: Path) -> None:
    # Given the same runs logged in bulk into one store and call by call into another
    runs = [
        RunToLog(
            "fraud",
            f"r{i}",
            user="ann",
            start_time=T0 + timedelta(seconds=i),
            end_time=T0 + timedelta(seconds=i, milliseconds=7),
            status="failed" if i % 3 == 0 else "completed",
            params={"max_depth": 3 + i % 4, "eta": 0.1},
            metrics={"recall": i / 7, "auc_roc": 1 - i / 11, "accuracy": 0.9},
            tags={"stage": "dev", "batch": str(i // 2)},
        )
        for i in range(12)
    ]
    bulk = SqliteTrackerStore(tmp_path / "bulk.db")
    single = SqliteTrackerStore(tmp_path / "single.db")
    bulk_ids = bulk.log_runs(runs)
    single_ids = [one_by_one(single, run) for run in runs]

    # Then every run reads back the same (apart from its id), in get_run and in search
    assert len(set(bulk_ids)) == 12
    ignore = {"run_id", "dependencies", "code_version"}
    for b, s in zip(bulk_ids, single_ids, strict=True):
        got, want = (
            bulk.get_run(b).model_dump(exclude=ignore),
            single.get_run(s).model_dump(exclude=ignore),
        )
        assert got == want
        assert list(got["metrics"]) == list(want["metrics"])  # stored JSON in the same key order
    for query in ("metrics.auc_roc >= 0.5", "params.max_depth = '4'", "tags.batch IN ('1', '3')"):
        got_page = bulk.search_runs(query, ["metrics.recall DESC"])
        want_page = single.search_runs(query, ["metrics.recall DESC"])
        assert [r.run_name for r in got_page.runs] == [r.run_name for r in want_page.runs]
        assert got_page.total == want_page.total > 0
    bulk.close()
    single.close()


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"status": "running"}, "runs[1].end_time"),  # a running run has no end time
        ({"status": "paused"}, "runs[1].status"),
        ({"metrics": {"auc_roc": float("nan")}}, "metrics.auc_roc"),
        ({"params": {"": "x"}}, "params"),
        ({"run_name": " "}, "run_name"),
    ],
)
def test_one_bad_run_writes_nothing(tmp_path: Path, bad: dict[str, object], field: str) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    good = RunToLog("e", "ok", user="u", start_time=T0, end_time=T0)
    broken = RunToLog(**{**good.__dict__, **bad})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as err:
        store.log_runs([good, broken])
    assert err.value.field == field
    assert store.search_runs("").total == 0
    store.close()


def test_an_unknown_parent_writes_nothing_and_a_known_one_links(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    with pytest.raises(NotFoundError):
        store.log_runs(
            [RunToLog("e", "c", user="u", start_time=T0, end_time=T0, parent_run_id="nope")]
        )
    assert store.search_runs("").total == 0
    (parent,) = store.log_runs([RunToLog("e", "p", user="u", start_time=T0, end_time=T0)])
    (child,) = store.log_runs(
        [RunToLog("e", "c", user="u", start_time=T0, end_time=T0, parent_run_id=parent)]
    )
    assert store.get_run(parent).children == [child]
    store.close()


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    # Given a trace of the statements a batch of 50 runs issues
    store = SqliteTrackerStore(tmp_path / "t.db")
    statements: list[str] = []
    store._conn().set_trace_callback(statements.append)
    store.log_runs(
        [
            RunToLog("e", f"r{i}", user="u", start_time=T0, end_time=T0, metrics={"a": i})
            for i in range(50)
        ]
    )
    store._conn().set_trace_callback(None)
    # Then it committed once
    assert sum(s.strip().upper() == "COMMIT" for s in statements) == 1
    assert store.search_runs("metrics.a >= 10").total == 40
    store.close()
