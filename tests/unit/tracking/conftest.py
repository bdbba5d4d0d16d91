"""The ``tracker`` fixture: every tracker backend the contract tests run against.

A new backend adds a factory to ``BACKENDS`` (name -> callable taking a temp
dir); every test in ``test_contract.py`` then runs against it too:

* ``sqlite``: the embedded store;
* ``mlflow``: MLflow's own SQLite store in-process;
* ``mlflow-server``: a real ``mlflow server`` process on 127.0.0.1 (a free port, a temp
  SQLite backend store and artifact root), started once per session;
* ``sagemaker``: SageMaker Experiments on moto's threaded server with the emulator's
  Experiments extensions (``fraud_jlab.demo.sagemaker_experiments``), reset per test.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

_mlflow_template: list[Path] = []
_servers: dict[str, Any] = {}


def _mlflow(tmp: Path) -> TrackerStore:
    """An MLflow store on a fresh SQLite database in /dev/shm (MLflow commits slowly on disk).

    The schema migration (~1.5 s) runs once; each test copies the migrated file.
    """
    from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore

    if not _mlflow_template:
        shm = Path("/dev/shm")
        root = Path(
            tempfile.mkdtemp(prefix="fraud-jlab-mlflow-", dir=shm if shm.is_dir() else None)
        )
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        MlflowTrackerStore(f"sqlite:///{root / 'template.db'}")
        _mlflow_template.append(root)
    work = Path(tempfile.mkdtemp(dir=_mlflow_template[0]))
    shutil.copyfile(_mlflow_template[0] / "template.db", work / "mlflow.db")
    return MlflowTrackerStore(f"sqlite:///{work / 'mlflow.db'}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mlflow_server_url() -> str:
    """URL of the session's ``mlflow server`` (started on first use, stopped at exit)."""
    from fraud_jlab.demo.mlflow_server import start_mlflow_server

    if "mlflow" not in _servers:
        try:
            server = start_mlflow_server()
        except RuntimeError as exc:  # reported by every test that needs it, started once
            _servers["mlflow"] = exc
            raise
        atexit.register(server.stop)
        _servers["mlflow"] = server
    if isinstance(_servers["mlflow"], RuntimeError):
        raise _servers["mlflow"]
    return str(_servers["mlflow"].url)


def _clear_mlflow_server(url: str) -> None:
    """Free every experiment name: rename, then delete (MLflow keeps deleted names reserved)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    for exp in client.search_experiments():
        if exp.name != "Default":
            client.rename_experiment(exp.experiment_id, f"deleted-{uuid.uuid4().hex}")
            client.delete_experiment(exp.experiment_id)


def _mlflow_server(tmp: Path) -> TrackerStore:
    from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore

    url = mlflow_server_url()
    _clear_mlflow_server(url)
    return MlflowTrackerStore(url)


def moto_server_url() -> str:
    """URL of the session's moto server with the SageMaker Experiments extensions."""
    if "moto" not in _servers:
        from moto.server import ThreadedMotoServer

        from fraud_jlab.demo.sagemaker_experiments import install_sagemaker_experiments

        install_sagemaker_experiments()
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        _servers["moto"] = (f"http://127.0.0.1:{port}", server)
    return str(_servers["moto"][0])


def sagemaker_clients(url: str) -> dict[str, Any]:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return {
        name: session.client(service, endpoint_url=url)  # type: ignore[call-overload]
        for name, service in (
            ("sagemaker", "sagemaker"),
            ("metrics", "sagemaker-metrics"),
            ("s3", "s3"),
        )
    }


def _sagemaker(tmp: Path) -> TrackerStore:
    from fraud_jlab.tracking.sagemaker.store import SageMakerTrackerStore

    url = moto_server_url()
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    clients = sagemaker_clients(url)
    clients["s3"].create_bucket(Bucket="fraud-jlab-runs")
    return SageMakerTrackerStore(**clients, artifact_bucket="fraud-jlab-runs")


BACKENDS: dict[str, Callable[[Path], TrackerStore]] = {
    "sqlite": lambda tmp: SqliteTrackerStore(tmp / "tracking.db"),
    "mlflow": _mlflow,
    "mlflow-server": _mlflow_server,
    "sagemaker": _sagemaker,
}


@pytest.fixture(params=sorted(BACKENDS))
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackerStore]:
    store = BACKENDS[request.param](tmp_path)
    yield store
    store.close()
