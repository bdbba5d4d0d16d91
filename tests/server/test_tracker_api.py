"""``GET tracker``: the sidebar's tracker line and the cause when the tracker does not answer."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from fraud_jlab.server.tracker_handlers import TrackerStatus, tracker_status
from fraud_jlab.tracking.mlflow.http import HTTP_DEFAULTS


async def test_tracker_route_names_backend_and_uri(fj_api: Any, fj_tracking_uri: str) -> None:
    status, body = await fj_api("GET", "tracker")
    assert status == 200
    assert body == {
        "backend": "SqliteTrackerStore",
        "uri": fj_tracking_uri,
        "reachable": True,
        "error": None,
    }
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200 and "get" in document["paths"]["/tracker"]
    assert document["paths"]["/tracker"]["get"]["operationId"] == "getTracker"


async def test_tracker_route_needs_authentication(fj_api: Any) -> None:
    status, _ = await fj_api("GET", "tracker", token=False)
    assert status in (302, 403)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unreachable_uri(monkeypatch: pytest.MonkeyPatch) -> str:
    # fraud_jlab's own bounds apply (tracking/mlflow/http.py), not the test's
    for name in HTTP_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    return f"mlflow+http://user:s3cret@127.0.0.1:{_closed_port()}"


class TestUnreachable:
    @pytest.fixture
    def fj_tracking_uri(self, unreachable_uri: str) -> str:
        return unreachable_uri

    async def test_unreachable_tracker_reports_uri_and_cause(self, fj_api: Any) -> None:
        status, body = await fj_api("GET", "tracker")
        assert status == 200
        assert body["backend"] == "MlflowTrackerStore" and body["reachable"] is False
        assert body["uri"].startswith("mlflow+http://***@127.0.0.1:")
        assert "s3cret" not in repr(body)
        assert "Connection" in body["error"] or "connect" in body["error"].lower()

    async def test_runs_of_an_unreachable_tracker_are_a_fast_503_naming_uri_and_cause(
        self, fj_api: Any
    ) -> None:
        started = time.perf_counter()
        status, body = await fj_api("GET", "runs")
        elapsed = time.perf_counter() - started
        print(f"\nGET runs on an unreachable MLflow server: {status} after {elapsed:.1f} s")
        assert status == 503, body
        assert body["message"].startswith("The tracker at mlflow+http://***@127.0.0.1:") or (
            body["message"].startswith("The tracker at http://***@127.0.0.1:")
        ), body["message"]
        assert "did not answer" in body["message"] and "Connection refused" in body["message"]
        assert "s3cret" not in repr(body)
        # MLflow's own defaults (120 s timeout, 7 retries, backoff 2) took about 246 s here
        assert elapsed < 20


def test_status_of_a_tracker_that_denies_access() -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def check(self) -> None:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
                "ListExperiments",
            )

    status = tracker_status(Denied(), "sagemaker:?region=eu-west-1")
    assert status == TrackerStatus(
        backend="Denied",
        uri="sagemaker:?region=eu-west-1",
        reachable=False,
        error=status.error,
    )
    assert status.error is not None and "AccessDeniedException" in status.error
    assert "not authorized" in status.error
