"""Provision the promotion targets in a local AWS emulator (moto) for demos and tests.

Creates the config bucket and a one-state pipeline state machine whose name is
taken from ``FraudJlab.state_machine_arn``. Idempotent; never deletes anything.
Real accounts get these from infrastructure code, not from here.
"""

from __future__ import annotations

import json
from typing import Any

from fraud_jlab.aws import error_code
from fraud_jlab.config import FraudJlab, get_settings

_PIPELINE_DEFINITION = {
    "Comment": "Stand-in for the production training pipeline",
    "StartAt": "Train",
    "States": {"Train": {"Type": "Pass", "End": True}},
}


def provision_sandbox(
    settings: FraudJlab | None = None,
    *,
    s3_client: Any = None,
    sfn_client: Any = None,
    role_arn: str = "arn:aws:iam::123456789012:role/fraud-detection-pipeline",
) -> None:
    """Create the config bucket and the state machine if they do not exist."""
    from fraud_jlab import aws

    settings = settings or get_settings()
    s3 = s3_client or aws.client("s3", settings)
    sfn = sfn_client or aws.client("stepfunctions", settings)
    region = s3.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": settings.config_bucket}
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except Exception as exc:
        if error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise
    arn = settings.state_machine_arn
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except Exception as exc:
        if error_code(exc) not in {"StateMachineDoesNotExist", "ResourceNotFound"}:
            raise
        sfn.create_state_machine(
            name=arn.rsplit(":", 1)[-1],
            definition=json.dumps(_PIPELINE_DEFINITION),
            roleArn=role_arn,
        )
