"""1000-row pages and the top 100 at 100,000 runs: the previous search path against the current one.

Fills a fresh SQLite store with N runs (6 params, 5 metrics, 3 tags each, the values of
``tracking_bench.run_values``) through bulk logging (``SqliteTrackerStore.log_runs``), logs a
sample through the ``Run`` API for its rate, then times in the same process, interleaved:

* ``old``: the search module of ``--baseline-rev`` (loaded from git into this process) on the
  same connection, giving ``RunsPage`` models; ``old+json``: that plus the
  ``json.dumps(page.model_dump(mode="json"))`` the server used to write;
* ``new``: ``store.search_runs`` (models) and ``new json``: ``store.search_runs_json``
  (the JSON the server now writes, rendered by SQLite).

Each query checks that old and new return the same runs in the same order and the same JSON.

Usage::

    PYTHONPATH=. .venv/bin/python bench/page_bench.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tracking_bench import machine, run_values

from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.bulk import RunToLog
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

#: The commit before the page-query work: its search module is the baseline.
BASELINE_REV = "38cbdef"
QUERIES: dict[str, tuple[str, list[str], int]] = {
    "acc_ge_095_1000_by_auc": ("metrics.accuracy >= 0.95", ["metrics.auc_roc DESC"], 1000),
    "max_depth_7_1000_by_auc": ("params.max_depth = '7'", ["metrics.auc_roc DESC"], 1000),
    "top100_by_auc": ("", ["metrics.auc_roc DESC"], 100),
    "acc_ge_095_100_by_auc": ("metrics.accuracy >= 0.95", ["metrics.auc_roc DESC"], 100),
}


def bench_runs(n: int, seed: int = 0) -> list[RunToLog]:
    """``n`` finished runs with the benchmark's params, metrics and tags."""
    rng = random.Random(seed)
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    runs = []
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        start = t0 + timedelta(milliseconds=37 * i)
        runs.append(
            RunToLog(
                "fraud-bench",
                f"run-{i}",
                user="bench",
                start_time=start,
                end_time=start + timedelta(milliseconds=20),
                params=params,
                metrics=metrics,
                tags=tags,
            )
        )
    return runs


def fill(store: SqliteTrackerStore, n: int, batch: int = 50_000) -> float:
    """Bulk-log ``n`` runs; returns runs per second."""
    started = time.perf_counter()
    for first in range(0, n, batch):
        store.log_runs(bench_runs(min(batch, n - first), seed=first))
    return n / (time.perf_counter() - started)


def run_api_rate(workdir: Path, n: int) -> float:
    """Runs per second logged through ``Run`` (5 transactions each) into a fresh store."""
    store = SqliteTrackerStore(workdir / "run-api.db")
    rng = random.Random(1)
    started = time.perf_counter()
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        with Run("fraud-bench", f"run-{i}", tracker=store) as run:
            run.log_parameters(params)
            run.log_metrics(metrics)
            run.set_tags(tags)
    rate = n / (time.perf_counter() - started)
    store.close()
    return rate


def baseline_search(rev: str) -> types.ModuleType:
    """The search module of ``rev``, loaded from git as a module of its own."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:fraud_jlab/tracking/sqlite/search.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("baseline_sqlite_search")
    exec(compile(source, f"{rev}:search.py", "exec"), module.__dict__)
    return module


def timings(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """Median / p90 / min ms of each function, calls interleaved so load hits all alike."""
    for fn in fns.values():
        fn()  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, values in samples.items():
        values.sort()
        out[name] = {
            "median_ms": round(statistics.median(values), 2),
            "p90_ms": round(values[min(len(values) - 1, int(0.9 * len(values)))], 2),
            "min_ms": round(values[0], 2),
        }
    return out


def compare(store: SqliteTrackerStore, old: types.ModuleType, repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, (flt, order, size) in QUERIES.items():

        def old_models(flt: str = flt, order: list[str] = order, size: int = size) -> Any:
            with store._read() as conn:
                return old.search(conn, flt, order, size, None)

        def old_json(flt: str = flt, order: list[str] = order, size: int = size) -> str:
            return json.dumps(old_models(flt, order, size).model_dump(mode="json"))

        def new_models(flt: str = flt, order: list[str] = order, size: int = size) -> Any:
            return store.search_runs(flt, order, size)

        def new_json(flt: str = flt, order: list[str] = order, size: int = size) -> str:
            return store.search_runs_json(flt, order, size)

        before, after = old_models(), new_models()
        same_runs = [r.run_id for r in before.runs] == [r.run_id for r in after.runs]
        same_json = json.loads(old_json()) == json.loads(new_json())
        results[name] = {
            "filter": flt,
            "order_by": order,
            "max_results": size,
            "total": after.total,
            "same_runs_as_old": same_runs,
            "same_json_as_old": same_json,
            **timings(
                {"old": old_models, "new": new_models, "old+json": old_json, "new json": new_json},
                repeats,
            ),
        }
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="runs in the store")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per path")
    parser.add_argument("--run-sample", type=int, default=3000, help="runs logged through Run")
    parser.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the old path")
    args = parser.parse_args(argv)
    old = baseline_search(args.baseline_rev)
    report: dict[str, Any] = {
        "machine": machine(),
        "n_runs": args.n,
        "baseline_rev": args.baseline_rev,
    }
    with tempfile.TemporaryDirectory(prefix="fraud-jlab-page-bench-") as tmp:
        store = SqliteTrackerStore(Path(tmp) / "runs.db")
        report["bulk_log_runs_per_s"] = round(fill(store, args.n))
        report["run_api_runs_per_s"] = round(run_api_rate(Path(tmp), args.run_sample))
        report["queries"] = compare(store, old, args.repeats)
        report["loadavg_after"] = machine()["loadavg_1_5_15"]
        store.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
