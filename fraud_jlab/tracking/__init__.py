"""Experiment tracking: the tracker contract, its backends (SQLite, MLflow, SageMaker Experiments) and the ``Run`` API."""

from fraud_jlab.tracking.contract import (
    ArtifactInfo,
    ExperimentSummary,
    RunDetail,
    RunsPage,
    RunStatus,
    RunSummary,
    TrackerEvent,
    TrackerStore,
)
from fraud_jlab.tracking.registry import get_tracker, set_tracker, tracker_from_uri
from fraud_jlab.tracking.run import Run, get_run, search_runs

__all__ = [
    "ArtifactInfo",
    "ExperimentSummary",
    "Run",
    "RunDetail",
    "RunStatus",
    "RunSummary",
    "RunsPage",
    "TrackerEvent",
    "TrackerStore",
    "get_run",
    "get_tracker",
    "search_runs",
    "set_tracker",
    "tracker_from_uri",
]
