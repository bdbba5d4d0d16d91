"""The one mapping from botocore errors to fraud_jlab domain errors.

Every part that calls AWS (promotion, data sets, tuning, A/B testing) classifies a failure
with the code lists below and raises the domain error of :mod:`fraud_jlab.errors`, once:

=================  ============================================  ==========================
kind               codes                                          domain error
=================  ============================================  ==========================
access denied      :data:`ACCESS_DENIED_CODES`                    ``AwsAccessDenied`` (403)
not found          :data:`NOT_FOUND_CODES` (+ SageMaker's         ``NotFoundError`` (404)
                   "Could not find" ``ValidationException``)      when the caller names it
throttling         :data:`THROTTLING_CODES` (after botocore's     ``AwsOperationError`` (502)
                   adaptive retries, see ``fraud_jlab.aws``)
5xx                HTTP status >= 500, :data:`SERVER_ERROR_CODES`  ``AwsOperationError`` (502)
=================  ============================================  ==========================

A missing IAM permission names the permission; a missing bucket names the bucket and
the setting to fix; ``ParameterLimitExceeded`` suggests cleaning up or a limit increase.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from fraud_jlab.aws.clients import error_code
from fraud_jlab.errors import AwsAccessDenied, AwsOperationError, FraudJlabError, NotFoundError

#: boto3 service name -> IAM action prefix.
_IAM_PREFIX = {"s3": "s3", "ssm": "ssm", "stepfunctions": "states", "sagemaker": "sagemaker"}
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "Forbidden",
        "403",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
    }
)
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
NOT_FOUND_CODES = frozenset(
    {"NoSuchKey", "404", "NotFound", "ParameterNotFound", "ResourceNotFound"}
)
SERVER_ERROR_CODES = frozenset(
    {"InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable", "500", "503"}
)
PRECONDITION_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})

#: What an AWS call raises when it fails (a ClientError from the service, a BotoCoreError
#: for connection, timeout and credential problems).
AWS_ERRORS: tuple[type[BaseException], ...] = (ClientError, BotoCoreError)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a botocore ``ClientError`` (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if isinstance(status, int) else None
    return None


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in ACCESS_DENIED_CODES


def is_throttled(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def is_server_error(exc: BaseException) -> bool:
    status = http_status(exc)
    return error_code(exc) in SERVER_ERROR_CODES or (status is not None and status >= 500)


def is_not_found(exc: BaseException) -> bool:
    """A missing object: S3/SSM not-found codes, or SageMaker's "Could not find" validation."""
    code = error_code(exc)
    if code in NOT_FOUND_CODES:
        return True
    text = str(exc).lower()
    return code in ("ValidationException", "ValidationError") and (
        "could not find" in text or "not found" in text or "not find" in text
    )


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
        text = f"{operation} failed with {code or 'an error'}" + (f": {message}" if message else "")
        if is_server_error(exc):
            text += " (an AWS service error; try again later)"
        return text
    if isinstance(exc, BotoCoreError):
        return f"AWS request failed: {exc}"
    return f"{type(exc).__name__}: {exc}"


def aws_error(
    exc: BaseException,
    message: str,
    *,
    step: str,
    not_found: tuple[str, str] | None = None,
    production_unchanged: bool | None = None,
    service: str | None = None,
) -> FraudJlabError:
    """The domain error for a failed AWS call: ``message`` says what was being done.

    Access denied -> :class:`AccessDenied`; a missing object -> :class:`NotFoundError`
    when ``not_found`` names it (``(kind, identifier)``); everything else (throttling
    after retries, 5xx, other codes) -> :class:`AwsOperationError` carrying ``step``,
    the AWS code and ``production_unchanged``.
    """
    if not_found is not None and is_not_found(exc):
        return NotFoundError(*not_found)
    kind = AwsAccessDenied if is_access_denied(exc) else AwsOperationError
    return kind(
        message,
        step=step,
        aws_error_code=error_code(exc) or type(exc).__name__,
        production_unchanged=production_unchanged,
        service=service,
    )


def map_aws_error(
    exc: BaseException,
    *,
    service: str,
    step: str,
    bucket: str | None = None,
    suffix: str = "",
    production_unchanged: bool | None = None,
) -> FraudJlabError:
    """:func:`aws_error` with the message "Step '<step>': <describe_aws_error>. <suffix>"."""
    text = f"Step '{step}': {describe_aws_error(exc, service=service, bucket=bucket)}"
    if suffix:
        text += f". {suffix}"
    return aws_error(
        exc, text, step=step, production_unchanged=production_unchanged, service=service
    )


@contextmanager
def amended(suffix: str, *, production_unchanged: bool | None = None) -> Iterator[None]:
    """Add ``suffix`` (and ``production_unchanged``) to an AWS error raised in the block.

    The error is the one the AWS call raised (see :func:`map_aws_error`), amended and
    re-raised as is: an entry point says what it knows ("nothing was written") without
    wrapping or re-mapping the failure.
    """
    try:
        yield
    except AwsOperationError as err:
        err.amend(suffix, production_unchanged=production_unchanged)
        raise
