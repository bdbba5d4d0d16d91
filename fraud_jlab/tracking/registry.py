"""Choose a tracking backend from a URI.

``sqlite:///<absolute path>`` (or a bare file path) -> the embedded SQLite store;
``mlflow+<MLflow tracking URI>`` (``mlflow+http://host:5000``,
``mlflow+sqlite:////path/mlflow.db``) -> MLflow (extra ``fraud_jlab[mlflow]``).
The URI comes from ``FraudJlab.tracking_uri`` (``FRAUD_JLAB_TRACKING_URI``), so
switching backends is configuration, not code: a backend registers its scheme
with :func:`register_scheme` (a factory taking the rest of the URI).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from fraud_jlab.config import get_settings
from fraud_jlab.errors import ValidationError
from fraud_jlab.redact import redact_uri
from fraud_jlab.tracking.contract import TrackerStore

_lock = threading.Lock()
_trackers: dict[str, TrackerStore] = {}
_override: TrackerStore | None = None


def _sqlite(rest: str) -> TrackerStore:
    from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

    return SqliteTrackerStore(Path(rest))


def _mlflow(rest: str) -> TrackerStore:
    """``mlflow+<MLflow tracking URI>``, e.g. ``mlflow+http://host:5000``."""
    try:
        from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "mlflow":
            raise
        raise ValidationError(
            "tracking_uri 'mlflow+...' needs MLflow: pip install 'fraud_jlab[mlflow]'",
            field="tracking_uri",
        ) from None
    return MlflowTrackerStore(rest)


_SCHEMES: dict[str, Callable[[str], TrackerStore]] = {"sqlite:///": _sqlite, "mlflow+": _mlflow}


def register_scheme(prefix: str, factory: Callable[[str], TrackerStore]) -> None:
    """Serve tracking URIs starting with ``prefix`` (e.g. ``"mlflow+"``) with ``factory(rest)``."""
    if "://" not in prefix and not prefix.endswith("+"):
        raise ValidationError(
            f"scheme prefix {prefix!r} must end with '://' or '+'", field="prefix"
        )
    with _lock:
        _SCHEMES[prefix] = factory


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
                    f"tracking_uri {redact_uri(uri)!r} has an unknown scheme; use one of "
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
