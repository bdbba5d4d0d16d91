"""A local ``mlflow server`` process (tests, benchmarks, demos): 127.0.0.1, temp stores.

``start_mlflow_server()`` runs the ``mlflow`` console script of this Python environment
with a fresh SQLite backend store and a file artifact root in a temporary directory, on a
free port, waits for ``/health`` and returns a handle whose ``stop()`` ends the process
and removes the directory. It needs MLflow's server dependencies (the full ``mlflow``
package, or ``mlflow-skinny`` plus ``aiohttp``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class MlflowServer:
    """A running ``mlflow server``; ``url`` is its tracking URI."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Terminate the server (kill after 10 s) and delete its stores."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mlflow_server(timeout: float = 180.0, workers: int = 1) -> MlflowServer:
    """Start ``mlflow server`` on 127.0.0.1; raises RuntimeError with its log if it does not come up."""
    # MLflow's SQLite store commits slowly on disk; /dev/shm (Linux) keeps it in memory.
    shm = Path("/dev/shm")
    root = Path(
        tempfile.mkdtemp(prefix="fraud-jlab-mlflow-server-", dir=shm if shm.is_dir() else None)
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("mlflow")),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--backend-store-uri",
                f"sqlite:///{root / 'mlflow.db'}",
                "--default-artifact-root",
                (root / "artifacts").as_uri(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # No background job runner (it needs extra packages and is not used here).
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        )
    server = MlflowServer(url=url, root=root, process=process)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            message = log_path.read_text(errors="replace")[-3000:]
            server.stop()
            raise RuntimeError(f"mlflow server did not start:\n{message}")
        time.sleep(0.3)
