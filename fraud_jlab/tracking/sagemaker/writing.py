"""SageMaker Experiments backend: writing runs (trial components, ``BatchPutMetrics``, S3 artifacts)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
    from_ms,
    to_ms,
)
from fraud_jlab.tracking.sagemaker.base import (
    _RESERVED,
    _STATUS_TO,
    EVENTS_EXPERIMENT,
    MAX_PARAM_VALUE,
    MAX_TAG_VALUE,
    METRICS_PER_REQUEST,
    RUN_TAG,
    SageMakerBase,
    _p,
    _safe,
)


class SageMakerWriting(SageMakerBase):
    """Creating runs and logging params, metrics, tags, artifacts and datasets."""

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
        experiment_name = self._check_experiment(experiment_name)
        if experiment_name == EVENTS_EXPERIMENT:
            raise ValidationError(
                f"experiment_name {EVENTS_EXPERIMENT!r} is reserved", field="experiment_name"
            )
        run_name = check_name(run_name, "run_name")
        user = check_name(user, "user")
        start_ms = to_ms(start_time, "start_time")
        tag_values = self._user_tags(tags)
        deps = check_mapping(dependencies, "dependencies", MAX_PARAM_VALUE)
        if code_version is not None and not isinstance(code_version, str):
            raise ValidationError("code_version must be a string", field="code_version")
        if parent_run_id is not None:
            self._component(parent_run_id)
        params = {
            _p("run_name"): run_name,
            _p("user"): user,
            _p("experiment"): experiment_name,
            _p("created_ns"): str(self._created_ns()),
            **{_p("dep:") + k: v for k, v in deps.items()},
        }
        if parent_run_id is not None:
            params[_p("parent_run_id")] = parent_run_id
        if code_version is not None:
            params[_p("code_version")] = code_version[:MAX_PARAM_VALUE]
        trial = self._ensure_experiment(experiment_name)
        name = self._tc_name(experiment_name, run_name)
        self._call(
            "sagemaker",
            "create_trial_component",
            TrialComponentName=name,
            DisplayName=_safe(run_name)[:120],
            Status={"PrimaryStatus": "InProgress"},
            StartTime=from_ms(start_ms),
            Parameters={k: {"StringValue": v} for k, v in params.items()},
            Tags=[RUN_TAG, *({"Key": k, "Value": v} for k, v in tag_values.items())],
        )
        self._call(
            "sagemaker", "associate_trial_component", TrialComponentName=name, TrialName=trial
        )
        return name

    @staticmethod
    def _user_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
        values = check_mapping(tags, "tags", MAX_TAG_VALUE)
        for key in values:
            if key.startswith(("sagemaker:", "aws:", _RESERVED)):
                raise ValidationError(
                    f"tag {key!r} uses a reserved prefix (sagemaker:, aws:, {_RESERVED})",
                    field=f"tags.{key}",
                )
            if len(key) > 128:
                raise ValidationError(
                    f"tag name {key[:40]!r}... is {len(key)} characters; SageMaker allows 128",
                    field="tags",
                )
        return values

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        values = check_mapping(params, "params")
        for key, value in values.items():
            if key.startswith(_RESERVED):
                raise ValidationError(
                    f"param {key!r} uses the reserved prefix {_RESERVED}", field=f"params.{key}"
                )
            if len(value) > MAX_PARAM_VALUE:
                raise ValidationError(
                    f"params {key!r} has a value of {len(value)} characters; the SageMaker "
                    f"Experiments backend limit is {MAX_PARAM_VALUE}",
                    field=f"params.{key}",
                )
        with self._lock:
            existing = self._raw_params(self._component(run_id))
            for key, value in values.items():
                if key in existing and existing[key] != value:
                    raise ValidationError(
                        f"param {key!r} of run {run_id} is already {existing[key][:100]!r}; "
                        f"a param cannot change to {value[:100]!r} (start a new run instead)",
                        field=f"params.{key}",
                    )
            new = {k: v for k, v in values.items() if k not in existing}
            if new:
                self._update_params(run_id, {**existing, **new})

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], *, step: int | None = None
    ) -> None:
        rows = check_metrics(metrics, step)
        self._component(run_id)
        now = datetime.now(timezone.utc)
        data = [{"MetricName": k, "Value": v, "Step": step or 0, "Timestamp": now} for k, v in rows]
        for i in range(0, len(data), METRICS_PER_REQUEST):
            response = self._call(
                "sagemaker-metrics",
                "batch_put_metrics",
                TrialComponentName=run_id,
                MetricData=data[i : i + METRICS_PER_REQUEST],
            )
            errors = response.get("Errors") or []
            if errors:
                raise ValidationError(
                    f"SageMaker rejected metrics of run {run_id}: {errors[:3]}", field="metrics"
                )

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        values = self._user_tags(tags)
        tc = self._component(run_id)
        self._add_tags(tc, values)

    def _add_tags(self, tc: Mapping[str, Any], values: Mapping[str, str]) -> None:
        items = [{"Key": k, "Value": v} for k, v in values.items()]
        current = {t["Key"] for t in tc.get("Tags") or []}
        overwritten = [k for k in values if k in current]
        if overwritten:
            # AddTags overwrites on the service; delete first so every emulator agrees.
            self._call("sagemaker", "delete_tags", ResourceArn=self._arn(tc), TagKeys=overwritten)
        for i in range(0, len(items), 50):
            self._call("sagemaker", "add_tags", ResourceArn=self._arn(tc), Tags=items[i : i + 50])

    def _bucket(self) -> str:
        with self._lock:
            if self.artifact_bucket is None:
                account = self._client_sts()["Account"]
                region = self._client("s3").meta.region_name
                self.artifact_bucket = f"sagemaker-{region}-{account}"
            return self.artifact_bucket

    def _client_sts(self) -> dict[str, Any]:
        import boto3

        return dict(boto3.client("sts", region_name=self.region).get_caller_identity())

    def log_artifact(
        self,
        run_id: str,
        local_path: Path,
        *,
        artifact_path: str | None = None,
        is_output: bool = True,
    ) -> ArtifactInfo:
        source, rel = artifact_source(local_path, artifact_path)
        if len(str(rel)) > 64:
            raise ValidationError(
                f"artifact_path {str(rel)[:40]!r}... is {len(str(rel))} characters; "
                "SageMaker artifact names allow 64",
                field="artifact_path",
            )
        tc = self._component(run_id)
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        bucket = self._bucket()
        key = f"{self.artifact_prefix}/{run_id}/{rel}"
        self._call(
            "s3", "put_object", Bucket=bucket, Key=key, Body=data, Metadata={"sha256": digest}
        )
        info = ArtifactInfo(
            path=str(rel), size_bytes=len(data), is_output=bool(is_output), sha256=digest
        )
        field = "OutputArtifacts" if is_output else "InputArtifacts"
        other = "InputArtifacts" if is_output else "OutputArtifacts"
        with self._lock:
            artifacts = dict(tc.get(field) or {})
            artifacts[info.path] = {
                "Value": f"s3://{bucket}/{key}",
                "MediaType": "application/octet-stream",
            }
            kwargs: dict[str, Any] = {"TrialComponentName": run_id, field: artifacts}
            if info.path in (tc.get(other) or {}):
                kwargs[f"{other}ToRemove"] = [info.path]
            self._call("sagemaker", "update_trial_component", **kwargs)
            # The object lands before its checksum tag: a crash leaves at worst an unlisted file.
            self._add_tags(
                tc,
                {
                    self._artifact_tag(
                        info.path
                    ): f"{int(info.is_output)}:{info.size_bytes}:{digest}"
                },
            )
        return info

    def log_dataset(self, run_id: str, name: str, content_hash: str) -> None:
        name = check_name(name, "name")
        content_hash = check_name(content_hash, "content_hash")
        with self._lock:
            existing = self._raw_params(self._component(run_id))
            known = existing.get(_p("dataset:") + name)
            if known is not None and known != content_hash:
                raise ValidationError(
                    f"dataset {name!r} of run {run_id} was already logged with hash {known}; "
                    "log the changed data under another name or in a new run",
                    field="name",
                )
            if known is None:
                order = sum(1 for k in existing if k.startswith(_p("dataset:")))
                self._update_params(
                    run_id,
                    {
                        **existing,
                        _p("dataset:") + name: content_hash,
                        _p("dataset_order:") + name: str(order),
                    },
                )

    def end_run(self, run_id: str, status: RunStatus, *, end_time: datetime) -> None:
        check_end_status(status)
        end_ms = to_ms(end_time, "end_time")
        with self._lock:
            current = self._record(self._component(run_id)).status
            if current != "running":
                raise ValidationError(
                    f"run {run_id} already ended with status {current!r}", field="status"
                )
            self._call(
                "sagemaker",
                "update_trial_component",
                TrialComponentName=run_id,
                Status={"PrimaryStatus": _STATUS_TO[status]},
                EndTime=from_ms(end_ms),
            )
