"""Property 21: Challenger Endpoint Naming (Validates: Requirements 11.2).

For any challenger endpoint deployment, the endpoint name contains the experiment id (its
sanitised form, or the documented truncated form for long ids) and the timestamp, and is a
valid SageMaker endpoint name.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from fraud_jlab.abtest import ABTestingManager, challenger_endpoint_name
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError

VALID_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
REGION = "us-east-1"

experiment_ids = st.one_of(
    st.from_regex(r"exp-20[0-9]{6}-[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9A-HJKMNP-TV-Z]{26}", fullmatch=True),  # ULIDs
    # Lengths around the 20/30-character boundaries where the name format changes.
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=18, max_size=34),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=120),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
    ),
)


def expected_slug(experiment_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", experiment_id.lower()).strip("-")


def check_name(name: str, experiment_id: str, moment: datetime) -> None:
    timestamp = moment.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    slug = expected_slug(experiment_id)
    assert len(name) <= 63
    assert VALID_NAME.fullmatch(name), name
    assert name.endswith(f"-{timestamp}")
    if len(slug) <= 30:
        assert f"-{slug}-{timestamp}" in name
    else:
        # Documented truncated form: first 21 slug characters + 8 hex digits of the id's hash.
        digest = hashlib.sha256(experiment_id.encode("utf-8")).hexdigest()[:8]
        assert f"-{slug[:21].rstrip('-')}-{digest}-{timestamp}" in name


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[str, str, datetime, list[str]]]:
    """ONE real deployment (under moto) with a long id: its name, id, moment, endpoints."""
    experiment_id = "Fraud XGBoost sweep #42 / 01HMBX9ZQK4W8V2T6R3N5P7Y0A"
    moment = datetime(2025, 3, 1, 12, 0, 7, tzinfo=timezone.utc)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            mp.delenv(name, raising=False)
        for key in list(os.environ):
            if key.startswith("FRAUD_JLAB_"):
                mp.delenv(key)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            session = boto3.session.Session(region_name=REGION)
            s3, sagemaker = session.client("s3"), session.client("sagemaker")
            s3.create_bucket(Bucket="fraud-detection-models")
            s3.put_object(Bucket="fraud-detection-models", Key="m/model.tar.gz", Body=b"x")
            manager = ABTestingManager(
                FraudJlab(region=REGION),
                sagemaker_client=sagemaker,
                s3_client=s3,
                clock=lambda: moment,
            )
            name = manager.deploy_challenger_endpoint(
                experiment_id, "s3://fraud-detection-models/m/model.tar.gz"
            )
            endpoints = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
            yield name, experiment_id, moment, endpoints


MOMENT = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)


@settings(max_examples=100, deadline=None)
# Slugs of 20/21 and 30/31 characters: where the prefix changes and where truncation starts.
@example(experiment_id="e" * 20, moment=MOMENT, later=1)
@example(experiment_id="E_" * 10 + "x", moment=MOMENT, later=1)
@example(experiment_id="u" * 30, moment=MOMENT, later=1)
@example(experiment_id="U" * 31, moment=MOMENT, later=1)
@example(experiment_id="##", moment=MOMENT, later=1)
@given(experiment_id=experiment_ids, moment=moments, later=st.integers(1, 10**8))
def test_property_21_challenger_endpoint_naming(
    deployed: tuple[str, str, datetime, list[str]],
    experiment_id: str,
    moment: datetime,
    later: int,
) -> None:
    # The deployment really created an endpoint with such a name.
    deployed_name, deployed_id, deployed_moment, endpoints = deployed
    assert endpoints == [deployed_name]
    check_name(deployed_name, deployed_id, deployed_moment)

    if not expected_slug(experiment_id):
        with pytest.raises(ValidationError) as err:
            challenger_endpoint_name(experiment_id, moment)
        assert err.value.field == "experiment_id"
        return
    name = challenger_endpoint_name(experiment_id, moment)
    check_name(name, experiment_id, moment)
    # Deterministic, and a different second gives a different name.
    assert challenger_endpoint_name(experiment_id, moment) == name
    other = moment + timedelta(seconds=later)
    if other.year <= 9999:
        assert challenger_endpoint_name(experiment_id, other) != name
