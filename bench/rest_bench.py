"""REST end-to-end benchmark: ``GET runs`` on a real Jupyter server with N tracked runs.

Logs N runs through the ``Run`` API into a fresh SQLite store (reporting runs/s), starts
``python -m jupyter_server`` with fraud_jlab on it (token auth), then C concurrent clients
each send R requests of ``GET runs`` (100 rows, ``metrics.accuracy >= 0.95``, ordered by
``metrics.auc_roc DESC``, a different page offset per client) and the latency percentiles
are printed as one JSON document.

Usage::

    PYTHONPATH=. .venv/bin/python bench/rest_bench.py --n 100000 --clients 20 --requests 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tracking_bench import machine, run_values

from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


def seed(db: Path, n: int) -> float:
    """Log ``n`` runs through ``Run``; returns runs per second."""
    store = SqliteTrackerStore(db)
    rng = random.Random(n)
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


def start_server(db: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "FRAUD_JLAB_TRACKING_URI": f"sqlite:///{db}",
        "JUPYTER_CONFIG_DIR": str(workdir / "config"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing AWS is called by GET runs
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.root_dir={workdir}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        '--ServerApp.jpserver_extensions={"fraud_jlab": True}',
        "--ServerApp.log_level=WARN",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/fraud-jlab/api"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"{api}/info", headers={"Authorization": f"token {token}"}
            )
            with urllib.request.urlopen(request, timeout=2):
                return process, api, token
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("jupyter_server did not start")


async def load(api: str, token: str, clients: int, requests: int) -> list[float]:
    from tornado.httpclient import AsyncHTTPClient

    http = AsyncHTTPClient(max_clients=clients)
    headers = {"Authorization": f"token {token}"}
    query = {
        "filter": "metrics.accuracy >= 0.95",
        "order_by": "metrics.auc_roc DESC",
        "max_results": "100",
    }
    url = f"{api}/runs?{urllib.parse.urlencode(query)}"
    latencies: list[float] = []

    async def client() -> None:
        for _ in range(requests):
            started = time.perf_counter()
            response = await http.fetch(url, headers=headers, raise_error=False)
            latencies.append(time.perf_counter() - started)
            assert response.code == 200, response.body[:300]

    await client()  # warm-up: the first page compiles the query and fills SQLite's cache
    latencies.clear()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="runs to track")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = workdir / "runs.db"
        rate = seed(db, args.n)
        process, api, token = start_server(db, workdir)
        try:
            latencies = sorted(asyncio.run(load(api, token, args.clients, args.requests)))
        finally:
            process.terminate()
            process.wait(15)
    result: dict[str, Any] = {
        "machine": machine(),
        "n_runs": args.n,
        "log_runs_per_s": round(rate),
        "clients": args.clients,
        "requests": len(latencies),
        "get_runs_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "get_runs_p99_ms": round(latencies[int(0.99 * len(latencies)) - 1] * 1000, 1),
        "get_runs_max_ms": round(latencies[-1] * 1000, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
