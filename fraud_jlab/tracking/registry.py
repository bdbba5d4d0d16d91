"""Choose a tracking backend from a URI.

``sqlite:///<absolute path>`` (or a bare file path) -> the embedded SQLite store;
``mlflow+<uri>`` -> the MLflow backend; ``sagemaker://`` -> SageMaker
Experiments. The URI comes from ``FraudJlab.tracking_uri``
(``FRAUD_JLAB_TRACKING_URI``), so switching backends is configuration, not code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from fraud_jlab.config import get_settings
from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore

_lock = threading.Lock()
_trackers: dict[str, TrackerStore] = {}
_override: TrackerStore | None = None


def _sqlite(rest: str) -> TrackerStore:
    from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore

    return SqliteTrackerStore(Path(rest))


def _mlflow(rest: str) -> TrackerStore:
    from fraud_jlab.tracking.mlflow_store import MlflowTrackerStore

    return MlflowTrackerStore(rest)


def _sagemaker(rest: str) -> TrackerStore:
    from fraud_jlab.tracking.sagemaker_store import SageMakerTrackerStore

    return SageMakerTrackerStore()


_SCHEMES: dict[str, Callable[[str], TrackerStore]] = {
    "sqlite:///": _sqlite,
    "mlflow+": _mlflow,
    "sagemaker://": _sagemaker,
}


def tracker_from_uri(uri: str) -> TrackerStore:
    """A tracker for ``uri``; the same URI returns the same (thread-safe) instance."""
    if not isinstance(uri, str) or not uri.strip():
        raise ValidationError("tracking_uri must be a non-empty string", field="tracking_uri")
    uri = uri.strip()
    with _lock:
        if uri in _trackers:
            return _trackers[uri]
        for prefix, factory in _SCHEMES.items():
            if uri.startswith(prefix):
                store = factory(uri[len(prefix) :])
                break
        else:
            if "://" in uri:
                raise ValidationError(
                    f"tracking_uri {uri!r} has an unknown scheme; use one of "
                    + ", ".join(repr(s) for s in _SCHEMES)
                    + " or a file path",
                    field="tracking_uri",
                )
            store = _sqlite(uri)
        _trackers[uri] = store
        return store


def get_tracker() -> TrackerStore:
    """The tracker for the configured ``tracking_uri`` (or the one set by :func:`set_tracker`)."""
    if _override is not None:
        return _override
    return tracker_from_uri(get_settings().tracking_uri)


def set_tracker(tracker: TrackerStore | None) -> None:
    """Use ``tracker`` for every call that is not given one explicitly (``None`` restores the default)."""
    global _override
    _override = tracker
