"""AWS error mapping: permissions, limits, throttling (retried, then a clean error)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from promotion_env import REGION, AwsEnv, failing, make_run

from fraud_jlab import aws
from fraud_jlab.errors import AccessDenied, AwsOperationError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def throttle(client: Any, operation: str, times: int) -> list[int]:
    """Answer the first ``times`` sends of ``operation`` with HTTP 400 ThrottlingException."""
    sent: list[int] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target", b"").decode().endswith(operation) is False:
            return None
        sent.append(1)
        if len(sent) > times:
            return None
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body)
        )

    client.meta.events.register("before-send.ssm", before_send)
    return sent


def test_clients_retry_with_adaptive_backoff() -> None:
    config = aws.client("ssm").meta.config
    assert config.retries["mode"] == "adaptive" and config.retries["total_max_attempts"] >= 3


def test_throttling_is_retried_and_the_promotion_completes(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    ssm = aws.client("ssm")  # the production retry configuration
    integ = ProductionIntegrator(
        aws_env.settings,
        tracker=tracker,
        ssm_client=ssm,
        s3_client=aws_env.s3,
        sfn_client=aws_env.sfn,
    )
    sent = throttle(ssm, "PutParameter", times=2)
    record = integ.promote_run(make_run(tracker), approver="bob", reason="r")
    assert record.status == "completed"
    assert len(sent) == 6 + 2  # six puts, the first answered twice with throttling


def test_throttling_that_persists_surfaces_cleanly_and_restores(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    ssm = boto3.client(
        "ssm", region_name=REGION, config=Config(retries={"max_attempts": 2, "mode": "standard"})
    )
    integ = ProductionIntegrator(
        aws_env.settings,
        tracker=tracker,
        ssm_client=ssm,
        s3_client=aws_env.s3,
        sfn_client=aws_env.sfn,
    )
    first = integ.promote_run(make_run(tracker), approver="bob", reason="r")
    assert first.status == "completed"
    before = aws_env.ssm_values()
    sent = throttle(ssm, "PutParameter", times=10**6)
    with pytest.raises(AwsOperationError, match="throttled") as info:
        integ.promote_run(
            make_run(
                tracker,
                params={
                    "max_depth": "3",
                    "eta": "0.2",
                    "num_round": "9",
                    "subsample": "1",
                    "colsample_bytree": "1",
                },
            ),
            approver="bob",
            reason="r",
        )
    assert info.value.aws_error_code == "ThrottlingException"
    assert "put_parameter:objective" in str(info.value)
    # The restore needs no put (nothing was written) so production is verified unchanged.
    assert "Production unchanged" in str(info.value) and aws_env.ssm_values() == before
    assert len(sent) == 3  # the first send plus max_attempts=2 retries


def test_parameter_limit_suggests_cleanup(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    failing(
        12, aws_env, code="ParameterLimitExceeded"
    )  # plan reads 2 + lock/reads 4 + backup/ledger 3 + staleness 2 = call 12 is the first put
    with pytest.raises(
        AwsOperationError, match="clean up old parameters or request a limit increase"
    ):
        integrator.promote_run(make_run(tracker), approver="bob", reason="r")
    assert aws_env.ssm_values() == {}


def test_access_denied_on_s3_names_permission(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    failing(3, aws_env, code="AccessDenied")  # the lock put
    with pytest.raises(AccessDenied, match=r"s3:PutObject") as info:
        integrator.promote_run(make_run(tracker), approver="bob", reason="r")
    assert "Production unchanged" in str(info.value)


def test_an_aws_failure_is_raised_once_naming_the_step(
    aws_env: AwsEnv, tracker: SqliteTrackerStore, integrator: ProductionIntegrator
) -> None:
    # The error the store raises is the one the caller gets: its cause is the botocore
    # error itself (no internal wrapper in between), it names the step, and a denial
    # keeps the step, the code and production_unchanged of an AWS failure.
    failing(1, aws_env, code="InternalError")
    with pytest.raises(AwsOperationError) as info:
        integrator.current_production()
    assert info.value.step == "read_parameters" and info.value.aws_error_code == "InternalError"
    assert type(info.value.__cause__).__name__ == "ClientError"
    assert str(info.value).startswith("Step 'read_parameters': ")

    failing(3, aws_env, code="AccessDenied")  # the lock put
    with pytest.raises(AccessDenied) as denied:
        integrator.promote_run(make_run(tracker), approver="bob", reason="r")
    assert isinstance(denied.value, AwsOperationError)
    assert denied.value.step == "acquire_lock" and denied.value.production_unchanged is True
    assert type(denied.value.__cause__).__name__ == "ClientError"
