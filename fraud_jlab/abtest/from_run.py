"""Start an A/B test from a tracked run: the one core call the REST API and ``%fraud ab`` share.

The challenger's artifact is ``model_artifact_s3_path`` when given, else the S3 URI
``package_for_sagemaker`` tagged the run with (``sagemaker.model_data_url``).
"""

from __future__ import annotations

from typing import Any

from fraud_jlab.abtest.manager import ABTestingManager
from fraud_jlab.abtest.service import ABTestService, ABTestState
from fraud_jlab.browse.names import resolve_run_ref
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.promotion.spec import SAGEMAKER_URI_TAG
from fraud_jlab.tracking.contract import TrackerStore


def ab_service(
    settings: FraudJlab, *, sagemaker: Any = None, s3: Any = None, cloudwatch: Any = None
) -> ABTestService:
    """The A/B test service on ``settings``' production endpoint and config bucket."""
    return ABTestService(
        ABTestingManager(settings, sagemaker_client=sagemaker, s3_client=s3),
        cloudwatch=cloudwatch,
    )


def challenger_artifact(tracker: TrackerStore, run_id: str, override: str | None) -> str:
    """``override``, else the run's packaged model; ValidationError when it has none."""
    if override:
        return override
    artifact = tracker.get_run(run_id).tags.get(SAGEMAKER_URI_TAG)
    if not artifact:
        raise ValidationError(
            f"run {run_id} has no SageMaker model package (tag {SAGEMAKER_URI_TAG}); package it "
            "with fraud_jlab.modelstore.package_for_sagemaker or pass model_artifact_s3_path",
            field="model_artifact_s3_path",
        )
    return str(artifact)


def resolve_challenger(
    tracker: TrackerStore, run_ref: str, override: str | None
) -> tuple[str, str]:
    """``(run id, artifact URI)`` of the run named by id or unique name (404/400 otherwise)."""
    run_id = resolve_run_ref(run_ref, tracker=tracker)
    return run_id, challenger_artifact(tracker, run_id, override)


def start_from_run(
    service: ABTestService,
    tracker: TrackerStore,
    run_ref: str,
    *,
    model_artifact_s3_path: str | None,
    approver: str,
    reason: str | None,
    dry_run: bool = False,
) -> ABTestState | EndpointChangePlan:
    """Deploy the run's model as the challenger beside production's champion (audited)."""
    run_id, artifact = resolve_challenger(tracker, run_ref, model_artifact_s3_path)
    return service.start(run_id, artifact, approver=approver, reason=reason, dry_run=dry_run)


__all__ = ["ab_service", "challenger_artifact", "resolve_challenger", "start_from_run"]
