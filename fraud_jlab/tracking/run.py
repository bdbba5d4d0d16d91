"""``Run``: the user-facing tracking API (shaped like SageMaker Experiments' ``Run``).

Example::

    from fraud_jlab import Run, search_runs
    with Run(experiment_name="fraud-detection-optimization", run_name="xgb-1") as run:
        run.log_parameters({"max_depth": 7, "eta": 0.15})
        run.log_metric("accuracy", 0.961)
        run.log_file("model.json", is_output=True)
    page = search_runs("metrics.accuracy >= 0.95", order_by=["metrics.auc_roc DESC"])

Captured automatically: a time-sortable run id, start/end time, status
(``failed`` when the ``with`` block raises; the exception propagates), user,
code version and dependency versions. ``log_dataset`` records a dataset's
content hash as the run's dataset version.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking import capture
from fraud_jlab.tracking.contract import RunDetail, RunsPage, RunStatus, TrackerStore
from fraud_jlab.tracking.registry import get_tracker

if TYPE_CHECKING:
    from fraud_jlab.tracking.saved_models import ModelInfo


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Run:
    """A tracked run; use as a context manager, or call :meth:`start` / :meth:`end`."""

    def __init__(
        self,
        experiment_name: str,
        run_name: str | None = None,
        *,
        parent: Run | str | None = None,
        tags: Mapping[str, str] | None = None,
        tracker: TrackerStore | None = None,
    ) -> None:
        if not isinstance(experiment_name, str) or not experiment_name.strip():
            raise ValidationError(
                "experiment_name must be a non-empty string", field="experiment_name"
            )
        self.experiment_name = experiment_name.strip()
        self.run_name = (run_name or "").strip() or f"run-{_now():%Y%m%d-%H%M%S-%f}"
        self._parent_id = parent.run_id if isinstance(parent, Run) else parent
        self._tags = dict(tags or {})
        self._tracker = tracker
        self._run_id: str | None = None
        self._ended = False

    # --- lifecycle ---------------------------------------------------------
    @property
    def tracker(self) -> TrackerStore:
        if self._tracker is None:
            self._tracker = get_tracker()
        return self._tracker

    @property
    def run_id(self) -> str:
        if self._run_id is None:
            raise RuntimeError("Run has not started; use it as a context manager or call start().")
        return self._run_id

    def start(self) -> Run:
        """Create the run in the tracker (status ``running``)."""
        if self._run_id is not None:
            return self
        self._run_id = self.tracker.create_run(
            self.experiment_name,
            self.run_name,
            user=capture.current_user(),
            start_time=_now(),
            parent_run_id=self._parent_id,
            tags=self._tags,
            code_version=capture.code_version(),
            dependencies=capture.dependency_versions(),
        )
        return self

    def end(self, status: RunStatus = "completed") -> None:
        """Finish the run; idempotent."""
        if self._run_id is None or self._ended:
            return
        self.tracker.end_run(self._run_id, status, end_time=_now())
        self._ended = True

    def __enter__(self) -> Run:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and self._run_id is not None:
            self.set_tag("error", f"{exc_type.__name__}: {exc}"[:500])
        self.end("failed" if exc_type is not None else "completed")

    # --- logging -----------------------------------------------------------
    def log_parameter(self, name: str, value: Any) -> None:
        self.log_parameters({name: value})

    def log_parameters(self, params: Mapping[str, Any]) -> None:
        self.tracker.log_params(self.run_id, params)

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        self.tracker.log_metrics(self.run_id, {name: value}, step=step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self.tracker.log_metrics(self.run_id, metrics, step=step)

    def set_tag(self, name: str, value: str) -> None:
        self.tracker.set_tags(self.run_id, {name: value})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.tracker.set_tags(self.run_id, tags)

    def log_file(
        self, file_path: str | Path, name: str | None = None, is_output: bool = True
    ) -> None:
        """Copy a local file into the run's artifact store (``name`` defaults to its file name)."""
        path = Path(file_path)
        if not path.is_file():
            raise ValidationError(
                f"file_path {str(path)!r} is not an existing file", field="file_path"
            )
        self.tracker.log_artifact(self.run_id, path, artifact_path=name, is_output=is_output)

    def log_artifact(self, name: str, content: str | bytes, is_output: bool = True) -> None:
        """Store in-memory content (text or bytes) as an artifact named ``name``."""
        data = content.encode() if isinstance(content, str) else content
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp) / Path(name).name
            tmp_path.write_bytes(data)
            self.tracker.log_artifact(
                self.run_id, tmp_path, artifact_path=name, is_output=is_output
            )

    def log_dataset(self, data: Any, name: str = "training") -> str:
        """Record a dataset's content hash (DataFrame, ndarray or file path); returns the hash."""
        digest = capture.dataset_hash(data)
        self.tracker.log_dataset(self.run_id, name, digest)
        return digest

    def log_model(
        self,
        model: Any,
        X: Any = None,  # noqa: N803 - scikit-learn's name for the training matrix
        *,
        feature_names: Sequence[str] | None = None,
        feature_version: str | None = None,
    ) -> ModelInfo:
        """Save fitted ``model`` (XGBoost, LightGBM or scikit-learn) with its signature.

        See :func:`fraud_jlab.tracking.saved_models.log_model`; returns its ``ModelInfo``.
        """
        from fraud_jlab.tracking.saved_models import log_model

        return log_model(
            self, model, X, feature_names=feature_names, feature_version=feature_version
        )

    def child(self, run_name: str, *, tags: Mapping[str, str] | None = None) -> Run:
        """A child run (e.g. a tuning trial) in the same experiment and tracker."""
        return Run(
            self.experiment_name, run_name, parent=self.run_id, tags=tags, tracker=self.tracker
        )


def search_runs(
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    *,
    tracker: TrackerStore | None = None,
) -> RunsPage:
    """Search runs with the MLflow-compatible grammar plus ``or`` and parentheses.

    Example: ``search_runs("metrics.accuracy >= 0.95 and params.max_depth = '7'",
    order_by=["metrics.auc_roc DESC"], max_results=10)``. Raises
    :class:`fraud_jlab.errors.ValidationError` naming the offending token and position.
    """
    return (tracker or get_tracker()).search_runs(
        filter_string,
        # A single "key DESC" string is one item, not a sequence of characters.
        order_by=[order_by] if isinstance(order_by, str) else list(order_by or ()),
        max_results=max_results,
        page_token=page_token,
    )


def get_run(run_id: str, *, tracker: TrackerStore | None = None) -> RunDetail:
    """Everything about one run; raises :class:`fraud_jlab.errors.NotFoundError` if unknown."""
    return (tracker or get_tracker()).get_run(run_id)
