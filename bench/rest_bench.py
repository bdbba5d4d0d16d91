"""REST end-to-end benchmark: ``GET runs`` on a real Jupyter server with N tracked runs.

Fills a fresh SQLite store with N runs (bulk logging, ``--seed run`` for the ``Run`` API),
starts ``python -m jupyter_server`` with fraud_jlab on it (token auth), then C concurrent
clients each send R requests of ``GET runs`` (100 rows, ``metrics.accuracy >= 0.95``, ordered
by ``metrics.auc_roc DESC``) and the latency percentiles are printed as one JSON document.

Two request mixes: ``same`` (every request identical: after the first, the response cache
answers) and ``distinct`` (each request's threshold differs in the 9th decimal, so every
request misses the cache and is searched). Each scenario is its own server on the same file,
one after the other:

* ``current``: this checkout (gc.freeze after load);
* ``current-no-freeze``: the same with ``FRAUD_JLAB_GC_FREEZE=0`` (``--no-freeze``);
* ``baseline``: the fraud_jlab of ``--baseline-rev`` (``git archive``, put first on the
  server's ``PYTHONPATH``) on the same store (``--baseline``).

Usage::

    PYTHONPATH=. .venv/bin/python bench/rest_bench.py --n 100000 --clients 20 --requests 25 --baseline --no-freeze
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
from page_bench import BASELINE_REV, fill
from tracking_bench import machine, run_values

from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

ROOT = Path(__file__).resolve().parents[1]


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


def baseline_tree(rev: str, workdir: Path) -> Path:
    """A directory holding the ``fraud_jlab`` package of ``rev`` (for the server's PYTHONPATH)."""
    target = workdir / f"baseline-{rev}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev, "fraud_jlab"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def start_server(
    db: Path, workdir: Path, extra_env: dict[str, str] | None = None, code: Path = ROOT
) -> tuple[subprocess.Popen[bytes], str, str]:
    """A server importing fraud_jlab from ``code`` (``python -m`` puts its cwd first on the path)."""
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
        **(extra_env or {}),
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
    process = subprocess.Popen(command, env=env, cwd=code, stdout=log, stderr=subprocess.STDOUT)
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


async def load(
    api: str, token: str, clients: int, requests: int, mix: str, http_client: str = "tornado"
) -> list[float]:
    """Latencies (s) of ``clients`` x ``requests`` ``GET runs``, after one warm-up client.

    ``http_client`` is the load generator: tornado's ``AsyncHTTPClient`` or aiohttp's
    session (C-accelerated parsing: less of the shared 2 cores goes to the client)."""
    headers = {"Authorization": f"token {token}"}
    counter = iter(range(10**9))

    def next_url() -> str:
        # "distinct": a threshold no other request uses (same matches), so no cache can answer
        threshold = "0.95" if mix == "same" else f"0.95{next(counter):09d}"[:13]
        query = {
            "filter": f"metrics.accuracy >= {threshold}",
            "order_by": "metrics.auc_roc DESC",
            "max_results": "100",
        }
        return f"{api}/runs?{urllib.parse.urlencode(query)}"

    latencies: list[float] = []

    if http_client == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients))

        async def fetch(url: str) -> tuple[int, bytes]:
            async with session.get(url, headers=headers) as response:
                return response.status, await response.read()

    else:
        from tornado.httpclient import AsyncHTTPClient

        http = AsyncHTTPClient(max_clients=clients)

        async def fetch(url: str) -> tuple[int, bytes]:
            response = await http.fetch(url, headers=headers, raise_error=False)
            return response.code, response.body

    async def client() -> None:
        for _ in range(requests):
            url = next_url()
            started = time.perf_counter()
            code, body = await fetch(url)
            latencies.append(time.perf_counter() - started)
            assert code == 200, body[:300]

    try:
        await client()  # warm-up: the first page compiles the query and fills SQLite's cache
        latencies.clear()
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        if http_client == "aiohttp":
            await session.close()
    return latencies


def served_from(env: dict[str, str], code: Path) -> str:
    """The fraud_jlab file a server with ``env`` and cwd ``code`` imports (checked, not assumed)."""
    probe = "import fraud_jlab; print(fraud_jlab.__file__)"
    return subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env},
        cwd=code,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def percentiles(latencies: list[float]) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "requests": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p99_ms": round(values[max(0, int(0.99 * len(values)) - 1)] * 1000, 1),
        "max_ms": round(values[-1] * 1000, 1),
    }


def scenario(
    db: Path,
    workdir: Path,
    env: dict[str, str],
    clients: int,
    requests: int,
    code: Path,
    http_clients: tuple[str, ...] = ("tornado",),
) -> dict[str, Any]:
    process, api, token = start_server(db, workdir, env, code)
    try:
        result: dict[str, Any] = {}
        for http_client in http_clients:
            suffix = "" if http_client == "tornado" else f" ({http_client} client)"
            for mix in ("same", "distinct"):
                latencies = asyncio.run(load(api, token, clients, requests, mix, http_client))
                result[mix + suffix] = percentiles(latencies)
        return result
    finally:
        process.terminate()
        process.wait(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="runs to track")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--seed", choices=("bulk", "run"), default="bulk", help="how to fill")
    parser.add_argument("--baseline", action="store_true", help="also time --baseline-rev")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--no-freeze", action="store_true", help="also time without gc.freeze")
    parser.add_argument(
        "--aiohttp",
        action="store_true",
        help="also load each server with aiohttp's client (a lighter load generator)",
    )
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": machine(), "n_runs": args.n, "clients": args.clients}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = workdir / "runs.db"
        if args.seed == "run":
            result["log_runs_per_s"] = round(seed(db, args.n))
        else:
            store = SqliteTrackerStore(db)
            result["bulk_runs_per_s"] = round(fill(store, args.n))
            store.close()
        here = {"PYTHONPATH": str(ROOT)}
        scenarios: dict[str, tuple[dict[str, str], Path]] = {"current": (here, ROOT)}
        if args.no_freeze:
            scenarios["current-no-freeze"] = ({**here, "FRAUD_JLAB_GC_FREEZE": "0"}, ROOT)
        if args.baseline:
            old = baseline_tree(args.baseline_rev, workdir)
            scenarios["baseline"] = ({"PYTHONPATH": str(old)}, old)
        for name, (env, code) in scenarios.items():
            http_clients = ("tornado", "aiohttp") if args.aiohttp else ("tornado",)
            result[name] = scenario(
                db, workdir, env, args.clients, args.requests, code, http_clients
            )
            result[name]["fraud_jlab_from"] = served_from(env, code)
            print(json.dumps({name: result[name]}), file=sys.stderr, flush=True)
        result["loadavg_after"] = machine()["loadavg_1_5_15"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
