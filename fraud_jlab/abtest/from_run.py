"""Start an A/B test from a tracked run: the one core call the REST API and ``%fraud ab`` share.

The challenger's artifact is ``model_artifact_s3_path`` when given, else the S3 URI
``package_for_sagemaker`` tagged the run with (``sagemaker.model_data_url``), else the run's
saved model packaged at the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fraud_jlab.abtest.manager import ABTestingManager
from fraud_jlab.abtest.service import ABTestService, ABTestState
from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS, map_aws_error
from fraud_jlab.browse.names import resolve_run_ref
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.modelstore.sagemaker import package_for_sagemaker, sagemaker_package_uri
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


@dataclass(frozen=True)
class Challenger:
    """The challenger of an A/B test: a run and the SageMaker artifact it serves.

    ``needs_package``: the artifact is the URI of the run's saved model packaged by
    :func:`~fraud_jlab.modelstore.package_for_sagemaker`, not uploaded yet; the start uploads
    it (to the models bucket, not production) just before the audited deploy.
    """

    run_id: str
    artifact: str
    needs_package: bool = False


def challenger_artifact(
    tracker: TrackerStore, run_id: str, override: str | None, settings: FraudJlab
) -> Challenger:
    """``override``, else the run's package, else the package its saved model would make."""
    if override:
        return Challenger(run_id, override)
    artifact = tracker.get_run(run_id).tags.get(SAGEMAKER_URI_TAG)
    if artifact:
        return Challenger(run_id, str(artifact))
    try:
        uri = sagemaker_package_uri(run_id, tracker=tracker, settings=settings)
    except NotFoundError as exc:
        raise ValidationError(
            f"run {run_id} has no saved model to deploy (log one with Run.log_model) and no "
            f"SageMaker model package (tag {SAGEMAKER_URI_TAG}); or pass model_artifact_s3_path",
            field="model_artifact_s3_path",
        ) from exc
    return Challenger(run_id, uri, needs_package=True)


def resolve_challenger(
    tracker: TrackerStore, run_ref: str, override: str | None, settings: FraudJlab
) -> Challenger:
    """The challenger of the run named by id or unique name (404/400 otherwise)."""
    run_id = resolve_run_ref(run_ref, tracker=tracker)
    return challenger_artifact(tracker, run_id, override, settings)


def _check_models_bucket(s3: Any, uri: str) -> None:
    """The bucket a run's package would be uploaded to exists (ValidationError if not)."""
    bucket = uri[len("s3://") :].split("/", 1)[0]
    try:
        s3.head_bucket(Bucket=bucket)
    except AWS_ERRORS as exc:
        if error_code(exc) in ("404", "NoSuchBucket"):
            raise ValidationError(
                f"models bucket {bucket!r} does not exist, so the run's model cannot be packaged "
                "there: set FraudJlab.models_bucket or pass model_artifact_s3_path",
                field="model_artifact_s3_path",
            ) from exc
        raise map_aws_error(exc, service="s3", step="head_bucket", bucket=bucket) from exc


def start_challenger(
    service: ABTestService,
    tracker: TrackerStore,
    challenger: Challenger,
    *,
    approver: str,
    reason: str | None,
    shadow: bool = False,
    dry_run: bool = False,
    named_at: datetime | None = None,
) -> ABTestState | EndpointChangePlan:
    """Deploy the challenger beside production's champion (audited; a dry run writes nothing).

    ``named_at``: see :meth:`ABTestService.start` (the dry run's and the start's must agree).

    A run not packaged yet is packaged first (the dry run says so in its first change).
    """
    pending = challenger.needs_package
    if pending and dry_run:
        _check_models_bucket(service.manager.s3, challenger.artifact)
    if pending and not dry_run:
        manager = service.manager
        uploaded = package_for_sagemaker(
            challenger.run_id, tracker=tracker, s3_client=manager.s3, settings=manager.settings
        )
        if uploaded != challenger.artifact:  # the run's model changed since it was resolved
            raise ConflictError(
                f"run {challenger.run_id}'s saved model changed while starting (now {uploaded}); "
                "nothing was deployed: start again to deploy the current model"
            )
    result = service.start(
        challenger.run_id,
        challenger.artifact,
        approver=approver,
        reason=reason,
        shadow=shadow,
        dry_run=dry_run,
        artifact_pending=pending,
        named_at=named_at,
    )
    if pending and isinstance(result, EndpointChangePlan):
        result.changes.insert(
            0,
            f"PutObject {challenger.artifact}: package run {challenger.run_id}'s saved model "
            "(models bucket, not production)",
        )
    return result


__all__ = [
    "Challenger",
    "ab_service",
    "challenger_artifact",
    "resolve_challenger",
    "start_challenger",
]
