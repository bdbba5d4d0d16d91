"""The server makes its boto3 clients once, not per request."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fraud_jlab import aws
from fraud_jlab.config import FraudJlab


async def test_promotion_routes_reuse_the_servers_boto3_clients(
    fj_api: Any, production: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real = aws.client

    def counting(service: str, settings: FraudJlab | None = None) -> Any:
        # the start-up check for unfinished promotions keeps its own clients (its own thread)
        if threading.current_thread().name != "fraud-jlab-unfinished-check":
            made.append(service)
        return real(service, settings)

    monkeypatch.setattr(aws, "client", counting)
    for path in (("production",), ("promotions",), ("production",), ("promotions",)):
        status, _ = await fj_api("GET", *path)
        assert status == 200
    # one client per service for the whole server (it was 3 per request: ~0.5 s each time)
    assert sorted(made) == ["s3", "ssm", "stepfunctions"]
