"""Separate worker-thread pools: slow AWS calls never starve tracker reads."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient

from fraud_jlab import aws
from fraud_jlab.config import FraudJlab
from fraud_jlab.server.base import FraudJlabContext
from fraud_jlab.tracking.contract import TrackerStore

SLOW_AWS_SECONDS = 1.0
IN_FLIGHT = 45  # more than anyio's 40 default threads


@pytest.fixture
def slow_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SSM GetParameters call made by a client the server creates sleeps one second."""
    real_client = aws.client

    def sleep(**_: Any) -> None:
        time.sleep(SLOW_AWS_SECONDS)

    def slow_client(service: str, settings: FraudJlab | None = None) -> Any:
        made = real_client(service, settings)
        made.meta.events.register("before-call.ssm.GetParameters", sleep)
        return made

    monkeypatch.setattr(aws, "client", slow_client)


@pytest.fixture
def wide_api(
    http_server_client: Any, jp_http_port: int, jp_auth_header: dict[str, str], jp_base_url: str
) -> Any:
    """Like fj_api but with enough client connections for every request at once.

    (tornado's default client queues all but 10 requests, which would hide the server.)
    """
    client = AsyncHTTPClient(force_instance=True, max_clients=IN_FLIGHT + 10)
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}fraud-jlab/api/"

    async def call(path: str) -> tuple[int, Any]:
        response = await client.fetch(base + path, headers=jp_auth_header, raise_error=False)
        return response.code, json.loads(response.body or b"null")

    yield call
    client.close()


async def test_get_runs_is_fast_while_many_slow_production_reads_are_in_flight(
    wide_api: Any, fj_tracker: TrackerStore, production: Any, slow_aws: None
) -> None:
    fj_tracker.create_run(
        "fraud-detection-optimization", "xgb", user="ds", start_time=datetime.now(timezone.utc)
    )
    # warm up: every AWS worker thread builds its boto3 session once (~0.3 s of CPU each)
    await asyncio.gather(*(wide_api("production") for _ in range(IN_FLIGHT)))
    slow = [asyncio.ensure_future(wide_api("production")) for _ in range(IN_FLIGHT)]
    await asyncio.sleep(0.5)  # the production reads are now waiting on AWS in their pool
    started = time.perf_counter()
    status, page = await wide_api("runs")
    elapsed = time.perf_counter() - started
    in_flight = sum(not task.done() for task in slow)
    results = await asyncio.gather(*slow)
    print(
        f"\nGET runs with {IN_FLIGHT} slow GET production calls ({in_flight} still in flight): "
        f"{elapsed * 1000:.0f} ms"
    )
    assert status == 200 and len(page["runs"]) == 1
    assert in_flight >= 16  # the AWS pool was saturated while GET runs was served
    assert elapsed < 0.5
    assert all(code == 200 for code, _ in results)


def test_context_makes_one_limiter_per_pool_sized_by_settings(fj_context: FraudJlabContext) -> None:
    settings = FraudJlab(tracker_threads=3, aws_threads=5)
    context = FraudJlabContext(settings=settings, tracker=fj_context.tracker)
    assert context.limiter("tracker").total_tokens == 3
    assert context.limiter("aws").total_tokens == 5
    with pytest.raises(ValueError, match="pool must be one of"):
        context.limiter("other")  # type: ignore[arg-type]


def test_boto_clients_get_explicit_timeouts_and_bounded_retries() -> None:
    settings = FraudJlab(
        aws_connect_timeout_seconds=2, aws_read_timeout_seconds=7, aws_max_attempts=3
    )
    made = aws.client("s3", settings)
    assert made.meta.config.connect_timeout == 2
    assert made.meta.config.read_timeout == 7
    assert made.meta.config.retries["total_max_attempts"] == 3
    default = aws.client("s3", FraudJlab())
    assert default.meta.config.connect_timeout == 5 and default.meta.config.read_timeout == 30
    assert default.meta.config.retries["total_max_attempts"] == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tracker_threads", 0),
        ("aws_threads", 0),
        ("aws_max_attempts", 0),
        ("aws_read_timeout_seconds", 0),
    ],
)
def test_pool_and_timeout_settings_are_validated(name: str, value: int) -> None:
    with pytest.raises(Exception, match=name):
        FraudJlab(**{name: value})
