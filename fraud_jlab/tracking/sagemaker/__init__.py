"""The tracker contract on SageMaker Experiments (boto3 only): ``sagemaker:``.

``sagemaker:`` uses boto3's region chain; ``sagemaker:?region=eu-west-1`` overrides it and
``&bucket=<name>`` sets the S3 bucket for artifacts (default ``sagemaker-<region>-<account>``,
the SageMaker SDK's default bucket).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore

PREFIX = "sagemaker:"
_OPTIONS = ("region", "bucket", "prefix")


def from_uri(uri: str) -> TrackerStore:
    """``sagemaker:[?region=...&bucket=...&prefix=...]`` -> a SageMakerTrackerStore (entry point)."""
    from fraud_jlab.tracking.sagemaker.store import SageMakerTrackerStore

    rest = uri[len(PREFIX) :] if uri.startswith(PREFIX) else None
    if rest is None or (rest and not rest.startswith("?")):
        raise ValidationError(
            f"tracking_uri {uri[:60]!r} must look like 'sagemaker:' or "
            "'sagemaker:?region=eu-west-1&bucket=my-bucket'",
            field="tracking_uri",
        )
    options = dict(parse_qsl(rest[1:], keep_blank_values=False))
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValidationError(
            f"tracking_uri option(s) {', '.join(unknown)} unknown; allowed: {', '.join(_OPTIONS)}",
            field="tracking_uri",
        )
    return SageMakerTrackerStore(
        region=options.get("region"),
        artifact_bucket=options.get("bucket"),
        artifact_prefix=options.get("prefix", "fraud-jlab/artifacts"),
    )
