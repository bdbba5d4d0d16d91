"""A local AWS emulator with the resources fraud_jlab's production integration expects.

``start_emulator()`` runs an in-process moto server on a free port;
``provision_resources()`` creates, where missing, the S3 buckets, the six
Parameter Store hyperparameters, ``production-model-config.yaml``, the Step
Functions training pipeline, the SageMaker execution role and the production
SageMaker endpoint. Point boto3 at the emulator with ``Emulator.environment()``.

Example::

    with start_emulator() as emulator:
        os.environ.update(emulator.environment())
        provision_resources()
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

import yaml

from fraud_jlab.aws import error_code
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.demo.data_capture import BackgroundFlusher
from fraud_jlab.demo.sagemaker_experiments import install_sagemaker_experiments
from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.errors import ValidationError

#: The production pipeline's hyperparameters (Parameter Store values) before any promotion.
PRODUCTION_HYPERPARAMETERS: dict[str, str] = {
    "objective": "binary:logistic",
    "num_round": "100",
    "max_depth": "5",
    "eta": "0.2",
    "subsample": "0.8",
    "colsample_bytree": "0.8",
}
CONFIG_KEY = "production-model-config.yaml"
XGBOOST_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest"
EMULATOR_REGION = "us-east-1"
_PIPELINE_ROLE = "fraud-detection-pipeline-role"
_PIPELINE_DEFINITION = {
    "Comment": "fraud-detection-ml-pipeline: read hyperparameters, train, evaluate, deploy.",
    "StartAt": "ReadHyperparameters",
    "States": {
        "ReadHyperparameters": {"Type": "Pass", "Next": "Train"},
        "Train": {"Type": "Pass", "Next": "Evaluate"},
        "Evaluate": {"Type": "Pass", "Next": "Deploy"},
        "Deploy": {"Type": "Pass", "End": True},
    },
}
_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["sagemaker.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass
class Emulator:
    """A running emulator; stop it with :meth:`stop` or use it as a context manager."""

    host: str
    port: int
    _server: Any = field(repr=False)
    _flusher: Any = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """Environment variables that point boto3 (and child processes) at this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": EMULATOR_REGION,
        }

    def stop(self) -> None:
        """Write the buffered Data Capture lines and shut the server down (idempotent)."""
        if not self._stopped:
            self._stopped = True
            if self._flusher is not None:
                self._flusher.stop()
            self._server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_emulator(
    host: str = "127.0.0.1", port: int | None = None, *, quiet: bool = True
) -> Emulator:
    """Start moto's threaded server on ``host:port`` (a free port when ``port`` is None).

    SageMaker ``UpdateEndpoint``, real scoring for ``InvokeEndpoint``
    (:mod:`fraud_jlab.demo.sagemaker_serving`, with Data Capture lines written within about
    a second) and the Experiments extensions (``fraud_jlab.demo.sagemaker_experiments``)
    are installed first. ``quiet`` hides the per-request
    access log. Raises ``ValidationError`` for a port outside 1..65535 and ``OSError``
    when the port is taken.
    """
    if port is not None and (isinstance(port, bool) or not 0 < int(port) < 65536):
        raise ValidationError(f"port must be in 1..65535, got {port!r}", field="port")
    from moto.server import ThreadedMotoServer

    install_sagemaker_update_endpoint()
    install_sagemaker_experiments()
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    chosen = int(port) if port is not None else _free_port(host)
    # Fail fast with a clear OSError instead of a half-started server thread.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, chosen))
    server = ThreadedMotoServer(ip_address=host, port=chosen, verbose=False)
    server.start()
    return Emulator(host=host, port=chosen, _server=server, _flusher=BackgroundFlusher().start())


def _arn_parts(arn: str, service: str, resource: str, fld: str) -> tuple[str, str, str]:
    """(region, account, name) of ``arn:aws:<service>:<region>:<account>:<resource>...``."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
        raise ValidationError(f"{fld} {arn!r} is not a {service} ARN", field=fld)
    tail = ":".join(parts[5:])
    if service == "iam":
        if not tail.startswith("role/"):
            raise ValidationError(f"{fld} {arn!r} is not an IAM role ARN", field=fld)
        return parts[3], parts[4], tail.rsplit("/", 1)[-1]
    if not tail.startswith(resource + ":"):
        raise ValidationError(f"{fld} {arn!r} is not a {resource} ARN", field=fld)
    return parts[3], parts[4], tail[len(resource) + 1 :]


def _client(service: str, region: str | None = None) -> Any:
    import boto3

    return boto3.session.Session().client(service, region_name=region or EMULATOR_REGION)  # type: ignore[call-overload]


def default_production_config(
    run_id: str = "initial", metrics: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The seed's ``ModelConfig`` for the production model (hyperparameters as stored in SSM)."""
    return {
        "model": {
            "algorithm": "xgboost",
            "version": run_id,
            "hyperparameters": dict(PRODUCTION_HYPERPARAMETERS),
            "performance": {k: float(v) for k, v in (metrics or {}).items()},
            "tested_date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "approved_by": "fraud-jlab-demo",
        }
    }


def _ensure_bucket(s3: Any, bucket: str, versioned: bool) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        if error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        region = s3.meta.region_name
        location = (
            {"CreateBucketConfiguration": {"LocationConstraint": region}}
            if region and region != "us-east-1"
            else {}
        )
        s3.create_bucket(Bucket=bucket, **location)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _ensure_parameters(ssm: Any, prefix: str) -> dict[str, str]:
    paths = {}
    for name, value in PRODUCTION_HYPERPARAMETERS.items():
        path = prefix.rstrip("/") + "/" + name
        paths[name] = path
        try:
            ssm.put_parameter(Name=path, Value=value, Type="String", Overwrite=False)
        except Exception as exc:
            # An existing value may come from a promotion: never overwrite it here.
            if error_code(exc) != "ParameterAlreadyExists":
                raise
    return paths


def _ensure_config(s3: Any, bucket: str, config: Mapping[str, Any]) -> bool:
    body = yaml.safe_dump(dict(config), sort_keys=False).encode()
    try:
        s3.put_object(Bucket=bucket, Key=CONFIG_KEY, Body=body, IfNoneMatch="*")
    except Exception as exc:
        if error_code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
            return False
        raise
    return True


def _ensure_role(iam: Any, name: str) -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_TRUST_POLICY))
    return str(role["Role"]["Arn"])


def _ensure_state_machine(sfn: Any, arn: str, name: str, role_arn: str) -> None:
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
        return
    except Exception as exc:
        if error_code(exc) not in {"StateMachineDoesNotExist", "ResourceNotFound"}:
            raise
    created = sfn.create_state_machine(
        name=name, definition=json.dumps(_PIPELINE_DEFINITION), roleArn=role_arn
    )["stateMachineArn"]
    if created != arn:
        sfn.delete_state_machine(stateMachineArn=created)
        raise ValidationError(
            f"state_machine_arn {arn!r} cannot be created here: the emulator created {created!r}. "
            "Use the emulator's account id and region in the ARN.",
            field="state_machine_arn",
        )


def _absent(exc: Exception) -> bool:
    return error_code(exc) == "ValidationException" and "Could not find" in str(exc)


def _ensure_endpoint(
    sm: Any, settings: FraudJlab, role_arn: str, model_data_url: str | None
) -> dict[str, str]:
    endpoint = settings.production_endpoint
    names = {
        "model": f"{endpoint}-model",
        "endpoint_config": f"{endpoint}-config",
        "endpoint": endpoint,
    }
    try:
        sm.describe_model(ModelName=names["model"])
    except Exception as exc:
        if not _absent(exc):
            raise
        sm.create_model(
            ModelName=names["model"],
            PrimaryContainer={
                "Image": XGBOOST_IMAGE,
                "ModelDataUrl": model_data_url
                or f"s3://{settings.models_bucket}/production/model.tar.gz",
            },
            ExecutionRoleArn=role_arn,
        )
    try:
        sm.describe_endpoint_config(EndpointConfigName=names["endpoint_config"])
    except Exception as exc:
        if not _absent(exc):
            raise
        sm.create_endpoint_config(
            EndpointConfigName=names["endpoint_config"],
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": names["model"],
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1.0,
                }
            ],
            DataCaptureConfig={
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": settings.data_capture_uri(),
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
            },
        )
    try:
        sm.describe_endpoint(EndpointName=endpoint)
    except Exception as exc:
        if not _absent(exc):
            raise
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=names["endpoint_config"])
    return names


def provision_resources(
    settings: FraudJlab | None = None,
    *,
    s3_client: Any = None,
    ssm_client: Any = None,
    sfn_client: Any = None,
    sagemaker_client: Any = None,
    iam_client: Any = None,
    sts_client: Any = None,
    production_config: Mapping[str, Any] | None = None,
    model_data_url: str | None = None,
) -> dict[str, Any]:
    """Create the production integration's AWS resources where missing; idempotent.

    Meant for the local emulator (or a sandbox account). Creates the config, data and
    models buckets (versioning on the config bucket), the six hyperparameters under
    ``settings.ssm_prefix`` with the production values, ``production-model-config.yaml``
    (``production_config`` or :func:`default_production_config`), the Step Functions
    state machine at exactly ``settings.state_machine_arn``, the SageMaker execution
    role and the production endpoint (its model serves ``model_data_url``, default
    ``s3://<models_bucket>/production/model.tar.gz``; its configuration captures every
    request to ``settings.data_capture_uri()``). Existing parameters, config and
    endpoint resources are never overwritten. Returns what was provisioned (names and ARNs).

    Raises :class:`~fraud_jlab.errors.ValidationError`, before creating anything, when
    the state machine or role ARN is malformed or names another account than the
    credentials' one.
    """
    settings = settings or get_settings()
    sfn_region, sfn_account, machine_name = _arn_parts(
        settings.state_machine_arn, "states", "stateMachine", "state_machine_arn"
    )
    _, role_account, role_name = _arn_parts(
        settings.sagemaker_role_arn, "iam", "role", "sagemaker_role_arn"
    )
    region = settings.region or None
    account = str((sts_client or _client("sts", region)).get_caller_identity()["Account"])
    for fld, arn_account in (
        ("state_machine_arn", sfn_account),
        ("sagemaker_role_arn", role_account),
    ):
        if arn_account != account:
            raise ValidationError(
                f"{fld} names account {arn_account!r} but the AWS credentials belong to "
                f"account {account!r}; nothing was created",
                field=fld,
            )
    s3 = s3_client or _client("s3", region)
    ssm = ssm_client or _client("ssm", region)
    sfn = sfn_client or _client("stepfunctions", sfn_region)
    sm = sagemaker_client or _client("sagemaker", region)
    iam = iam_client or _client("iam", region)

    _ensure_bucket(s3, settings.config_bucket, versioned=True)
    _ensure_bucket(s3, settings.data_bucket, versioned=False)
    _ensure_bucket(s3, settings.models_bucket, versioned=False)
    parameters = _ensure_parameters(ssm, settings.ssm_prefix)
    config_written = _ensure_config(
        s3, settings.config_bucket, production_config or default_production_config()
    )
    role_arn = _ensure_role(iam, role_name)
    if role_arn != settings.sagemaker_role_arn:
        raise ValidationError(
            f"sagemaker_role_arn {settings.sagemaker_role_arn!r} does not match the role "
            f"created here ({role_arn!r})",
            field="sagemaker_role_arn",
        )
    pipeline_role_arn = _ensure_role(iam, _PIPELINE_ROLE)
    _ensure_state_machine(sfn, settings.state_machine_arn, machine_name, pipeline_role_arn)
    endpoint = _ensure_endpoint(sm, settings, role_arn, model_data_url)
    return {
        "buckets": [settings.config_bucket, settings.data_bucket, settings.models_bucket],
        "parameters": parameters,
        "config": f"s3://{settings.config_bucket}/{CONFIG_KEY}",
        "config_written": config_written,
        "state_machine_arn": settings.state_machine_arn,
        "role_arn": role_arn,
        "endpoint": endpoint,
    }


__all__ = [
    "CONFIG_KEY",
    "PRODUCTION_HYPERPARAMETERS",
    "Emulator",
    "default_production_config",
    "install_sagemaker_update_endpoint",
    "provision_resources",
    "start_emulator",
]
