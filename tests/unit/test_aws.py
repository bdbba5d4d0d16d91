"""boto3 clients from fraud_jlab settings: region resolution and retry configuration."""

from __future__ import annotations

import pytest

from fraud_jlab import aws
from fraud_jlab.config import FraudJlab


def test_region_follows_the_environment_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert aws.client("ssm").meta.region_name == "eu-west-1"
    # Without any region configured, us-east-1 (where the design's resources live)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/fraud-jlab-test-config")
    assert aws.client("ssm").meta.region_name == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert aws.client("s3").meta.region_name == "us-west-2"


def test_configured_region_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings = FraudJlab(region="ap-southeast-2")
    assert aws.client("stepfunctions", settings).meta.region_name == "ap-southeast-2"
