"""Page latency on every tracker backend, and the import rate into an MLflow server.

For each backend: the first page of 100 runs sorted by ``metrics.auc_roc DESC`` (with the
total) at N runs, median of ``--repeats`` timed calls after one cold call:

* ``sqlite``: the embedded store;
* ``mlflow-server``: a real ``mlflow server`` on 127.0.0.1 (SQLite backend store). The
  import rate is ``fraud-jlab import`` of ``--import-sample`` runs from a SQLite store into
  it; the server is then filled to N runs through MLflow's own client writing its backend
  store directly (fast, and not what is measured) before the page is timed;
* ``sagemaker``: the SageMaker Experiments backend against the local emulator (moto's
  threaded server with fraud_jlab's Experiments extensions), filled the same way.

Usage::

    PYTHONPATH=. .venv/bin/python bench/backends_bench.py --n 10000
    PYTHONPATH=. .venv/bin/python bench/backends_bench.py --n 500 --backends sqlite,sagemaker

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracking_bench import run_values, timed

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore
from fraud_jlab.tracking.transfer import copy_runs

PAGE = {"filter_string": "", "order_by": ["metrics.auc_roc DESC"], "max_results": 100}


def fill_sqlite(path: Path, n: int) -> tuple[SqliteTrackerStore, float]:
    store = SqliteTrackerStore(path)
    rng = random.Random(n)
    start = time.perf_counter()
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        with Run("fraud-bench", f"run-{i}", tracker=store) as run:
            run.log_parameters(params)
            run.log_metrics(metrics)
            run.set_tags(tags)
    return store, time.perf_counter() - start


def page_latency(
    store: TrackerStore, repeats: int, requests: list[int] | None = None
) -> dict[str, Any]:
    """Cold call, then the median of ``repeats``; ``requests`` (a counter the backend's
    client increments) gives the requests one page sent."""
    before = requests[0] if requests else 0
    page = store.search_runs(**PAGE)  # type: ignore[arg-type]
    sent = requests[0] - before if requests else None
    timing = timed(functools.partial(store.search_runs, **PAGE), repeats)
    return {
        **timing,
        "total": page.total,
        "total_is_exact": getattr(page, "total_is_exact", True),
        "returned": len(page.runs),
        "requests_per_page": sent,
    }


def count_mlflow_searches(store: Any) -> list[int]:
    """A counter of MLflow ``search_runs`` requests sent by ``store``."""
    counter = [0]
    original = store._client.search_runs

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return original(*args, **kwargs)

    store._client.search_runs = counted
    return counter


def count_sagemaker_searches(store: Any) -> list[int]:
    """A counter of SageMaker ``Search`` requests sent by ``store``."""
    counter = [0]

    def count(**_: Any) -> None:
        counter[0] += 1

    store._client("sagemaker").meta.events.register("before-call.sagemaker.Search", count)
    return counter


def imported(source: TrackerStore, destination: TrackerStore, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    summary = copy_runs(source, destination, source_uri="sqlite:///bench", workers=8)
    elapsed = time.perf_counter() - start
    return {
        "copied": summary.copied,
        "failed": summary.failed,
        "seconds": round(elapsed, 1),
        "runs_per_s": round(summary.copied / elapsed, 1),
    }


def fill_mlflow_directly(db: Path, n: int) -> None:
    """Add ``n`` runs to an MLflow server's SQLite backend store with MLflow's own client."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("fraud-bench")
    assert experiment is not None
    rng = random.Random(-n)
    now = int(time.time() * 1000)
    for i in range(n):
        params, metrics, tags = run_values(rng, i)
        run = client.create_run(
            experiment.experiment_id,
            start_time=now + i,
            tags={**tags, "mlflow.user": "bench", "fraud_jlab.created_ns": str(time.time_ns())},
            run_name=f"fill-{i}",
        )
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, now + i, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run.info.run_id, "FINISHED", end_time=now + i)


def sagemaker_store() -> tuple[TrackerStore, Any]:
    import boto3
    from moto.server import ThreadedMotoServer

    from fraud_jlab.demo.sagemaker_experiments import install_sagemaker_experiments
    from fraud_jlab.tracking.sagemaker.store import SageMakerTrackerStore

    install_sagemaker_experiments()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    session = boto3.session.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    clients = {
        "sagemaker": session.client("sagemaker", endpoint_url=url),
        "metrics": session.client("sagemaker-metrics", endpoint_url=url),
        "s3": session.client("s3", endpoint_url=url),
    }
    clients["s3"].create_bucket(Bucket="bench")
    return SageMakerTrackerStore(**clients, artifact_bucket="bench"), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,mlflow-server,sagemaker")
    parser.add_argument("--import-sample", type=int, default=300)
    args = parser.parse_args()
    backends = args.backends.split(",")
    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_1min": round(os.getloadavg()[0], 1),
        },
        "n_runs": args.n,
    }
    with tempfile.TemporaryDirectory(prefix="fj-backends-bench-") as tmp:
        source, seconds = fill_sqlite(Path(tmp) / "source.db", args.n)
        result["sqlite_log_runs_per_s"] = round(args.n / seconds)
        print(json.dumps(result), file=sys.stderr, flush=True)
        if "sqlite" in backends:
            result["sqlite"] = {"page": page_latency(source, args.repeats)}
        if "mlflow-server" in backends:
            from fraud_jlab.demo.mlflow_server import start_mlflow_server
            from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore

            server = start_mlflow_server(workers=2)
            # MLflow prints a "View run ..." line per finished run: keep stdout for the JSON.
            try:
                store = MlflowTrackerStore(server.url)
                sample, _ = fill_sqlite(Path(tmp) / "sample.db", args.import_sample)
                with contextlib.redirect_stdout(sys.stderr):
                    result["mlflow-server"] = {
                        "import": imported(sample, store, args.import_sample)
                    }
                    fill_mlflow_directly(server.root / "mlflow.db", args.n - args.import_sample)
                result["mlflow-server"]["page"] = page_latency(
                    store, args.repeats, count_mlflow_searches(store)
                )
                print(json.dumps(result["mlflow-server"]), file=sys.stderr, flush=True)
            finally:
                server.stop()
        if "sagemaker" in backends:
            store, moto = sagemaker_store()
            try:
                result["sagemaker"] = {"import": imported(source, store, args.n)}
                result["sagemaker"]["page"] = page_latency(
                    store, args.repeats, count_sagemaker_searches(store)
                )
            finally:
                moto.stop()
        source.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
