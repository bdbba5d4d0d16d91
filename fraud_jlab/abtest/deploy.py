"""The SageMaker resources of an A/B test: the challenger's model and its endpoint configurations.

Creating them changes nothing customers see (production switches only through the audited
endpoint change in :mod:`fraud_jlab.abtest.service`); what a failed start created is deleted
again. Every configuration carries a ``DataCaptureConfig`` writing the scored requests of each
variant to ``FraudJlab.data_capture_uri()``: the readout (:mod:`fraud_jlab.abtest.capture`)
is computed from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fraud_jlab.abtest.state import CHALLENGER_VARIANT, CHAMPION_VARIANT, shadow_config_name
from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import AwsOperationError
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.promotion.models import EndpointState

log = logging.getLogger(__name__)
T = TypeVar("T")


def data_capture_config(settings: FraudJlab) -> dict[str, Any]:
    """Capture every request and response (CSV) to the configured Data Capture destination."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": settings.data_capture_uri(),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    }


def variant(name: str, model: str, count: int, instance_type: str, weight: float) -> dict[str, Any]:
    """One production (or shadow) variant of an endpoint configuration."""
    return {
        "VariantName": name,
        "ModelName": model,
        "InitialInstanceCount": count,
        "InstanceType": instance_type,
        "InitialVariantWeight": weight,
    }


def start_plan(
    before: EndpointState,
    *,
    name: str,
    artifact: str,
    champion: Mapping[str, Any],
    weights: Mapping[str, float],
    shadow_config: str | None,
    first_config: str,
    first_weights: Mapping[str, float],
    design_summary: str,
) -> EndpointChangePlan:
    """What a start would change (its dry run): production from ``before`` to the first
    configuration and weights, and the calls in words."""
    after = before.model_copy(
        update={
            "config_name": first_config,
            "weights": dict(first_weights),
            "shadow_variants": [CHALLENGER_VARIANT] if shadow_config else [],
        }
    )
    changes = [
        f"CreateModel {name} ({artifact})",
        f"CreateEndpointConfig {name}: {CHAMPION_VARIANT} ({champion['ModelName']}) "
        f"{weights[CHAMPION_VARIANT]:g}%, {CHALLENGER_VARIANT} {weights[CHALLENGER_VARIANT]:g}%",
        *(
            [
                f"CreateEndpointConfig {shadow_config}: {CHAMPION_VARIANT} 100%, "
                f"shadow {CHALLENGER_VARIANT} (a copy of all traffic)"
            ]
            if shadow_config
            else []
        ),
        f"UpdateEndpoint {before.endpoint_name}: {before.config_name} -> {first_config}",
        f"Design: {design_summary}",
    ]
    return EndpointChangePlan(
        kind="ab_deploy", ab_test_id=name, before=before, after=after, changes=changes
    )


def create_challenger(
    sagemaker: Any,
    settings: FraudJlab,
    *,
    name: str,
    container: dict[str, Any],
    tags: list[dict[str, str]],
    champion: Mapping[str, Any],
    weights: Mapping[str, float],
    instance_type: str,
    shadow_config: str | None,
) -> list[str]:
    """Create the model, the two-variant configuration ``name`` and the shadow one; returns
    what was created (for :func:`delete_created`). On failure deletes it and re-raises."""
    capture = data_capture_config(settings)
    champion_model = str(champion["ModelName"])
    champion_count = int(champion.get("InitialInstanceCount", 1))
    champion_type = str(champion.get("InstanceType", instance_type))
    created: list[str] = []
    try:
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn=settings.sagemaker_role_arn,
            Tags=tags,
        )
        created.append("model")
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                variant(
                    CHAMPION_VARIANT,
                    champion_model,
                    champion_count,
                    champion_type,
                    weights[CHAMPION_VARIANT],
                ),
                variant(CHALLENGER_VARIANT, name, 1, instance_type, weights[CHALLENGER_VARIANT]),
            ],
            DataCaptureConfig=capture,
            Tags=tags,
        )
        created.append("endpoint_config")
        if shadow_config:
            sagemaker.create_endpoint_config(
                EndpointConfigName=shadow_config,
                ProductionVariants=[
                    variant(CHAMPION_VARIANT, champion_model, champion_count, champion_type, 100.0)
                ],
                ShadowProductionVariants=[
                    variant(CHALLENGER_VARIANT, name, 1, instance_type, 100.0)
                ],
                DataCaptureConfig=capture,
                Tags=tags,
            )
            created.append("shadow_config")
    except Exception:
        delete_created(sagemaker, name, created)
        raise
    return created


def create_then_switch(
    sagemaker: Any, settings: FraudJlab, switch: Callable[[], T], *, name: str, **create: Any
) -> T:
    """:func:`create_challenger` (``create``: its keyword arguments), then ``switch()`` (the
    audited change of production). If either fails, what was created is deleted; an AWS
    failure is raised as AwsOperationError saying production is unchanged."""
    created: list[str] = []
    try:
        created = create_challenger(sagemaker, settings, name=name, **create)
        return switch()
    except Exception as exc:
        delete_created(sagemaker, name, created)
        if isinstance(exc, AWS_ERRORS):
            raise AwsOperationError(
                f"creating the A/B test {name!r} failed: {exc}; production unchanged",
                step="create_ab_test",
                aws_error_code=error_code(exc) or None,
                production_unchanged=True,
            ) from exc
        raise


def promoted_config(sagemaker: Any, ab_config: str) -> tuple[str, dict[str, Any], bool]:
    """``(name, challenger variant, exists)`` of the configuration a promotion switches to:
    the A/B configuration's name with ``challenger`` replaced by ``champion``."""
    promoted = ab_config.replace("challenger", "champion", 1)
    if promoted == ab_config:
        promoted = f"{ab_config[:57]}-champ"
    described = sagemaker.describe_endpoint_config(EndpointConfigName=ab_config)
    challenger = next(
        v for v in described["ProductionVariants"] if v["VariantName"] == CHALLENGER_VARIANT
    )
    try:
        sagemaker.describe_endpoint_config(EndpointConfigName=promoted)
        exists = True
    except AWS_ERRORS:
        exists = False
    return promoted, dict(challenger), exists


def create_promoted(
    sagemaker: Any, settings: FraudJlab, promoted: str, challenger: Mapping[str, Any]
) -> None:
    """The configuration serving the challenger's model alone (as ``Champion``)."""
    sagemaker.create_endpoint_config(
        EndpointConfigName=promoted,
        ProductionVariants=[
            variant(
                CHAMPION_VARIANT,
                str(challenger["ModelName"]),
                int(challenger.get("InitialInstanceCount", 1)),
                str(challenger["InstanceType"]),
                100.0,
            )
        ],
        DataCaptureConfig=data_capture_config(settings),
    )


def delete_created(sagemaker: Any, name: str, created: list[str]) -> None:
    """Delete what a failed start created, newest first (failures are logged, not raised)."""
    for kind in reversed(created):
        try:
            if kind == "shadow_config":
                sagemaker.delete_endpoint_config(EndpointConfigName=shadow_config_name(name))
            elif kind == "endpoint_config":
                sagemaker.delete_endpoint_config(EndpointConfigName=name)
            else:
                sagemaker.delete_model(ModelName=name)
        except Exception:
            log.exception("could not delete %s %s after a failed A/B start", kind, name)


__all__ = [
    "create_challenger",
    "create_promoted",
    "create_then_switch",
    "data_capture_config",
    "delete_created",
    "promoted_config",
    "start_plan",
    "variant",
]
