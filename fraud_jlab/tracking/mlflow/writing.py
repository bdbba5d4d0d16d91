"""MLflow backend: writing runs (params, metrics, tags, artifacts, datasets, status) in batches."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import (
    ArtifactInfo,
    RunStatus,
)
from fraud_jlab.tracking.inputs import (
    artifact_source,
    check_end_status,
    check_mapping,
    check_metrics,
    check_name,
    to_ms,
)
from fraud_jlab.tracking.mlflow.base import (
    _STATUS_FROM_MLFLOW,
    _STATUS_TO_MLFLOW,
    EVENTS_EXPERIMENT,
    MLFLOW_MAX_PARAM_LENGTH,
    MlflowBase,
    _artifact_tag,
    _tag,
)


class MlflowWriting(MlflowBase):
    """Creating runs and logging to them."""

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
