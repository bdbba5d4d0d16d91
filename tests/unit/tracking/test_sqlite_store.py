"""SQLite-specific behaviour: WAL, migrations, threads, crashes, file layout, query plans."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.registry import tracker_from_uri
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.schema import SCHEMA_VERSION, migrate, schema_version
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_database_uses_wal(tmp_path: Path) -> None:
    SqliteTrackerStore(tmp_path / "t.db").close()
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(conn) == SCHEMA_VERSION
    conn.close()


def test_opening_an_old_database_upgrades_it(tmp_path: Path) -> None:
    # Given a version-1 database written before latest_metrics and events existed
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO experiments (experiment_id, name, created_ms) VALUES (1, 'legacy', 0)"
    )
    conn.execute(
        "INSERT INTO runs (seq, run_id, experiment_id, run_name, status, start_ms, user) "
        "VALUES (1, '01HZZZZZZZZZZZZZZZZZZZZZZZ', 1, 'old-run', 'completed', 1000, 'ann')"
    )
    conn.executemany(
        "INSERT INTO metric_history (seq, key, step, value, ts_ms) VALUES (1, 'accuracy', ?, ?, 0)",
        [(0, 0.5), (2, 0.97), (1, 0.8)],
    )
    conn.close()
    # When the current store opens it
    store = SqliteTrackerStore(path)
    # Then the schema is current, latest metrics were back-filled from the history, events work
    page = store.search_runs("metrics.accuracy >= 0.95")
    assert [r.run_name for r in page.runs] == ["old-run"] and page.runs[0].metrics == {
        "accuracy": 0.97
    }
    store.log_event("promotion", {"ok": True}, run_id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    store.close()
    conn = sqlite3.connect(path)
    assert schema_version(conn) == SCHEMA_VERSION
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteTrackerStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(ValidationError, match="newer"):
        SqliteTrackerStore(path)


def test_events_cannot_be_rewritten(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    store.log_event("promotion", {"n": 1})
    conn = sqlite3.connect(tmp_path / "t.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()
    store.close()


def test_concurrent_writers_and_readers_from_threads(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(15):
                with Run("threads", f"w{worker}-{i}", tracker=store) as run:
                    run.log_parameters({"worker": worker, "i": i})
                    run.log_metrics({"accuracy": i / 15})
                store.search_runs("params.worker = '0'", max_results=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    page = store.search_runs("status = 'completed'", max_results=1000)
    assert page.total == 90
    assert len({r.run_id for r in page.runs}) == 90
    assert all(len(r.params) == 2 and len(r.metrics) == 1 for r in page.runs)
    store.close()


def test_killed_process_leaves_run_running_and_store_usable(tmp_path: Path) -> None:
    # Given a process that dies (no cleanup, no exception handling) in the middle of a run
    path = tmp_path / "t.db"
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from fraud_jlab.tracking.run import Run
        from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore
        store = SqliteTrackerStore(Path({str(path)!r}))
        with Run("crash", "victim", tracker=store) as run:
            run.log_parameters({{"max_depth": 7}})
            run.log_metric("accuracy", 0.9)
            print(run.run_id, flush=True)
            os._exit(3)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 3, proc.stderr
    run_id = proc.stdout.strip()
    # When the store is opened again
    store = SqliteTrackerStore(path)
    # Then the run is still "running" with everything committed before the crash
    run = store.get_run(run_id)
    assert (
        run.status == "running"
        and run.params == {"max_depth": "7"}
        and run.metrics == {"accuracy": 0.9}
    )
    with Run("crash", "after", tracker=store) as after:
        after.log_metric("accuracy", 0.95)
    assert store.search_runs("experiment = 'crash'").total == 2
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store.close()


def test_artifacts_live_beside_the_database(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "tracking.db")
    with Run("exp", "r", tracker=store) as run:
        run.log_artifact("plots/roc.json", b"{}")
    assert (
        tmp_path / "tracking-artifacts" / run.run_id / "plots" / "roc.json"
    ).read_bytes() == b"{}"
    store.close()


def test_run_ids_are_time_sortable_ulids(tmp_path: Path) -> None:
    # Moved from the contract tests: other backends use their own id format.
    store = SqliteTrackerStore(tmp_path / "t.db")
    run_ids = [store.create_run("exp", f"r{i}", user="alice", start_time=NOW) for i in range(5)]
    assert all(len(run_id) == 26 for run_id in run_ids)
    assert run_ids == sorted(run_ids) and len(set(run_ids)) == 5
    store.close()


def test_registry_opens_sqlite_uris_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'reg.db'}"
    store = tracker_from_uri(uri)
    assert isinstance(store, SqliteTrackerStore) and tracker_from_uri(uri) is store
    assert store.path == (tmp_path / "reg.db").resolve()


def test_metric_filter_and_order_use_the_key_value_indexes(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    for i in range(30):
        run_id = store.create_run("e", f"r{i}", user="u", start_time=NOW)
        store.log_metrics(run_id, {"accuracy": i / 30, "auc_roc": 1 - i / 30})
        store.log_params(run_id, {"max_depth": str(i % 5)})
    statements: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(statements.append)
    store.search_runs("metrics.accuracy >= 0.5", order_by=["metrics.auc_roc DESC"])
    store.search_runs("params.max_depth = '3'")
    conn.set_trace_callback(None)
    plans = " | ".join(
        row[3]
        for sql in statements
        if sql.startswith("SELECT") and "json_each" not in sql
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql)
    )
    assert "INDEX latest_metrics_kv (key=? AND value>?)" in plans
    assert "INDEX latest_metrics_kv (key=?)" in plans
    assert "INDEX params_kv (key=? AND value=?)" in plans
    store.close()
