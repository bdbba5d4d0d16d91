"""Challenger deployment through boto3: what is created, input validation, cleanup on failure."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fraud_jlab.errors import AwsOperationError, ValidationError

from .abtest_env import ARTIFACT, AbEnv

NAME = "fraud-detection-challenger-exp-20240115-001-20240115-103000"


def fail_operation(client: Any, operation: str, code: str = "InternalFailure") -> list[str]:
    """Make every ``operation`` call on ``client`` raise ``code``; returns the calls seen."""
    calls: list[str] = []

    def hook(**kwargs: Any) -> None:
        calls.append(operation)
        raise ClientError({"Error": {"Code": code, "Message": f"injected {operation}"}}, operation)

    client.meta.events.register(f"before-call.sagemaker.{operation}", hook)
    return calls


def test_deploy_creates_model_config_and_endpoint(ab_env: AbEnv) -> None:
    name = ab_env.manager().deploy_challenger_endpoint(
        "exp-20240115-001", ARTIFACT, instance_type="ml.c5.xlarge"
    )

    assert name == NAME
    endpoint = ab_env.sagemaker.describe_endpoint(EndpointName=name)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == name
    config = ab_env.sagemaker.describe_endpoint_config(EndpointConfigName=name)
    (variant,) = config["ProductionVariants"]
    assert variant["ModelName"] == name
    assert variant["InstanceType"] == "ml.c5.xlarge"
    assert variant["VariantName"] == "AllTraffic"
    model = ab_env.sagemaker.describe_model(ModelName=name)
    assert model["PrimaryContainer"]["ModelDataUrl"] == ARTIFACT
    assert model["PrimaryContainer"]["Image"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert model["ExecutionRoleArn"] == ab_env.settings.sagemaker_role_arn
    tags = ab_env.sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
    assert {"Key": "fraud-jlab:experiment-id", "Value": "exp-20240115-001"} in tags


def test_long_experiment_id_gives_a_valid_shortened_name(ab_env: AbEnv) -> None:
    ulid = "01HMBX9ZQK4W8V2T6R3N5P7Y0A"

    name = ab_env.manager().deploy_challenger_endpoint(ulid, ARTIFACT)

    assert name == f"fraud-challenger-{ulid.lower()}-20240115-103000"
    assert ab_env.endpoints() == [name]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"experiment_id": "###"}, "experiment_id"),
        ({"model_artifact_s3_path": "/tmp/model.tar.gz"}, "model_artifact_s3_path"),
        ({"model_artifact_s3_path": "s3://fraud-detection-models/"}, "model_artifact_s3_path"),
        (
            {"model_artifact_s3_path": "s3://fraud-detection-models/missing.tar.gz"},
            "model_artifact_s3_path",
        ),
        ({"instance_type": "m5.large"}, "instance_type"),
        ({"instance_type": "ml.m5"}, "instance_type"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_created(
    ab_env: AbEnv, kwargs: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"experiment_id": "exp-1", "model_artifact_s3_path": ARTIFACT}
    args.update(kwargs)

    with pytest.raises(ValidationError) as err:
        ab_env.manager().deploy_challenger_endpoint(**args)

    assert err.value.field == field
    assert ab_env.endpoints() == ab_env.endpoint_configs() == ab_env.models() == []


def test_failed_create_endpoint_deletes_model_and_config(ab_env: AbEnv) -> None:
    calls = fail_operation(ab_env.sagemaker, "CreateEndpoint")

    with pytest.raises(AwsOperationError) as err:
        ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)

    assert calls == ["CreateEndpoint"]
    assert err.value.step == "create_endpoint"
    assert err.value.aws_error_code == "InternalFailure"
    assert "everything this deployment created was deleted" in str(err.value)
    assert ab_env.endpoints() == ab_env.endpoint_configs() == ab_env.models() == []


def test_endpoint_that_never_comes_into_service_is_deleted(ab_env: AbEnv) -> None:
    # The waiter treats ValidationException from DescribeEndpoint as a terminal failure.
    fail_operation(ab_env.sagemaker, "DescribeEndpoint", code="ValidationException")

    with pytest.raises(AwsOperationError) as err:
        ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)

    assert err.value.step == "wait_endpoint_in_service"
    assert ab_env.endpoints() == ab_env.endpoint_configs() == ab_env.models() == []


def test_failed_cleanup_names_what_was_left_behind(ab_env: AbEnv) -> None:
    fail_operation(ab_env.sagemaker, "CreateEndpoint")
    fail_operation(ab_env.sagemaker, "DeleteEndpointConfig")

    with pytest.raises(AwsOperationError) as err:
        ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)

    assert f"left behind (delete by hand): endpoint_config {NAME}" in str(err.value)
    assert ab_env.models() == []
    assert ab_env.endpoint_configs() == [NAME]


def test_failed_create_model_creates_nothing(ab_env: AbEnv) -> None:
    fail_operation(ab_env.sagemaker, "CreateModel", code="AccessDeniedException")

    with pytest.raises(AwsOperationError) as err:
        ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)

    assert err.value.step == "create_model"
    assert ab_env.endpoints() == ab_env.endpoint_configs() == ab_env.models() == []


def test_unknown_region_without_image_uri_is_rejected(ab_env: AbEnv) -> None:
    ab_env.settings.region = "mars-north-1"

    with pytest.raises(ValidationError) as err:
        ab_env.manager().deploy_challenger_endpoint("exp-1", ARTIFACT)

    assert err.value.field == "region"
    assert ab_env.models() == []


def test_explicit_image_uri_is_used(ab_env: AbEnv) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-xgb:2"

    name = ab_env.manager().deploy_challenger_endpoint("exp-1", ARTIFACT, image_uri=image)

    assert ab_env.sagemaker.describe_model(ModelName=name)["PrimaryContainer"]["Image"] == image


def test_wait_false_returns_without_polling(ab_env: AbEnv) -> None:
    polls: list[str] = []
    ab_env.sagemaker.meta.events.register(
        "before-call.sagemaker.DescribeEndpoint", lambda **_: polls.append("describe")
    )

    name = ab_env.manager().deploy_challenger_endpoint("exp-1", ARTIFACT, wait=False)

    assert polls == []
    assert ab_env.endpoints() == [name]
