"""Request/response models of the REST API that are not core models.

Core models (``RunSummary``, ``RunDetail``, ``RunsPage``, ``ExperimentSummary``)
live in ``fraud_jlab.tracking.contract`` and are served unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from fraud_jlab.tracking.contract import ExperimentSummary


class ErrorBody(BaseModel):
    """Error response of every fraud_jlab endpoint."""

    message: str = Field(description="What went wrong and, for bad input, the allowed values.")
    errors: list[str] = Field(
        default_factory=list, description="Every problem found (one line each)."
    )
    field: str | None = Field(default=None, description="The offending field or query argument.")


class ExperimentsResponse(BaseModel):
    """Every experiment with its run count."""

    experiments: list[ExperimentSummary]


class InfoResponse(BaseModel):
    """Server extension version, settings and tracking backend."""

    version: str = Field(description="fraud_jlab Python package version.")
    settings: dict[str, Any] = Field(description="Every FraudJlab setting (none is secret).")
    tracking_backend: str = Field(description="Class name of the tracker store in use.")


__all__ = ["ErrorBody", "ExperimentsResponse", "InfoResponse"]
