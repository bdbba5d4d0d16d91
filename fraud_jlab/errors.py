"""Domain errors shared by every fraud_jlab entry point.

Each error carries enough context to tell the user what went wrong and what
to do. The server maps these classes to HTTP status codes in exactly one
place (``fraud_jlab.server.errors.error_status_and_body``); the magic and widgets print ``str(err)``.

Class            HTTP  Meaning
---------------  ----  ------------------------------------------------------
ValidationError  400   bad input; names the field and the allowed range
NotFoundError    404   an id (run, promotion, experiment, ...) does not exist
ConflictError    409   another operation holds the lock, or state went stale
AccessDenied     403   the caller or the AWS role lacks a permission
AwsOperationError 502  an AWS call failed; says whether production changed
AwsAccessDenied  403   an AWS call was denied (an AccessDenied carrying the
                       AwsOperationError fields: step, code, production_unchanged)
PayloadTooLarge  413   a request body is larger than the configured limit
TrackerUnavailable 503 the experiment tracker did not answer (URI redacted, cause)
"""

from __future__ import annotations

from collections.abc import Sequence

#: How many characters of a user-supplied value an error message echoes.
ECHO_LIMIT = 100


def shorten(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters for long input.

    ``shorten("x" * 40000)`` -> ``'xxx…'... (40000 characters)`` so a hostile
    40 KB identifier is not echoed back in full.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, (str, bytes)) else len(text)
    return f"{text[:limit]}... ({size} characters)"


class FraudJlabError(Exception):
    """Base class of every error fraud_jlab raises on purpose."""


class ValidationError(FraudJlabError, ValueError):
    """Input rejected before anything was written.

    ``errors`` lists every problem found (one message each), so a caller can
    show all of them at once instead of fixing one per round trip.
    """

    def __init__(self, message: str, *, field: str | None = None, errors: Sequence[str] = ()):
        self.field = field
        self.errors: list[str] = list(errors) if errors else [message]
        super().__init__(message)


class NotFoundError(FraudJlabError, LookupError):
    """A named object (run, experiment, promotion, artifact) does not exist."""

    def __init__(self, kind: str, identifier: str, hint: str = ""):
        self.kind = kind
        self.identifier = identifier
        msg = f"Unknown {kind}: {shorten(identifier)}."
        if hint:
            msg += f" {hint}"
        super().__init__(msg)


class ConflictError(FraudJlabError):
    """The operation cannot proceed because of concurrent or stale state."""


class AccessDenied(FraudJlabError, PermissionError):
    """A permission is missing (Jupyter user or AWS IAM role)."""


class PayloadTooLarge(FraudJlabError):
    """A request body is larger than ``limit`` bytes (``FraudJlab.max_body_bytes``)."""

    def __init__(self, size: int, limit: int, setting: str = "FraudJlab.max_body_bytes"):
        self.size = size
        self.limit = limit
        super().__init__(
            f"Request body is {size} bytes: allowed 0..{limit} bytes (set c.{setting} to change)"
        )


class AwsOperationError(FraudJlabError, RuntimeError):
    """An AWS call failed.

    ``production_unchanged`` is True when fraud_jlab verified (or restored) the
    production state to exactly what it was before the operation started.
    """

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        aws_error_code: str | None = None,
        production_unchanged: bool | None = None,
        service: str | None = None,
    ):
        self.step = step
        self.aws_error_code = aws_error_code
        self.production_unchanged = production_unchanged
        #: The boto3 service the failed call went to (None when unknown).
        self.service = service
        super().__init__(message)

    def amend(self, suffix: str, *, production_unchanged: bool | None = None) -> None:
        """Add what the caller knows (``suffix`` to the message, ``production_unchanged``)
        to this error as it passes through; the caller re-raises the same error."""
        if suffix:
            self.args = (f"{self.args[0]}. {suffix}" if self.args else suffix, *self.args[1:])
        if production_unchanged is not None:
            self.production_unchanged = production_unchanged


class AwsAccessDenied(AccessDenied, AwsOperationError):
    """AWS refused a call for lack of an IAM permission (403, with the failed step)."""

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        aws_error_code: str | None = None,
        production_unchanged: bool | None = None,
        service: str | None = None,
    ):
        AwsOperationError.__init__(
            self,
            message,
            step=step,
            aws_error_code=aws_error_code,
            production_unchanged=production_unchanged,
            service=service,
        )


class TrackerUnavailable(FraudJlabError):
    """The experiment tracker (an MLflow server, SageMaker) could not be reached in time.

    The message names the tracker's URI with credentials redacted and the cause;
    nothing was written by the call that failed.
    """

    def __init__(self, uri: str, cause: str):
        self.uri = uri
        self.cause = cause
        super().__init__(f"The tracker at {uri} did not answer: {cause}")


__all__ = [
    "AccessDenied",
    "AwsAccessDenied",
    "AwsOperationError",
    "ConflictError",
    "FraudJlabError",
    "NotFoundError",
    "PayloadTooLarge",
    "TrackerUnavailable",
    "ValidationError",
]
