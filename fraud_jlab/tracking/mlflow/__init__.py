"""The tracker contract on MLflow (``MlflowTrackerStore``; extra ``fraud_jlab[mlflow]``).

This package imports MLflow only when a store is opened, so the entry point loads
(and names the missing extra) without MLflow installed.
"""

from __future__ import annotations

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore

PREFIX = "mlflow+"


def from_uri(uri: str) -> TrackerStore:
    """``mlflow+<MLflow tracking URI>``, e.g. ``mlflow+http://host:5000`` (entry point)."""
    if not uri.startswith(PREFIX):
        raise ValidationError(
            f"tracking_uri must look like 'mlflow+<MLflow tracking URI>', got {uri[:40]!r}",
            field="tracking_uri",
        )
    try:
        from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "mlflow":
            raise
        raise ValidationError(
            "tracking_uri 'mlflow+...' needs MLflow: pip install 'fraud_jlab[mlflow]'",
            field="tracking_uri",
        ) from None
    return MlflowTrackerStore(uri[len(PREFIX) :])
