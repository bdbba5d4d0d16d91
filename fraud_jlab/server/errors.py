"""The one mapping from fraud_jlab's domain errors (and request-parsing errors) to HTTP.

ValidationError 400, AccessDenied 403, NotFoundError 404, ConflictError 409,
PayloadTooLarge 413, AwsOperationError 502, TrackerUnavailable 503, anything else
500 with the text hidden (the handler logs the traceback). Handlers never catch
domain errors themselves; :meth:`fraud_jlab.server.base.FraudJlabHandler.send_error`
and the background-job registry call :func:`error_status_and_body`.
"""

from __future__ import annotations

from http.client import responses
from typing import Any

import pydantic
from tornado.web import HTTPError

from fraud_jlab.errors import (
    AccessDenied,
    AwsOperationError,
    ConflictError,
    NotFoundError,
    PayloadTooLarge,
    TrackerUnavailable,
    ValidationError,
)


def _pydantic_errors(exc: pydantic.ValidationError) -> tuple[list[str], str | None]:
    """One readable line per pydantic error, plus the dotted location of the first one."""
    lines: list[str] = []
    first_field: str | None = None
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        if first_field is None and loc:
            first_field = loc
        lines.append(
            f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))
        )
    return lines, first_field


#: Caps on an error body: message characters, entries of ``errors``, characters of each.
MAX_ERROR_MESSAGE = 1000
MAX_ERROR_ENTRIES = 20
MAX_ERROR_ENTRY = 300


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... (truncated, {len(text)} characters)"


def error_status_and_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """Map an exception to ``(status, {"message", "errors", "field"})``.

    The single mapping from :mod:`fraud_jlab.errors` to HTTP; 500 hides the
    exception text (the caller logs the traceback). The body is capped (message,
    number and size of ``errors``, ``field``) so echoed input never makes it large.
    """
    status, body = _status_and_body(exc)
    errors = [_cap(str(e), MAX_ERROR_ENTRY) for e in body["errors"][:MAX_ERROR_ENTRIES]]
    if len(body["errors"]) > MAX_ERROR_ENTRIES:
        errors.append(f"... and {len(body['errors']) - MAX_ERROR_ENTRIES} more")
    field = body["field"]
    return status, {
        "message": _cap(str(body["message"]), MAX_ERROR_MESSAGE),
        "errors": errors,
        "field": _cap(field, 100) if isinstance(field, str) else field,
    }


def _status_and_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, pydantic.ValidationError):
        lines, field = _pydantic_errors(exc)
        message = "Invalid request: " + "; ".join(lines)
        return 400, {"message": message, "errors": lines, "field": field}
    if isinstance(exc, ValidationError):
        return 400, {"message": str(exc), "errors": list(exc.errors), "field": exc.field}
    if isinstance(exc, (AccessDenied, PermissionError)):
        return 403, {"message": str(exc) or "Forbidden", "errors": [], "field": None}
    if isinstance(exc, NotFoundError):
        return 404, {"message": str(exc), "errors": [], "field": None}
    if isinstance(exc, ConflictError):
        return 409, {"message": str(exc), "errors": [], "field": None}
    if isinstance(exc, PayloadTooLarge):
        return 413, {"message": str(exc), "errors": [], "field": "body"}
    if isinstance(exc, AwsOperationError):
        return 502, {"message": str(exc), "errors": [], "field": None}
    if isinstance(exc, TrackerUnavailable):
        return 503, {"message": str(exc), "errors": [], "field": None}
    if isinstance(exc, HTTPError):
        status = exc.status_code
        message = exc.log_message or exc.reason or responses.get(status, "Error")
        if exc.log_message and exc.args:
            try:
                message = exc.log_message % exc.args
            except (TypeError, ValueError):
                message = exc.log_message
        return status, {"message": message, "errors": [], "field": None}
    return 500, {
        "message": "Internal server error; the traceback is in the Jupyter server log.",
        "errors": [],
        "field": None,
    }
