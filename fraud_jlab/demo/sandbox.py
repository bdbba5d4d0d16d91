"""The promotion targets alone in a local AWS emulator (moto), for tests and demos.

:func:`provision_sandbox` creates, where missing, the config bucket and the training
pipeline state machine named by ``FraudJlab.state_machine_arn``, with the emulator's
own helpers (:mod:`fraud_jlab.demo.emulator`, whose :func:`provision_resources` adds
the Parameter Store values, the production config, the role and the SageMaker
endpoint). Idempotent; never deletes anything. Real accounts get these from
infrastructure code, not from here.
"""

from __future__ import annotations

from typing import Any

from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.demo.emulator import _ensure_bucket, _ensure_state_machine


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
    _ensure_bucket(s3, settings.config_bucket, versioned=False)
    arn = settings.state_machine_arn
    _ensure_state_machine(sfn, arn, arn.rsplit(":", 1)[-1], role_arn)
