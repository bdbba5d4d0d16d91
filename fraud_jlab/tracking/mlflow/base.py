"""MLflow backend: the client, the run layout (tags under ``mlflow.``/``fraud_jlab.``) and run paging.

Constants, experiment lookups, run reads with MLflow ``search_runs`` paging (optionally
ordered by the server) and the mapping of an MLflow run to a run record. The public store
(``mlflow.store``) composes this with ``mlflow.writing``.
"""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.redact import redact_text, redact_uri
from fraud_jlab.tracking.contract import (
    RunStatus,
    RunSummary,
    TrackerStore,
)
from fraud_jlab.tracking.inputs import (
    check_mapping,
    from_ms,
)
from fraud_jlab.tracking.mlflow.http import GuardedClient, apply_http_bounds, is_http_uri
from fraud_jlab.tracking.query.matcher import (
    RunRecord,
)

EVENTS_EXPERIMENT = "fraud_jlab-events"
#: MLflow stores at most this many characters per param value (the contract allows more).
MLFLOW_MAX_PARAM_LENGTH = 6000
_RESERVED_TAG_PREFIXES = ("mlflow.", "fraud_jlab.")
_STATUS_FROM_MLFLOW: dict[str, RunStatus] = {
    "RUNNING": "running",
    "SCHEDULED": "running",
    "FINISHED": "completed",
    "FAILED": "failed",
    "KILLED": "failed",
}
_STATUS_TO_MLFLOW = {"completed": "FINISHED", "failed": "FAILED"}
_PAGE = 5000
_INLINE_PAYLOAD = 7000
_T = TypeVar("_T")


def _tag(name: str) -> str:
    return f"fraud_jlab.{name}"


def _artifact_tag(path: str) -> str:
    return _tag("artifact." + hashlib.sha256(path.encode()).hexdigest()[:32])


class MlflowBase(TrackerStore):
    """Tracker kept in MLflow (any tracking URI MLflow accepts). Safe to share between threads.

    ``artifact_location`` is the artifact root for experiments this store creates;
    for ``sqlite:///<path>`` it defaults to ``<path stem>-artifacts`` beside the
    database, otherwise the server's default applies.
    """

    def __init__(self, tracking_uri: str, *, artifact_location: str | None = None) -> None:
        if not isinstance(tracking_uri, str) or not tracking_uri.strip():
            raise ValidationError("tracking_uri must be a non-empty string", field="tracking_uri")
        self.tracking_uri = tracking_uri.strip()
        if artifact_location is None and self.tracking_uri.startswith("sqlite:///"):
            db = Path(self.tracking_uri[len("sqlite:///") :])
            artifact_location = (db.parent / f"{db.stem}-artifacts").resolve().as_uri()
        self.artifact_location = artifact_location
        self._lock = threading.RLock()
        self._last_ts = 0
        self._exp_names: dict[str, str] = {}
        self._exp_ids: dict[str, str] = {}
        with warnings.catch_warnings():
            # MLflow's SQL store module triggers a SQLAlchemy deprecation warning on import.
            warnings.filterwarnings("ignore", message=".*noload.*", category=DeprecationWarning)
            try:
                if is_http_uri(self.tracking_uri):
                    apply_http_bounds()
                self._client: Any = GuardedClient(
                    MlflowClient(tracking_uri=self.tracking_uri), self.tracking_uri
                )
                # A server may be down now and up later; a database store is opened right away.
                if not self.tracking_uri.startswith(("http://", "https://", "databricks")):
                    self._client.search_experiments(max_results=1)
            except MlflowException as exc:
                raise ValidationError(
                    f"cannot open MLflow tracking URI {redact_uri(self.tracking_uri)!r}: "
                    f"{redact_text(exc.message)}",
                    field="tracking_uri",
                ) from None

    def __repr__(self) -> str:
        return f"MlflowTrackerStore({redact_uri(self.tracking_uri)!r})"

    # --- helpers -----------------------------------------------------------
    def _now_ms(self) -> int:
        """Milliseconds, strictly increasing per store so "latest" means last written."""
        with self._lock:
            self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
            return self._last_ts

    def _call(self, run_id: str, field: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFoundError("run", run_id) from None
            if exc.error_code == "INVALID_PARAMETER_VALUE":
                raise ValidationError(
                    f"MLflow rejected {field}: {exc.message}", field=field
                ) from None
            raise

    def _experiments(self) -> dict[str, str]:
        """Active experiment id -> name (the events experiment excluded)."""
        found: dict[str, str] = {}
        token: str | None = None
        while True:
            page = self._client.search_experiments(
                view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
            )
            found.update({e.experiment_id: e.name for e in page})
            token = page.token
            if not token:
                break
        with self._lock:
            self._exp_names.update(found)
        return {k: v for k, v in found.items() if v != EVENTS_EXPERIMENT}

    def _experiment_id(self, name: str, *, create: bool) -> str | None:
        with self._lock:
            if name in self._exp_ids:
                return self._exp_ids[name]
        exp = self._client.get_experiment_by_name(name)
        if exp is None:
            if not create:
                return None
            location = None
            if self.artifact_location is not None:
                suffix = hashlib.sha256(name.encode()).hexdigest()[:16]
                location = f"{self.artifact_location.rstrip('/')}/{suffix}"
            try:
                self._client.create_experiment(name, artifact_location=location)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            exp = self._client.get_experiment_by_name(name)
        if exp is None or exp.lifecycle_stage != "active":
            raise ConflictError(
                f"MLflow experiment {name!r} is deleted; restore it in MLflow or use another name"
            )
        with self._lock:
            self._exp_ids[name] = exp.experiment_id
            self._exp_names[exp.experiment_id] = name
        return str(exp.experiment_id)

    def _experiment_name(self, experiment_id: str) -> str:
        if experiment_id not in self._exp_names:
            self._experiments()
        return self._exp_names.get(experiment_id, experiment_id)

    def _run(self, run_id: Any) -> Any:
        """The MLflow run; NotFoundError if unknown, deleted or an event."""
        if not isinstance(run_id, str):
            raise ValidationError("run_id must be a string", field="run_id")
        try:
            run = self._client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise NotFoundError("run", run_id) from None
            raise
        if (
            run.info.lifecycle_stage != "active"
            or self._experiment_name(run.info.experiment_id) == EVENTS_EXPERIMENT
        ):
            raise NotFoundError("run", run_id)
        return run

    def _iter_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        order_by: list[str] | None = None,
        page_size: int = _PAGE,
    ) -> Iterator[Any]:
        if not experiment_ids:
            return
        token: str | None = None
        while True:
            page = self._client.search_runs(
                experiment_ids,
                filter_string,
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=page_size,
                order_by=order_by,
                page_token=token,
            )
            yield from page
            token = page.token
            if not token:
                return

    def _record(self, run: Any) -> RunRecord:
        info, tags = run.info, run.data.tags
        visible = {k: v for k, v in tags.items() if not k.startswith(_RESERVED_TAG_PREFIXES)}
        summary = RunSummary(
            run_id=info.run_id,
            experiment_name=self._experiment_name(info.experiment_id),
            run_name=info.run_name or tags.get("mlflow.runName", ""),
            status=_STATUS_FROM_MLFLOW.get(info.status, "failed"),
            start_time=from_ms(info.start_time or 0),
            end_time=from_ms(info.end_time) if info.end_time is not None else None,
            user=tags.get("mlflow.user") or info.user_id or "unknown",
            parent_run_id=tags.get("mlflow.parentRunId"),
            params=dict(run.data.params),
            metrics={k: float(v) for k, v in run.data.metrics.items()},
            tags=visible,
        )
        return RunRecord(
            run_id=summary.run_id,
            experiment_name=summary.experiment_name,
            run_name=summary.run_name,
            status=summary.status,
            start_ms=info.start_time or 0,
            end_ms=info.end_time,
            user=summary.user,
            parent_run_id=summary.parent_run_id,
            created_ns=int(tags.get(_tag("created_ns"), "0") or 0),
            summary=summary,
            params=summary.params,
            metrics=summary.metrics,
            tags=visible,
        )

    @staticmethod
    def _user_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
        values = check_mapping(tags, "tags")
        for key in values:
            if key.startswith(_RESERVED_TAG_PREFIXES):
                raise ValidationError(
                    f"tag {key!r} uses a reserved prefix ({', '.join(_RESERVED_TAG_PREFIXES)})",
                    field=f"tags.{key}",
                )
        return values

    def check(self) -> None:
        """One ``search_experiments`` request: raises if the server is down or refuses access."""
        self._client.search_experiments(max_results=1)
