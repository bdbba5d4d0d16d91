"""A real Jupyter server in a subprocess, with fraud_jlab, on a moto server holding production.

Used by tests that must talk HTTP to a separate process (fuzzing): ``live_production`` starts
the AWS emulator (a ``ThreadedMotoServer`` on 127.0.0.1) with the production resources
provisioned, seeds a tracker with a few runs and one real promotion, then starts
``python -m jupyter_server`` with token authentication against both.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from evaluated_runs import GATE_METRICS, log_evaluation

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.emulator import default_production_config, provision_resources, start_emulator
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PROMOTABLE_PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
    "random_state": "0",
}
PROMOTABLE_METRICS = {"accuracy": 0.97, "average_precision": 0.81, "auc_roc": 0.98}


class AwsCallRecorder:
    """WSGI middleware in front of the moto server: counts the mutating AWS calls it serves.

    S3 writes are PUT/POST/DELETE requests; JSON-protocol services (SSM, Step Functions,
    SageMaker) name the operation in ``X-Amz-Target`` and write unless it is a
    Get/List/Describe/Search call.
    """

    READ_PREFIXES = ("Get", "List", "Describe", "Search")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0
        self.mutations: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if target:
            operation = target.rsplit(".", 1)[-1]
            mutating = not operation.startswith(self.READ_PREFIXES)
            what = target
        else:
            mutating = method in ("PUT", "POST", "DELETE")
            what = f"{method} {environ.get('PATH_INFO', '')}"
        with self._lock:
            self.calls += 1
            if mutating:
                self.mutations.append(what)
        return self.app(environ, start_response)


@dataclass
class LiveServer:
    """A running Jupyter server: ``api`` is ``http://127.0.0.1:<port>/fraud-jlab/api``."""

    api: str
    token: str
    settings: FraudJlab
    run_ids: list[str]
    promotion_id: str
    process: subprocess.Popen[bytes]
    log: Path
    aws_calls: AwsCallRecorder
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def production_state(self) -> dict[str, Any]:
        """Every SSM parameter (name -> value, version), every config-bucket object (key -> ETag)
        and the production endpoint (config, variant weights) with every endpoint config and model.

        The config bucket holds the production config, its archive and backups, the lock and
        the ledger, so any write a request makes to production changes this snapshot.
        """
        if not self._clients:
            self._clients.update(ssm=boto3.client("ssm"), s3=boto3.client("s3"))
        ssm, s3 = self._clients["ssm"], self._clients["s3"]
        params: dict[str, Any] = {}
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True):
            params.update({p["Name"]: (p["Value"], p["Version"]) for p in page["Parameters"]})
        objects: dict[str, str] = {}
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=self.settings.config_bucket
        ):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                objects[f"{item['Key']}@{item['VersionId']}"] = item.get("ETag", "delete-marker")
        if "sagemaker" not in self._clients:
            self._clients["sagemaker"] = boto3.client("sagemaker")
        sagemaker = self._clients["sagemaker"]
        # A/B test changes write the production endpoint: its config and variant weights, and
        # the models / endpoint configurations a start creates.
        live = sagemaker.describe_endpoint(EndpointName=self.settings.production_endpoint)
        endpoint = {
            "config": live["EndpointConfigName"],
            "weights": {
                v["VariantName"]: v.get("CurrentWeight") for v in live["ProductionVariants"]
            },
            "configs": sorted(
                c["EndpointConfigName"]
                for c in sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
            ),
            "models": sorted(
                m["ModelName"] for m in sagemaker.list_models(MaxResults=100)["Models"]
            ),
        }
        return {"ssm": params, "s3": objects, "sagemaker": endpoint}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(tracker: SqliteTrackerStore, settings: FraudJlab) -> tuple[list[str], str]:
    now = datetime.now(timezone.utc)
    ids = []
    for i in range(5):
        run_id = tracker.create_run(
            "fraud-detection-optimization", f"xgb-{i}", user="ds", start_time=now
        )
        tracker.log_params(run_id, {**PROMOTABLE_PARAMS, "max_depth": str(4 + i)})
        tracker.log_metrics(run_id, {k: v - 0.001 * (4 - i) for k, v in PROMOTABLE_METRICS.items()})
        tracker.log_metrics(run_id, GATE_METRICS)
        log_evaluation(tracker, run_id)
        tracker.set_tags(run_id, {"stage": "candidate"})
        tracker.end_run(run_id, "completed", end_time=now)
        ids.append(run_id)
    record = ProductionIntegrator(settings, tracker=tracker).promote_run(
        # forced: the provisioned config names a run ("initial") that is not in this tracker
        ids[-1],
        approver="seed",
        reason="baseline for the live server",
        force=True,
    )
    return ids, record.promotion_id


@contextmanager
def live_production(tmp_path: Path, monkeypatch: Any) -> Iterator[LiveServer]:
    """Emulator + seeded tracker + ``jupyter_server`` subprocess; everything stopped on exit."""
    for name in list(os.environ):
        if name.startswith("FRAUD_JLAB_") or name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    with start_emulator() as emulator:
        wsgi = emulator._server._server  # werkzeug server inside ThreadedMotoServer
        recorder = AwsCallRecorder(wsgi.app)
        wsgi.app = recorder
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
        settings = FraudJlab()
        provision_resources(settings, production_config=default_production_config())
        db = tmp_path / "runs.db"
        tracker = SqliteTrackerStore(db)
        try:
            run_ids, promotion_id = _seed(tracker, settings)
        finally:
            tracker.close()
        token = secrets.token_hex(16)
        port = _free_port()
        home = tmp_path / "jupyter"
        home.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            "FRAUD_JLAB_TRACKING_URI": f"sqlite:///{db}",
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        }
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.root_dir={tmp_path}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={token}",
            "--ServerApp.allow_unauthenticated_access=False",
            '--ServerApp.jpserver_extensions={"fraud_jlab": True}',
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--ServerApp.allow_root=True")
        log = tmp_path / "jupyter_server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server = LiveServer(
            api=f"http://127.0.0.1:{port}/fraud-jlab/api",
            token=token,
            settings=settings,
            run_ids=run_ids,
            promotion_id=promotion_id,
            process=process,
            log=log,
            aws_calls=recorder,
        )
        try:
            _wait_ready(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_ready(server: LiveServer, timeout: float = 60) -> None:
    request = urllib.request.Request(f"{server.api}/info", headers=server.auth)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter_server exited:\n{server.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200 and json.loads(response.read())["version"]:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"jupyter_server not ready in {timeout} s:\n{server.log.read_text()[-4000:]}"
    )
