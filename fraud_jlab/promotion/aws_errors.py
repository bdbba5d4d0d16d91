"""Turn botocore errors into fraud_jlab domain errors with actionable messages.

The design's "Error Handling" section: a missing IAM permission names the
permission; a missing bucket names the bucket and the setting to fix;
``ParameterLimitExceeded`` suggests cleaning up or a limit increase;
throttling (already retried with backoff by the clients, see
``fraud_jlab.aws``) says so.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from fraud_jlab.aws import error_code
from fraud_jlab.errors import AccessDenied, AwsOperationError, FraudJlabError

#: boto3 service name -> IAM action prefix.
_IAM_PREFIX = {"s3": "s3", "ssm": "ssm", "stepfunctions": "states"}
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403"})
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound", "ParameterNotFound"})
PRECONDITION_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def permission_for(service: str, operation: str) -> str:
    """The IAM action an operation needs, e.g. ``ssm:PutParameter``."""
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def operation_of(exc: BaseException) -> str:
    """The botocore operation name of a ClientError ('' when unknown)."""
    return str(getattr(exc, "operation_name", "") or "")


def describe_aws_error(
    exc: BaseException,
    *,
    service: str,
    bucket: str | None = None,
    bucket_setting: str = "c.FraudJlab.config_bucket",
) -> str:
    """One sentence explaining an AWS failure and what to do about it."""
    code = error_code(exc)
    operation = operation_of(exc) or "the call"
    if code in ACCESS_DENIED_CODES:
        return (
            f"Access denied: the IAM role lacks {permission_for(service, operation)}"
            + (f" on bucket {bucket}" if bucket and service == "s3" else "")
            + f"; grant {permission_for(service, operation)} to the role"
        )
    if code == "NoSuchBucket":
        return (
            f"S3 bucket {bucket!r} does not exist; create it or set {bucket_setting} "
            "(env FRAUD_JLAB_CONFIG_BUCKET) to an existing bucket"
        )
    if code == "ParameterLimitExceeded":
        return "Parameter Store limit exceeded; clean up old parameters or request a limit increase"
    if code in THROTTLING_CODES:
        return f"AWS throttled {operation} ({code}) and retries with backoff were exhausted; try again later"
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{operation} failed with {code or 'an error'}" + (f": {message}" if message else "")
    if isinstance(exc, BotoCoreError):
        return f"AWS request failed: {exc}"
    return f"{type(exc).__name__}: {exc}"


def map_aws_error(
    exc: BaseException,
    *,
    service: str,
    step: str,
    bucket: str | None = None,
    suffix: str = "",
    production_unchanged: bool | None = None,
) -> FraudJlabError:
    """A domain error for a failed AWS call at ``step`` (``suffix`` appended to the message)."""
    text = f"Step '{step}': {describe_aws_error(exc, service=service, bucket=bucket)}"
    if suffix:
        text += f". {suffix}"
    if error_code(exc) in ACCESS_DENIED_CODES:
        return AccessDenied(text)
    return AwsOperationError(
        text,
        step=step,
        aws_error_code=error_code(exc) or type(exc).__name__,
        production_unchanged=production_unchanged,
    )


AWS_ERRORS: tuple[type[BaseException], ...] = (ClientError, BotoCoreError)
