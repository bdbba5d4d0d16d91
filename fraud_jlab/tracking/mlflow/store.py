"""The tracker contract on MLflow: ``MlflowTrackerStore("http://mlflow:5000")``.

Mapping: experiment name -> MLflow experiment (created on demand); run name,
start/end time (ms) and status (RUNNING/FINISHED/FAILED) -> the MLflow run;
user -> tag ``mlflow.user``; parent -> tag ``mlflow.parentRunId``; code version,
dependencies, datasets and artifact checksums -> ``fraud_jlab.*`` tags (hidden
from ``tags``; user tags may not use the ``mlflow.`` or ``fraud_jlab.``
prefixes). Events are finished runs of the ``fraud_jlab-events`` experiment
(payload in a tag, or in ``payload.json`` when large); that experiment is hidden
from searches and listings. Run ids are MLflow's own (32 hex characters).

Search pushes the ``AND``-ed conditions MLflow understands to the server and re-checks
the full filter in Python (``query.matcher``: OR, IN, IS NULL are evaluated here). When
MLflow can sort like the contract (metrics, params, tags, ``start_time``, ``end_time``,
``run_name``; its SQL store sorts missing values last either way), ``order_by`` and
paging go to the server too and a page reads only ``offset + max_results + 1`` matches
(``query.window``): ``total`` is then a lower bound (``total_is_exact`` false) unless the
runs ran out. Other orders (``status``, ``user``, ``experiment``, ...) read every
candidate run and count exactly.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.redact import redact_text, redact_uri
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
from fraud_jlab.tracking.inputs import (
    artifact_source,
    check_end_status,
    check_mapping,
    check_metrics,
    check_name,
    check_payload,
    from_ms,
    to_ms,
)
from fraud_jlab.tracking.mlflow.search import to_mlflow_clause, to_mlflow_order
from fraud_jlab.tracking.query.filters import Comparison, parse_filter, parse_order_by
from fraud_jlab.tracking.query.matcher import (
    RunRecord,
    conjuncts,
    matches,
    sort_runs,
    value_matches,
)
from fraud_jlab.tracking.query.paging import (
    check_max_results,
    decode_token,
    encode_token,
    fingerprint,
)
from fraud_jlab.tracking.query.window import read_window, window_page

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


class MlflowTrackerStore(TrackerStore):
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
                self._client = MlflowClient(tracking_uri=self.tracking_uri)
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

    # --- writing -----------------------------------------------------------
    def create_run(
        self,
        experiment_name: str,
        run_name: str,
        *,
        user: str,
        start_time: datetime,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        dependencies: Mapping[str, str] | None = None,
    ) -> str:
        experiment_name = check_name(experiment_name, "experiment_name")
        if experiment_name == EVENTS_EXPERIMENT:
            raise ValidationError(
                f"experiment_name {EVENTS_EXPERIMENT!r} is reserved", field="experiment_name"
            )
        run_name = check_name(run_name, "run_name")
        user = check_name(user, "user")
        start_ms = to_ms(start_time, "start_time")
        all_tags = self._user_tags(tags)
        deps = check_mapping(dependencies, "dependencies")
        if code_version is not None and not isinstance(code_version, str):
            raise ValidationError("code_version must be a string", field="code_version")
        if parent_run_id is not None:
            self._run(parent_run_id)
            all_tags["mlflow.parentRunId"] = parent_run_id
        all_tags["mlflow.user"] = user
        all_tags[_tag("dependencies")] = json.dumps(deps, separators=(",", ":"))
        all_tags[_tag("created_ns")] = str(time.time_ns())
        if code_version is not None:
            all_tags[_tag("code_version")] = code_version
        experiment_id = self._experiment_id(experiment_name, create=True)
        assert experiment_id is not None
        try:
            run = self._client.create_run(
                experiment_id, start_time=start_ms, tags=all_tags, run_name=run_name
            )
        except MlflowException as exc:
            if exc.error_code == "INVALID_PARAMETER_VALUE":
                raise ValidationError(
                    f"MLflow rejected the run: {exc.message}", field="tags"
                ) from None
            raise
        return str(run.info.run_id)

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        values = check_mapping(params, "params")
        for key, value in values.items():
            if len(value) > MLFLOW_MAX_PARAM_LENGTH:
                raise ValidationError(
                    f"params {key!r} has a value of {len(value)} characters; the MLflow backend "
                    f"limit is {MLFLOW_MAX_PARAM_LENGTH}",
                    field=f"params.{key}",
                )
        with self._lock:
            existing: dict[str, str] = self._run(run_id).data.params
            for key, value in values.items():
                if key in existing and existing[key] != value:
                    raise ValidationError(
                        f"param {key!r} of run {run_id} is already {existing[key][:100]!r}; "
                        f"a param cannot change to {value[:100]!r} (start a new run instead)",
                        field=f"params.{key}",
                    )
            new = [Param(k, v) for k, v in values.items() if k not in existing]
            self._log_batch(run_id, "params", new)

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], *, step: int | None = None
    ) -> None:
        rows = check_metrics(metrics, step)
        self._run(run_id)
        now = self._now_ms()
        batch = [Metric(k, v, now, step or 0) for k, v in rows]
        self._log_batch(run_id, "metrics", batch)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        values = self._user_tags(tags)
        self._run(run_id)
        self._set_tags(run_id, values)

    def _set_tags(self, run_id: str, values: Mapping[str, str]) -> None:
        batch = [RunTag(k, v) for k, v in values.items()]
        self._log_batch(run_id, "tags", batch)

    def _log_batch(self, run_id: str, kind: str, items: Sequence[Any]) -> None:
        # MLflow takes at most 100 params/tags or 1000 metrics per batch.
        size = 1000 if kind == "metrics" else 100
        for i in range(0, len(items), size):
            batch: dict[str, Any] = {kind: list(items[i : i + size])}
            self._call(run_id, kind, partial(self._client.log_batch, run_id, **batch))

    def log_artifact(
        self,
        run_id: str,
        local_path: Path,
        *,
        artifact_path: str | None = None,
        is_output: bool = True,
    ) -> ArtifactInfo:
        source, rel = artifact_source(local_path, artifact_path)
        self._run(run_id)
        digest, size = hashlib.sha256(), 0
        with tempfile.TemporaryDirectory(prefix="fraud-jlab-upload-") as tmp:
            # MLflow keeps the file's own name: stage a copy named like the artifact.
            staged = Path(tmp) / rel.name
            with staged.open("wb") as out, source.open("rb") as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            parent = str(rel.parent) if str(rel.parent) != "." else None
            self._call(
                run_id,
                "artifact_path",
                lambda: self._client.log_artifact(run_id, str(staged), artifact_path=parent),
            )
        info = ArtifactInfo(
            path=str(rel), size_bytes=size, is_output=bool(is_output), sha256=digest.hexdigest()
        )
        # The file lands before its checksum tag: a crash leaves at worst an unlisted file.
        self._set_tags(run_id, {_artifact_tag(info.path): info.model_dump_json()})
        return info

    def log_dataset(self, run_id: str, name: str, content_hash: str) -> None:
        name = check_name(name, "name")
        content_hash = check_name(content_hash, "content_hash")
        with self._lock:
            tags = self._run(run_id).data.tags
            datasets: dict[str, str] = json.loads(tags.get(_tag("datasets"), "{}"))
            known = datasets.get(name)
            if known is not None and known != content_hash:
                raise ValidationError(
                    f"dataset {name!r} of run {run_id} was already logged with hash {known}; "
                    "log the changed data under another name or in a new run",
                    field="name",
                )
            if known is None:
                datasets[name] = content_hash
                self._set_tags(run_id, {_tag("datasets"): json.dumps(datasets)})

    def end_run(self, run_id: str, status: RunStatus, *, end_time: datetime) -> None:
        check_end_status(status)
        end_ms = to_ms(end_time, "end_time")
        with self._lock:
            current = _STATUS_FROM_MLFLOW.get(self._run(run_id).info.status, "failed")
            if current != "running":
                raise ValidationError(
                    f"run {run_id} already ended with status {current!r}", field="status"
                )
            self._call(
                run_id,
                "status",
                lambda: self._client.set_terminated(
                    run_id, status=_STATUS_TO_MLFLOW[status], end_time=end_ms
                ),
            )

    # --- reading -----------------------------------------------------------
    def get_run(self, run_id: str) -> RunDetail:
        run = self._run(run_id)
        record = self._record(run)
        tags = run.data.tags
        datasets: dict[str, str] = json.loads(tags.get(_tag("datasets"), "{}"))
        artifacts = sorted(
            (
                ArtifactInfo.model_validate_json(v)
                for k, v in tags.items()
                if k.startswith(_tag("artifact."))
            ),
            key=lambda a: a.path,
        )
        children = sorted(
            (
                self._record(r)
                for r in self._iter_runs(
                    list(self._experiments()), f"tags.`mlflow.parentRunId` = '{run_id}'"
                )
            ),
            key=lambda r: (r.start_ms, r.created_ns, r.run_id),
        )
        history: dict[str, list[tuple[int, float]]] = {}
        for key in sorted(record.metrics):
            points = sorted(self._client.get_metric_history(run_id, key), key=lambda m: m.timestamp)
            history[key] = [(int(m.step), float(m.value)) for m in points]
        return RunDetail(
            **record.summary.model_dump(),
            code_version=tags.get(_tag("code_version")),
            dataset_version=datasets.get("training", next(iter(datasets.values()), None)),
            datasets=datasets,
            dependencies=json.loads(tags.get(_tag("dependencies"), "{}")),
            artifacts=artifacts,
            children=[c.run_id for c in children],
            metric_history=history,
        )

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        limit = check_max_results(max_results)
        node = parse_filter(filter_string or "")
        keys = parse_order_by([order_by] if isinstance(order_by, str) else list(order_by or ()))
        print_ = fingerprint(node, keys)
        offset = decode_token(page_token, print_)
        experiments = self._experiments()
        clauses: list[str] = []
        pushed_all = True
        for part in conjuncts(node):
            if (
                isinstance(part, Comparison)
                and part.key.kind == "attribute"
                and part.key.name == "experiment"
            ):
                experiments = {i: n for i, n in experiments.items() if value_matches(part, n)}
            elif (clause := to_mlflow_clause(part)) is not None:
                clauses.append(clause)
            else:
                pushed_all = False
        server_order = to_mlflow_order(keys)
        if server_order is not None:
            # MLflow sorts and pages: read only as far as this page needs.
            need = offset + limit + 1
            size = min(max(need, 100), _PAGE) if pushed_all else _PAGE
            records = map(
                self._record,
                self._iter_runs(list(experiments), " and ".join(clauses), server_order, size),
            )
            found, exhausted = read_window(records, node, need)
            return window_page(found, exhausted, keys, offset, limit, print_)
        candidates = self._iter_runs(list(experiments), " and ".join(clauses))
        found = [rec for rec in map(self._record, candidates) if matches(node, rec)]
        ordered = sort_runs(found, keys)
        page = ordered[offset : offset + limit]
        end = offset + len(page)
        return RunsPage(
            runs=[r.summary for r in page],
            next_page_token=encode_token(end, print_) if end < len(ordered) else None,
            total=len(ordered),
        )

    def list_experiments(self) -> list[ExperimentSummary]:
        experiments = self._experiments()
        times: dict[str, list[int]] = {i: [] for i in experiments}
        for run in self._iter_runs(list(experiments)):
            times[run.info.experiment_id].append(run.info.start_time or 0)
        summaries = [
            ExperimentSummary(
                name=name,
                run_count=len(times[i]),
                first_run_time=from_ms(min(times[i])) if times[i] else None,
                last_run_time=from_ms(max(times[i])) if times[i] else None,
            )
            for i, name in experiments.items()
            # MLflow always has a "Default" experiment; list it only once it holds runs.
            if times[i] or name != "Default"
        ]
        summaries.sort(key=lambda e: e.name)
        summaries.sort(
            key=lambda e: e.last_run_time or datetime.min.replace(tzinfo=timezone.utc),
            reverse=True,
        )
        return summaries

    def read_artifact(self, run_id: str, path: str) -> bytes:
        tags = self._run(run_id).data.tags
        if not isinstance(path, str) or _artifact_tag(path) not in tags:
            raise NotFoundError(
                "artifact", str(path), f"Run {run_id} has no artifact at this path."
            )
        with tempfile.TemporaryDirectory(prefix="fraud-jlab-download-") as tmp:
            try:
                local = self._client.download_artifacts(run_id, path, dst_path=tmp)
            except (MlflowException, OSError):
                raise NotFoundError(
                    "artifact file", path, "It was removed from the artifact store."
                ) from None
            return Path(local).read_bytes()

    # --- events ------------------------------------------------------------
    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        kind = check_name(kind, "kind")
        text = check_payload(payload)
        if run_id is not None:
            self._run(run_id)
        experiment_id = self._experiment_id(EVENTS_EXPERIMENT, create=True)
        assert experiment_id is not None
        now = self._now_ms()
        tags = {
            _tag("event.kind"): kind,
            _tag("created_ns"): str(time.time_ns()),
            "mlflow.user": "fraud_jlab",
        }
        if run_id is not None:
            tags[_tag("event.run_id")] = run_id
        if len(text) <= _INLINE_PAYLOAD:
            tags[_tag("event.payload")] = text
        event = self._client.create_run(experiment_id, start_time=now, tags=tags, run_name=kind)
        event_id = event.info.run_id
        if len(text) > _INLINE_PAYLOAD:
            self._client.log_text(event_id, text, "payload.json")
        # Readers list FINISHED event runs only, so an event appears complete or not at all.
        self._client.set_terminated(event_id, status="FINISHED", end_time=now)
        return TrackerEvent(
            event_id=event_id,
            kind=kind,
            run_id=run_id,
            timestamp=from_ms(now),
            payload=json.loads(text),
        )

    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        experiment_id = self._experiment_id(EVENTS_EXPERIMENT, create=False)
        if experiment_id is None:
            return []
        runs = [
            r
            for r in self._iter_runs([experiment_id], "attributes.status = 'FINISHED'")
            if (kind is None or r.data.tags.get(_tag("event.kind")) == kind)
            and (run_id is None or r.data.tags.get(_tag("event.run_id")) == run_id)
        ]
        runs.sort(
            key=lambda r: (r.info.start_time, int(r.data.tags.get(_tag("created_ns"), "0"))),
            reverse=True,
        )
        return [self._event(r) for r in runs]

    def _event(self, run: Any) -> TrackerEvent:
        tags = run.data.tags
        text = tags.get(_tag("event.payload"))
        if text is None:
            with tempfile.TemporaryDirectory(prefix="fraud-jlab-event-") as tmp:
                local = self._client.download_artifacts(run.info.run_id, "payload.json", tmp)
                text = Path(local).read_text()
        return TrackerEvent(
            event_id=run.info.run_id,
            kind=tags.get(_tag("event.kind"), ""),
            run_id=tags.get(_tag("event.run_id")),
            timestamp=from_ms(run.info.start_time),
            payload=json.loads(text),
        )


__all__ = ["EVENTS_EXPERIMENT", "MlflowTrackerStore"]
