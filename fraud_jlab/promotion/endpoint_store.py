"""The AWS side of one SageMaker endpoint: describe it, switch its config, move its weights, wait.

The endpoint counterpart of ``store.py``: every call goes through
:func:`~fraud_jlab.promotion.store.aws_step`, so a failure is raised as the mapped
domain error naming the step.
"""

from __future__ import annotations

from typing import Any

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import map_aws_error
from fraud_jlab.errors import AwsOperationError, NotFoundError
from fraud_jlab.promotion.endpoint_checks import endpoint_state
from fraud_jlab.promotion.models import EndpointState
from fraud_jlab.promotion.store import aws_step


class EndpointStore:
    """The endpoint ``endpoint_name`` through the SageMaker client ``sagemaker``.

    ``waiter_config`` is the ``endpoint_in_service`` waiter's ``{"Delay", "MaxAttempts"}``.
    """

    def __init__(self, sagemaker: Any, endpoint_name: str, waiter_config: dict[str, int]) -> None:
        self.sagemaker = sagemaker
        self.endpoint_name = endpoint_name
        self.waiter_config = waiter_config

    def read(self, step: str = "describe_endpoint") -> EndpointState:
        """The endpoint now; NotFoundError when it does not exist."""
        try:
            resp = aws_step(
                step,
                "sagemaker",
                None,
                self.sagemaker.describe_endpoint,
                EndpointName=self.endpoint_name,
            )
        except AwsOperationError as exc:
            if _missing(exc):
                raise NotFoundError("endpoint", self.endpoint_name) from exc
            raise
        return endpoint_state(resp)

    def config_variants(self, config_name: str) -> tuple[dict[str, float], list[str]]:
        """A configuration's production variants (initial weights in percent) and shadows."""
        try:
            resp = aws_step(
                "describe_endpoint_config",
                "sagemaker",
                None,
                self.sagemaker.describe_endpoint_config,
                EndpointConfigName=config_name,
            )
        except AwsOperationError as exc:
            if _missing(exc):
                raise NotFoundError("endpoint configuration", config_name) from exc
            raise
        variants = resp.get("ProductionVariants") or []
        raw = {str(v["VariantName"]): float(v.get("InitialVariantWeight", 1.0)) for v in variants}
        total = sum(raw.values()) or 1.0
        shadows = [str(v["VariantName"]) for v in resp.get("ShadowProductionVariants") or []]
        return {k: 100.0 * w / total for k, w in raw.items()}, shadows

    def update_config(self, step: str, config_name: str) -> None:
        """``UpdateEndpoint`` to ``config_name``."""
        aws_step(
            step,
            "sagemaker",
            None,
            self.sagemaker.update_endpoint,
            EndpointName=self.endpoint_name,
            EndpointConfigName=config_name,
        )

    def update_weights(self, step: str, weights: dict[str, float]) -> None:
        """``UpdateEndpointWeightsAndCapacities`` to ``weights`` (variant -> weight)."""
        aws_step(
            step,
            "sagemaker",
            None,
            self.sagemaker.update_endpoint_weights_and_capacities,
            EndpointName=self.endpoint_name,
            DesiredWeightsAndCapacities=[
                {"VariantName": name, "DesiredWeight": weight} for name, weight in weights.items()
            ],
        )

    def wait(self, step: str) -> None:
        """Until the endpoint is InService again (the mapped error when it is not)."""
        try:
            self.sagemaker.get_waiter("endpoint_in_service").wait(
                EndpointName=self.endpoint_name, WaiterConfig=self.waiter_config
            )
        except Exception as exc:
            raise map_aws_error(exc, service="sagemaker", step=step) from exc


def _missing(exc: AwsOperationError) -> bool:
    """SageMaker's answer for an endpoint (configuration) that does not exist."""
    cause = exc.__cause__
    return (
        cause is not None
        and error_code(cause) == "ValidationException"
        and ("not find" in str(cause))
    )


__all__ = ["EndpointStore"]
