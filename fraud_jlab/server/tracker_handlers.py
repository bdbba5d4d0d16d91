"""``GET tracker``: which tracker the server uses, its URI and whether it answers.

The sidebar shows the backend and URI, and when runs cannot be loaded it shows this
route's ``error`` (the cause: connection refused, access denied, ...) instead of an
empty table. The URI is redacted (no passwords or tokens).
"""

from __future__ import annotations

from typing import Any

import tornado.web
from pydantic import BaseModel, Field

from fraud_jlab.redact import redact_text, redact_uri
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation

#: Longest cause shown.
MAX_ERROR_LENGTH = 500


class TrackerStatus(BaseModel):
    """The tracker in use and whether it answered one cheap request."""

    backend: str = Field(
        description="Class name of the tracker store, e.g. 'SageMakerTrackerStore'."
    )
    uri: str = Field(description="The tracking URI with credentials redacted.")
    reachable: bool = Field(description="True when the tracker answered.")
    error: str | None = Field(
        default=None, description="Why the tracker did not answer (redacted); null when reachable."
    )


def tracker_status(tracker: Any, uri: str) -> TrackerStatus:
    """Ask ``tracker`` one cheap question; its failure becomes ``error``, never an exception."""
    try:
        tracker.check()
    except Exception as exc:  # the cause of any failure is what the panel shows
        message = redact_text(f"{type(exc).__name__}: {exc}")
        return TrackerStatus(
            backend=type(tracker).__name__,
            uri=redact_uri(uri),
            reachable=False,
            error=message[:MAX_ERROR_LENGTH],
        )
    return TrackerStatus(backend=type(tracker).__name__, uri=redact_uri(uri), reachable=True)


class TrackerHandler(FraudJlabHandler):
    """``GET tracker``: backend, redacted URI and reachability of the tracker."""

    operations = {
        "get": Operation(
            operation_id="getTracker",
            summary="The tracker in use, its URI and whether it answers",
            tags=("runs",),
            responses={200: TrackerStatus},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        status = await self.run_blocking(
            tracker_status, self.tracker, self.fraud_settings.tracking_uri
        )
        self.write_model(status)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    """Routes of this module, relative to ``<base_url>fraud-jlab/api/``."""
    return [(r"tracker", TrackerHandler)]
