"""The embedded tracker: a SQLite file plus an artifact directory (``SqliteTrackerStore``)."""

from __future__ import annotations

from pathlib import Path

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore

PREFIX = "sqlite:///"


def from_uri(uri: str) -> TrackerStore:
    """``sqlite:///<path>`` or a bare file path -> a :class:`SqliteTrackerStore` (entry point)."""
    from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

    if uri.startswith(PREFIX):
        return SqliteTrackerStore(Path(uri[len(PREFIX) :]))
    if uri.lower().startswith("sqlite:"):
        raise ValidationError(
            f"tracking_uri {uri!r} must look like 'sqlite:///<absolute path>'",
            field="tracking_uri",
        )
    return SqliteTrackerStore(Path(uri))
