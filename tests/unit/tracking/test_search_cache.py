"""The search response cache: served while nothing is written, never after a write by anyone."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

from fraud_jlab.tracking.search_cache import SearchCache
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
QUERY = SearchCache.key("metrics.auc_roc >= 0", ["metrics.auc_roc DESC"], 100, None)


def seeded(path: Path, n: int = 5) -> SqliteTrackerStore:
    store = SqliteTrackerStore(path)
    for i in range(n):
        run_id = store.create_run("e", f"r{i}", user="u", start_time=T0)
        store.log_metrics(run_id, {"auc_roc": i / 10})
    return store


def total(text: str) -> int:
    return int(json.loads(text)["total"])


def test_a_repeated_query_is_served_from_memory_until_this_store_writes(tmp_path: Path) -> None:
    store = seeded(tmp_path / "t.db")
    cache = SearchCache(store)
    assert cache.lookup(QUERY) is None
    first = cache.compute(QUERY)
    assert cache.lookup(QUERY) == first and cache.hits == 1
    # a write through the same store (same thread, same connection)
    store.log_metrics(store.create_run("e", "new", user="u", start_time=T0), {"auc_roc": 0.9})
    assert cache.lookup(QUERY) is None
    assert total(cache.get(QUERY)) == 6
    store.close()


def test_a_write_by_a_second_connection_invalidates(tmp_path: Path) -> None:
    # Given a cached response and a second store (its own connections) on the same file
    store = seeded(tmp_path / "t.db")
    cache = SearchCache(store)
    cache.compute(QUERY)
    other = SqliteTrackerStore(tmp_path / "t.db")

    # When the other store writes from another thread
    def write() -> None:
        other.log_metrics(other.create_run("e", "x", user="u", start_time=T0), {"auc_roc": 0.5})

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()

    # Then the cached response is not served and the new one counts the run
    assert cache.lookup(QUERY) is None
    assert total(cache.get(QUERY)) == 6
    other.close()
    store.close()


def test_a_write_by_another_process_invalidates(tmp_path: Path) -> None:
    store = seeded(tmp_path / "t.db")
    cache = SearchCache(store)
    cache.compute(QUERY)
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(\"UPDATE latest_metrics SET value = 0.99 WHERE key = 'auc_roc'\"); c.commit()"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "t.db")], check=True)
    assert cache.lookup(QUERY) is None
    runs = json.loads(cache.get(QUERY))["runs"]
    assert {r["run_name"] for r in runs} == {f"r{i}" for i in range(5)}
    store.close()


def test_reopening_the_store_never_serves_an_old_response(tmp_path: Path) -> None:
    # data_version counts afresh on a new connection: the epoch keeps versions apart
    store = seeded(tmp_path / "t.db")
    cache = SearchCache(store)
    before = store.data_version()
    cache.compute(QUERY)
    store.close()
    other = SqliteTrackerStore(tmp_path / "t.db")
    other.log_metrics(other.create_run("e", "x", user="u", start_time=T0), {"auc_roc": 0.5})
    other.close()
    assert store.data_version() != before
    assert cache.lookup(QUERY) is None
    store.close()


def test_entries_are_bounded(tmp_path: Path) -> None:
    store = seeded(tmp_path / "t.db")
    cache = SearchCache(store, max_entries=3)
    keys = [SearchCache.key("", [], n, None) for n in range(1, 6)]
    for key in keys:
        cache.compute(key)
    assert [cache.lookup(k) is not None for k in keys] == [False, False, True, True, True]
    small = SearchCache(store, max_chars=10)
    small.compute(keys[0])  # larger than the whole budget: answered, not kept
    assert small.lookup(keys[0]) is None
    store.close()


def test_a_backend_without_a_version_is_never_cached(tmp_path: Path) -> None:
    store = seeded(tmp_path / "t.db")
    calls: list[int] = []

    class NoVersion(SqliteTrackerStore):
        def data_version(self) -> int | None:  # type: ignore[override]
            return None

        def search_runs_json(self, *args: object) -> str:  # type: ignore[override]
            calls.append(1)
            return super().search_runs_json(*args)  # type: ignore[arg-type]

    plain = NoVersion(tmp_path / "t.db")
    cache = SearchCache(plain)
    cache.get(QUERY)
    cache.get(QUERY)
    assert len(calls) == 2 and cache.hits == 0
    plain.close()
    store.close()
