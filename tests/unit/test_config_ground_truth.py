"""The ground-truth and Data Capture locations the A/B readout reads from."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from fraud_jlab.config import FraudJlab


def test_default_is_under_the_config_bucket_per_endpoint() -> None:
    settings = FraudJlab(config_bucket="cfg", production_endpoint="fraud-prod")
    assert settings.ground_truth_uri() == "s3://cfg/ground-truth/fraud-prod"


def test_configured_uri_is_used_without_trailing_slash() -> None:
    settings = FraudJlab(ground_truth_s3_uri="s3://labels/chargebacks/")
    assert settings.ground_truth_uri() == "s3://labels/chargebacks"


@pytest.mark.parametrize("bad", ["labels/chargebacks", "s3://", "https://x/y"])
def test_a_uri_that_is_not_s3_is_refused_naming_the_setting(bad: str) -> None:
    with pytest.raises(TraitError, match="ground_truth_s3_uri"):
        FraudJlab(ground_truth_s3_uri=bad)


def test_data_capture_default_and_configured() -> None:
    assert FraudJlab(config_bucket="cfg").data_capture_uri() == "s3://cfg/data-capture"
    configured = FraudJlab(data_capture_s3_uri="s3://cap/prod/")
    assert configured.data_capture_uri() == "s3://cap/prod"


def test_a_capture_uri_that_is_not_s3_is_refused_naming_the_setting() -> None:
    with pytest.raises(TraitError, match="data_capture_s3_uri"):
        FraudJlab(data_capture_s3_uri="cap/prod")
