"""A challenger's model artifact, container and stand-alone endpoint (design section 8).

:func:`check_artifact` validates the ``s3://`` URI of a ``model.tar.gz`` and that it exists;
:func:`challenger_container` is the SageMaker container both the stand-alone challenger
endpoint and an A/B test's challenger variant run; :func:`deploy_challenger` creates the
model, the one-variant endpoint configuration and the endpoint, all named alike, and deletes
what it created when a step fails. None of this changes production.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fraud_jlab.abtest.naming import experiment_slug
from fraud_jlab.aws import aws_error, error_code, is_not_found
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError

log = logging.getLogger(__name__)

_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/\S+$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
EXPERIMENT_TAG = "fraud-jlab:experiment-id"
VARIANT_NAME = "AllTraffic"


def check_artifact(s3: Any, model_artifact_s3_path: Any) -> None:
    """ValidationError unless ``model_artifact_s3_path`` is an ``s3://`` URI that exists."""
    if not isinstance(model_artifact_s3_path, str) or not _S3_URI.fullmatch(model_artifact_s3_path):
        raise ValidationError(
            "model_artifact_s3_path must be an s3://<bucket>/<key> URI of a model.tar.gz, "
            f"got {model_artifact_s3_path!r}",
            field="model_artifact_s3_path",
        )
    bucket, key = model_artifact_s3_path[len("s3://") :].split("/", 1)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_not_found(exc) or error_code(exc) == "NoSuchBucket":
            raise ValidationError(
                f"model_artifact_s3_path {model_artifact_s3_path!r} does not exist",
                field="model_artifact_s3_path",
            ) from exc
        raise aws_error(
            exc,
            f"checking model artifact {model_artifact_s3_path!r} failed: {exc}",
            step="head_object",
        ) from exc


def check_instance_type(instance_type: Any) -> str:
    if not isinstance(instance_type, str) or not _INSTANCE_TYPE.fullmatch(instance_type):
        raise ValidationError(
            f"instance_type must be a SageMaker instance type such as 'ml.m5.large', got {instance_type!r}",
            field="instance_type",
        )
    return instance_type


def experiment_tags(experiment_id: str) -> list[dict[str, str]]:
    """The tag naming the experiment (the id itself when it is a valid tag value)."""
    value = experiment_id if _TAG_VALUE.fullmatch(experiment_id) else experiment_slug(experiment_id)
    return [{"Key": EXPERIMENT_TAG, "Value": value}]


def challenger_container(
    region: str,
    model_artifact_s3_path: str,
    image_uri: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``PrimaryContainer``: ``image_uri`` or the region's built-in XGBoost image."""
    if image_uri is None:
        # Imported here: the tuning package pulls in optuna, which A/B testing does not need.
        from fraud_jlab.tuning.sagemaker_amt import xgboost_image_uri

        image_uri = xgboost_image_uri(region)
    return {
        "Image": image_uri,
        "ModelDataUrl": model_artifact_s3_path,
        **({"Environment": dict(environment)} if environment else {}),
    }


def deploy_challenger(
    sagemaker: Any,
    settings: FraudJlab,
    *,
    name: str,
    container: Mapping[str, Any],
    tags: list[dict[str, str]],
    instance_type: str,
    wait: bool,
) -> None:
    """Create model, endpoint configuration and endpoint ``name`` (and wait for InService).

    On failure deletes what it created, newest first, and raises AwsOperationError naming the
    failed step and anything left behind."""
    created: list[str] = []
    step = "create_model"
    try:
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=dict(container),
            ExecutionRoleArn=settings.sagemaker_role_arn,
            Tags=tags,
        )
        created.append("model")
        step = "create_endpoint_config"
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": VARIANT_NAME,
                    "ModelName": name,
                    "InitialInstanceCount": 1,
                    "InstanceType": instance_type,
                }
            ],
            Tags=tags,
        )
        created.append("endpoint_config")
        step = "create_endpoint"
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)
        created.append("endpoint")
        if wait:
            step = "wait_endpoint_in_service"
            sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name)
    except Exception as exc:
        leftovers = _delete_created(sagemaker, name, created)
        message = f"deploying challenger {name!r} failed at {step}: {exc}"
        if created:
            message += (
                f"; left behind (delete by hand): {', '.join(leftovers)}"
                if leftovers
                else "; everything this deployment created was deleted"
            )
        raise aws_error(exc, message, step=step) from exc


def _delete_created(sagemaker: Any, name: str, created: list[str]) -> list[str]:
    """Delete what a failed deployment created, newest first; returns what could not be."""
    deleters = {
        "endpoint": lambda: sagemaker.delete_endpoint(EndpointName=name),
        "endpoint_config": lambda: sagemaker.delete_endpoint_config(EndpointConfigName=name),
        "model": lambda: sagemaker.delete_model(ModelName=name),
    }
    leftovers = []
    for kind in reversed(created):
        try:
            deleters[kind]()
        except Exception:
            log.exception("could not delete %s %s after a failed deployment", kind, name)
            leftovers.append(f"{kind} {name}")
    return leftovers


__all__ = [
    "EXPERIMENT_TAG",
    "VARIANT_NAME",
    "challenger_container",
    "check_artifact",
    "check_instance_type",
    "deploy_challenger",
    "experiment_tags",
]
