"""The ``tracker`` fixture: every tracker backend the contract tests run against.

A new backend adds a factory to ``BACKENDS`` (name -> callable taking a temp
dir); every test in ``test_contract.py`` then runs against it too.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

_mlflow_template: list[Path] = []


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


BACKENDS: dict[str, Callable[[Path], TrackerStore]] = {
    "sqlite": lambda tmp: SqliteTrackerStore(tmp / "tracking.db"),
    "mlflow": _mlflow,
}


@pytest.fixture(params=sorted(BACKENDS))
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackerStore]:
    store = BACKENDS[request.param](tmp_path)
    yield store
    store.close()
