"""Benchmark of the embedded SQLite tracker (and MLflow's SQLite store as a baseline).

Logs N runs (6 params, 5 metrics, 3 tags each) through the ``Run`` API, then
times four searches, each including the total count and the page's
params/metrics/tags:

(a) top 100 by ``metrics.auc_roc DESC``      (b) ``metrics.accuracy >= 0.95``, top 100
(c) ``metrics.accuracy >= 0.95``, top 1000   (d) ``params.max_depth = '7'``, top 100

Usage::

    PYTHONPATH=. .venv/bin/python bench/tracking_bench.py --n 10000 --n 100000
    PYTHONPATH=. .venv/bin/python bench/tracking_bench.py --n 10000 --skip-mlflow

Prints one JSON document: runs/s while logging and the median of 5 timed
repetitions (after one warm-up) per query, in milliseconds.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

QUERIES: dict[str, dict[str, Any]] = {
    "a_top100_by_auc": {
        "filter_string": "",
        "order_by": ["metrics.auc_roc DESC"],
        "max_results": 100,
    },
    "b_accuracy_ge_095_top100": {"filter_string": "metrics.accuracy >= 0.95", "max_results": 100},
    "c_accuracy_ge_095_top1000": {"filter_string": "metrics.accuracy >= 0.95", "max_results": 1000},
    "d_max_depth_eq_7_top100": {"filter_string": "params.max_depth = '7'", "max_results": 100},
}


def run_values(
    rng: random.Random, i: int
) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """The 6 params, 5 metrics and 3 tags of the i-th synthetic run."""
    params = {
        "max_depth": rng.randint(3, 10),
        "eta": round(rng.uniform(0.01, 0.3), 3),
        "num_round": rng.choice([100, 150, 200, 300]),
        "subsample": round(rng.uniform(0.5, 1.0), 2),
        "colsample_bytree": round(rng.uniform(0.5, 1.0), 2),
        "algorithm": rng.choice(["xgboost", "lightgbm", "random_forest"]),
    }
    accuracy = rng.uniform(0.85, 0.99)
    metrics = {
        "accuracy": accuracy,
        "precision": rng.uniform(0.6, 0.95),
        "recall": rng.uniform(0.6, 0.95),
        "f1_score": rng.uniform(0.6, 0.95),
        "auc_roc": rng.uniform(0.80, 0.99),
    }
    tags = {"stage": rng.choice(["dev", "staging"]), "team": "fraud", "batch": str(i // 1000)}
    return params, metrics, tags


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    """First (cold) call, then median and minimum of ``repeats`` further calls, in ms."""
    start = time.perf_counter()
    fn()
    cold = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "first_ms": round(cold, 2),
    }


def bench_fraud_jlab(n: int, workdir: Path, repeats: int, explain: bool) -> dict[str, Any]:
    store = SqliteTrackerStore(workdir / f"bench-{n}.db")
    rng = random.Random(n)
    start = time.perf_counter()
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        with Run("fraud-bench", f"run-{i}", tracker=store) as run:
            run.log_parameters(params)
            run.log_metrics(metrics)
            run.set_tags(tags)
    elapsed = time.perf_counter() - start
    result: dict[str, Any] = {
        "n_runs": n,
        "log_seconds": round(elapsed, 1),
        "runs_per_s": round(n / elapsed),
    }
    queries = {}
    for name, kwargs in QUERIES.items():
        page = store.search_runs(**kwargs)
        timing = timed(functools.partial(store.search_runs, **kwargs), repeats)
        queries[name] = {**timing, "total": page.total, "returned": len(page.runs)}
    result["queries"] = queries
    result["db_mb"] = round(store.path.stat().st_size / 1e6, 1)
    if explain:
        result["plans"] = explain_plans(store)
    store.close()
    return result


def explain_plans(store: SqliteTrackerStore) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of every SELECT a search issues (captured with a trace callback)."""
    statements: list[str] = []
    conn = store._conn()
    conn.set_trace_callback(statements.append)
    plans: dict[str, list[str]] = {}
    try:
        for name, kwargs in QUERIES.items():
            statements.clear()
            store.search_runs(**kwargs)
            plans[name] = [
                f"{sql[:160]} -> "
                + " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
                for sql in list(statements)
                if sql.lstrip().upper().startswith("SELECT") and "json_each" not in sql
            ]
    finally:
        conn.set_trace_callback(None)
    return plans


def bench_mlflow(n: int, workdir: Path, repeats: int) -> dict[str, Any]:
    """Query (a) against MLflow's own SQLite store, runs logged with its batch API."""
    try:
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        return {"error": f"mlflow is not importable: {exc}"}
    try:
        client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
        experiment_id = client.create_experiment("fraud-bench")
    except Exception as exc:  # a missing optional dependency of MLflow's SQL store
        return {"error": f"MLflow's SQLite store could not start: {type(exc).__name__}: {exc}"}
    rng = random.Random(n)
    start = time.perf_counter()
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        now = int(time.time() * 1000)
        run = client.create_run(experiment_id, run_name=f"run-{i}", tags=tags)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id)
    elapsed = time.perf_counter() - start
    timing = timed(
        lambda: client.search_runs(
            [experiment_id], order_by=["metrics.auc_roc DESC"], max_results=100
        ),
        repeats,
    )
    return {
        "n_runs": n,
        "log_seconds": round(elapsed, 1),
        "runs_per_s": round(n / elapsed, 1),
        "queries": {"a_top100_by_auc": timing},
        "note": "MLflow's search returns no total count; its time excludes counting.",
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_1_5_15": load_average(),
    }


def load_average() -> str:
    """The machine's load average (other processes compete for the same cores)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, action="append", help="runs to log (repeatable; default 10000)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repetitions per query (median)"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="skip the MLflow baseline")
    parser.add_argument("--mlflow-n", type=int, default=10_000, help="runs for the MLflow baseline")
    parser.add_argument("--explain", action="store_true", help="include EXPLAIN QUERY PLAN output")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"machine": machine(), "fraud_jlab": []}
    with tempfile.TemporaryDirectory(prefix="fraud-jlab-bench-") as tmp:
        for n in args.n or [10_000]:
            report["fraud_jlab"].append(bench_fraud_jlab(n, Path(tmp), args.repeats, args.explain))
            report["fraud_jlab"][-1]["loadavg_after"] = load_average()
            print(json.dumps(report["fraud_jlab"][-1]), flush=True, file=sys.stderr)
        if not args.skip_mlflow:
            # MLflow's SQLite store commits in rollback-journal mode with an fsync per commit
            # (~25 ms each on this disk), so its setup runs on tmpfs when there is one; the
            # query is read from the page cache either way.
            shm = Path("/dev/shm")
            with tempfile.TemporaryDirectory(
                prefix="fraud-jlab-mlflow-", dir=shm if shm.is_dir() else None
            ) as mlflow_tmp:
                report["mlflow_sqlite"] = bench_mlflow(
                    args.mlflow_n, Path(mlflow_tmp), args.repeats
                )
                report["mlflow_sqlite"]["db_dir"] = str(Path(mlflow_tmp).parent)
                report["mlflow_sqlite"]["loadavg_after"] = load_average()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
