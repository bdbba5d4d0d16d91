"""An unreachable MLflow server fails in seconds with one clear error (not MLflow's ~4 minutes)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from fraud_jlab.errors import TrackerUnavailable
from fraud_jlab.tracking.mlflow.http import HTTP_DEFAULTS, apply_http_bounds
from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore


@pytest.fixture
def mlflow_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HTTP_DEFAULTS:
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield int(srv.getsockname()[1])
    srv.close()
    for conn in held:
        conn.close()


def test_refused_connection_is_tracker_unavailable_within_seconds(mlflow_defaults: None) -> None:
    store = MlflowTrackerStore(f"http://alice:pw123@127.0.0.1:{_closed_port()}")
    started = time.perf_counter()
    with pytest.raises(TrackerUnavailable) as err:
        store.search_runs()
    elapsed = time.perf_counter() - started
    print(f"\nunreachable MLflow server (connection refused): error after {elapsed:.1f} s")
    assert elapsed < 15
    message = str(err.value)
    assert message.startswith("The tracker at http://***@127.0.0.1:")
    assert "Connection refused" in message and "pw123" not in message
    with pytest.raises(TrackerUnavailable):
        store.get_run("0" * 32)


def test_silent_server_times_out_with_the_cause(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a shorter timeout than the default (10 s, 3 tries) keeps the test quick
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    store = MlflowTrackerStore(f"http://127.0.0.1:{silent_port}")
    started = time.perf_counter()
    with pytest.raises(TrackerUnavailable) as err:
        store.search_runs()
    assert time.perf_counter() - started < 10
    assert "timed out" in str(err.value)


def test_bounds_fill_only_what_the_user_left_unset() -> None:
    env = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "300"}
    applied = apply_http_bounds(env)
    assert env["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300"
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in applied
    assert (
        env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    )
    assert env["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "1"


def test_answered_errors_pass_through_unchanged(tmp_path: object) -> None:
    from fraud_jlab.errors import NotFoundError

    store = MlflowTrackerStore(f"sqlite:///{tmp_path}/mlflow.db")
    with pytest.raises(NotFoundError):
        store.get_run("0" * 32)
