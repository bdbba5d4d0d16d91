"""Bounded waits for an MLflow tracking *server*, and one clear error when it is down.

MLflow's HTTP client defaults (120 s timeout, 7 retries with a backoff factor of 2)
make one request to an unreachable server hang for about four minutes, and a
sidebar request with it. fraud_jlab sets smaller defaults for the MLflow settings
below when the user has not set them (the environment always wins), so an
unreachable server fails in seconds; :class:`GuardedClient` turns the resulting
connection failures into :class:`~fraud_jlab.errors.TrackerUnavailable` (HTTP 503)
naming the redacted URI and the cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from mlflow.exceptions import MlflowException

from fraud_jlab.errors import TrackerUnavailable
from fraud_jlab.redact import redact_text, redact_uri

#: MLflow setting -> the value fraud_jlab uses when it is unset: a 10 s timeout per
#: request (connect and read), 2 retries, backoff 1 s then 2 s.
HTTP_DEFAULTS: Mapping[str, str] = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}
#: Words of MLflow's message when a request never got an HTTP answer.
_NO_ANSWER = (
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Connection refused",
    "Read timed out",
    "timed out",
    "Name or service not known",
    "RemoteDisconnected",
)


def is_http_uri(uri: str) -> bool:
    """True for an MLflow tracking server URI (``http(s)://...``)."""
    return uri.startswith(("http://", "https://"))


def apply_http_bounds(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set each of :data:`HTTP_DEFAULTS` that is not set already; returns what was set."""
    env: Any = os.environ if environ is None else environ
    applied: dict[str, str] = {}
    for name, value in HTTP_DEFAULTS.items():
        if not env.get(name):
            env[name] = value
            applied[name] = value
    return applied


def no_answer(exc: MlflowException) -> bool:
    """True when ``exc`` says the server never answered (refused, timed out, unknown host)."""
    text = str(exc.message if hasattr(exc, "message") else exc)
    return "API request to" in text and any(word in text for word in _NO_ANSWER)


class GuardedClient:
    """An ``MlflowClient`` whose calls raise TrackerUnavailable when the server does not answer.

    Every other attribute and exception passes through unchanged.
    """

    def __init__(self, client: Any, uri: str) -> None:
        self._client = client
        self._uri = redact_uri(uri)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr
        return self._guard(attr)

    def _guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except MlflowException as exc:
                if no_answer(exc):
                    raise TrackerUnavailable(self._uri, _cause(exc)) from None
                raise

        return call


def _cause(exc: MlflowException) -> str:
    """The shortest useful cause of a connection failure, credentials redacted."""
    text = redact_text(str(exc.message))
    for marker in ("Caused by ", "with exception "):
        if marker in text:
            text = text.split(marker, 1)[1]
            break
    text = text.strip("()\"' ")
    return text[:300] + (" ..." if len(text) > 300 else "")
