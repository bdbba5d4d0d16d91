"""The tracker contract on SageMaker Experiments, in the SageMaker SDK's ``Run`` layout.

Layout (what ``sagemaker.experiments.Run`` writes, so runs show up both ways):

* experiment -> a SageMaker experiment; its runs join the trial (run group)
  ``Default-Run-Group-<experiment>``;
* run -> a trial component named ``<experiment>-<run name>`` (a short suffix when that
  name is taken), tagged ``sagemaker:trial-component-source=run``; its id is that name;
* parameters -> the trial component's ``Parameters`` (``StringValue``); fraud_jlab's own
  fields (user, parent run, original run name, dependencies, datasets, creation order)
  are parameters under ``fraud_jlab:`` and hidden from ``params``;
* metrics -> ``sagemaker-metrics`` ``BatchPutMetrics`` (at most 10 values a request, with
  steps); the latest value comes from the trial component's metric summary, the history
  from ``BatchGetMetrics``;
* tags -> trial-component tags (``AddTags``);
* artifacts -> S3 objects ``s3://<bucket>/<prefix>/<run id>/<path>`` recorded as the trial
  component's ``InputArtifacts``/``OutputArtifacts``; size and sha256 in a ``fraud_jlab:a:`` tag;
* parent/child -> the child's ``fraud_jlab:parent_run_id`` parameter;
* events -> completed trial components of the ``fraud-jlab-events`` experiment.

Search sends what the service can evaluate as ``SearchExpression`` filters and evaluates
the rest (``OR``, parentheses, ``LIKE``, ``IN``, ``IS NULL``) client-side over pages of at
most 100 trial components, one request a page, never one a run; ``RunsPage.client_side_filter``
says which part. An order by one metric goes to the service (``SortBy`` ``Metrics.<name>.Last``
with ``Exists``, then the runs lacking it with ``NotExists``), and a page reads only
``offset + max_results + 1`` matches: ``total`` is a lower bound then (``total_is_exact``
false). Other orders read every candidate and count exactly. A filter the service rejects (``ValidationException``) is retried with
the experiment scope only and evaluated client-side. Throttling is retried with
exponential backoff and jitter.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking import ids
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
from fraud_jlab.tracking.query.filters import Node, OrderKey, parse_filter, parse_order_by
from fraud_jlab.tracking.query.matcher import RunRecord, matches, sort_runs
from fraud_jlab.tracking.query.paging import (
    check_max_results,
    decode_token,
    encode_token,
    fingerprint,
)
from fraud_jlab.tracking.query.window import read_window, window_page
from fraud_jlab.tracking.sagemaker.search import (
    describe_rest,
    metric_sort_by,
    push_down,
    sort_metric,
    with_presence,
)

EVENTS_EXPERIMENT = "fraud-jlab-events"
TRIAL_NAME_TEMPLATE = "Default-Run-Group-{}"
RUN_TAG = {"Key": "sagemaker:trial-component-source", "Value": "run"}
#: SageMaker entity names: letters, digits and single hyphens, at most 120 characters.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}$")
#: Longest experiment name (the SDK keeps ``<experiment>-<run>`` within 120 characters).
MAX_EXPERIMENT_NAME = 59
#: Longest parameter value the service stores.
MAX_PARAM_VALUE = 2500
#: Longest tag value the service stores.
MAX_TAG_VALUE = 256
METRICS_PER_REQUEST = 10
PAGE_SIZE = 100
#: Most trial components one search reads before asking for a narrower filter.
MAX_SCAN = 200_000
_RESERVED = "fraud_jlab:"
_STATUS_FROM = {
    "InProgress": "running",
    "Completed": "completed",
    "Failed": "failed",
    "Stopping": "failed",
    "Stopped": "failed",
}
_STATUS_TO = {"running": "InProgress", "completed": "Completed", "failed": "Failed"}
_THROTTLING = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}
_T = TypeVar("_T")


def _p(name: str) -> str:
    return _RESERVED + name


def _safe(text: str) -> str:
    """``text`` as a SageMaker entity name fragment (letters, digits, hyphens)."""
    out = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")
    return out or "run"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _param_text(value: Mapping[str, Any]) -> str:
    if "StringValue" in value:
        return str(value["StringValue"])
    return _number_text(float(value.get("NumberValue", 0.0)))


def _ms(moment: Any) -> int | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return to_ms(moment, "time")
    return int(float(moment) * 1000)


class SageMakerTrackerStore(TrackerStore):
    """Tracker kept in SageMaker Experiments. Safe to share between threads.

    ``sagemaker``, ``metrics`` and ``s3`` are boto3 clients (``sagemaker``,
    ``sagemaker-metrics``, ``s3``); the defaults use boto3's credential chain in ``region``.
    ``sleep`` is how backoff waits (tests pass a recorder).
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        sagemaker: Any = None,
        metrics: Any = None,
        s3: Any = None,
        artifact_bucket: str | None = None,
        artifact_prefix: str = "fraud-jlab/artifacts",
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.region = region
        self._clients: dict[str, Any] = {
            "sagemaker": sagemaker,
            "sagemaker-metrics": metrics,
            "s3": s3,
        }
        self.artifact_bucket = artifact_bucket
        self.artifact_prefix = artifact_prefix.strip("/")
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._lock = threading.RLock()
        self._experiments_known: set[str] = set()
        self._last_ns = 0

    def __repr__(self) -> str:
        return f"SageMakerTrackerStore(region={self.region!r})"

    # --- AWS calls -----------------------------------------------------------
    def _client(self, service: str) -> Any:
        with self._lock:
            if self._clients.get(service) is None:
                import boto3
                from botocore.config import Config

                config = Config(retries={"mode": "standard", "max_attempts": 3})
                self._clients[service] = boto3.client(
                    service,  # type: ignore[call-overload]
                    region_name=self.region,
                    config=config,
                )
            return self._clients[service]

    def _call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """One AWS call; throttling retried with exponential backoff and full jitter."""
        from botocore.exceptions import ClientError

        method = getattr(self._client(service), operation)
        for attempt in range(1, self.max_attempts + 1):
            try:
                return method(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in _THROTTLING and attempt < self.max_attempts:
                    self._sleep(random.uniform(0, min(20.0, 0.1 * 2**attempt)))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _code(exc: Exception) -> str:
        response = getattr(exc, "response", {}) or {}
        return str(response.get("Error", {}).get("Code", ""))

    # --- entities ----------------------------------------------------------
    def _ensure_experiment(self, name: str) -> str:
        trial = TRIAL_NAME_TEMPLATE.format(name)
        with self._lock:
            if name in self._experiments_known:
                return trial
        from botocore.exceptions import ClientError

        try:
            # The run group exists only inside its experiment: one call answers both.
            self._call("sagemaker", "describe_trial", TrialName=trial)
        except ClientError as exc:
            if self._code(exc) not in ("ResourceNotFound", "ValidationException"):
                raise
            for op, kwargs in (
                ("create_experiment", {"ExperimentName": name, "DisplayName": name}),
                ("create_trial", {"TrialName": trial, "ExperimentName": name}),
            ):
                try:
                    self._call("sagemaker", op, **kwargs)
                except ClientError as exc2:
                    # Created meanwhile (another process, or the SDK): that is fine.
                    if self._code(exc2) not in ("ResourceInUse", "ValidationException"):
                        raise
        with self._lock:
            self._experiments_known.add(name)
        return trial

    def _check_experiment(self, name: str) -> str:
        name = check_name(name, "experiment_name")
        if len(name) > MAX_EXPERIMENT_NAME or not NAME_PATTERN.match(name):
            raise ValidationError(
                f"experiment_name {name[:60]!r} must be 1..{MAX_EXPERIMENT_NAME} letters, digits "
                "and single hyphens (SageMaker Experiments names, pattern "
                f"{NAME_PATTERN.pattern})",
                field="experiment_name",
            )
        return name

    def _search_page(
        self,
        filters: list[dict[str, str]],
        token: str | None,
        size: int = PAGE_SIZE,
        sort_by: str = "CreationTime",
        descending: bool = True,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "Resource": "ExperimentTrialComponent",
            "SearchExpression": {"Filters": filters} if filters else {},
            "SortBy": sort_by,
            "SortOrder": "Descending" if descending else "Ascending",
            "MaxResults": size,
        }
        if not filters:
            kwargs.pop("SearchExpression")
        if token:
            kwargs["NextToken"] = token
        return dict(self._call("sagemaker", "search", **kwargs))

    def _iter_components(
        self,
        filters: list[dict[str, str]],
        sort_by: str = "CreationTime",
        descending: bool = True,
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen = 0
        while True:
            page = self._search_page(filters, token, PAGE_SIZE, sort_by, descending)
            for result in page.get("Results", []):
                seen += 1
                if seen > MAX_SCAN:
                    raise ValidationError(
                        f"the search would read more than {MAX_SCAN} trial components; "
                        "narrow the filter (e.g. experiment = '...')",
                        field="filter",
                    )
                yield result["TrialComponent"]
            token = page.get("NextToken")
            if not token:
                return

    def _component(self, run_id: Any) -> dict[str, Any]:
        """The run's trial component (one Search request); NotFoundError if unknown or an event."""
        if not isinstance(run_id, str):
            raise ValidationError("run_id must be a string", field="run_id")
        if not run_id or len(run_id) > 120:
            raise NotFoundError("run", run_id)
        page = self._search_page(
            [{"Name": "TrialComponentName", "Operator": "Equals", "Value": run_id}], None, 1
        )
        for result in page.get("Results", []):
            tc = result["TrialComponent"]
            if tc.get("TrialComponentName") == run_id and self._experiment(tc) != EVENTS_EXPERIMENT:
                return dict(tc)
        raise NotFoundError("run", run_id)

    @staticmethod
    def _experiment(tc: Mapping[str, Any]) -> str:
        for parent in tc.get("Parents") or []:
            if parent.get("ExperimentName"):
                return str(parent["ExperimentName"])
        params = tc.get("Parameters") or {}
        if _p("experiment") in params:
            return _param_text(params[_p("experiment")])
        return ""

    def _record(self, tc: Mapping[str, Any]) -> RunRecord:
        raw = tc.get("Parameters") or {}
        params = {k: _param_text(v) for k, v in raw.items()}
        visible_params = {k: v for k, v in params.items() if not k.startswith(_RESERVED)}
        tags = {
            t["Key"]: t["Value"]
            for t in tc.get("Tags") or []
            if not t["Key"].startswith(("sagemaker:", _RESERVED, "aws:"))
        }
        metrics = {
            m["MetricName"]: float(m["Last"])
            for m in tc.get("Metrics") or []
            if m.get("Last") is not None
        }
        status = _STATUS_FROM.get((tc.get("Status") or {}).get("PrimaryStatus", ""), "running")
        start_ms = _ms(tc.get("StartTime")) or _ms(tc.get("CreationTime")) or 0
        end_ms = _ms(tc.get("EndTime")) if status != "running" else None
        created_by = tc.get("CreatedBy") or {}
        user = params.get(_p("user")) or created_by.get("UserProfileName") or "unknown"
        summary = RunSummary(
            run_id=str(tc["TrialComponentName"]),
            experiment_name=self._experiment(tc),
            run_name=params.get(_p("run_name"))
            or str(tc.get("DisplayName") or tc["TrialComponentName"]),
            status=status,
            start_time=from_ms(start_ms),
            end_time=from_ms(end_ms) if end_ms is not None else None,
            user=user,
            parent_run_id=params.get(_p("parent_run_id")),
            params=visible_params,
            metrics=metrics,
            tags=tags,
        )
        return RunRecord(
            run_id=summary.run_id,
            experiment_name=summary.experiment_name,
            run_name=summary.run_name,
            status=summary.status,
            start_ms=start_ms,
            end_ms=end_ms,
            user=summary.user,
            parent_run_id=summary.parent_run_id,
            created_ns=int(params.get(_p("created_ns"), "0") or 0),
            summary=summary,
            params=visible_params,
            metrics=metrics,
            tags=tags,
        )

    def _created_ns(self) -> int:
        with self._lock:
            self._last_ns = max(time.time_ns(), self._last_ns + 1)
            return self._last_ns

    def _tc_name(self, experiment: str, run_name: str) -> str:
        from botocore.exceptions import ClientError

        base = f"{experiment}-{_safe(run_name)[:MAX_EXPERIMENT_NAME]}".rstrip("-")
        try:
            self._call("sagemaker", "describe_trial_component", TrialComponentName=base)
        except ClientError as exc:
            if self._code(exc) in ("ResourceNotFound", "ValidationException"):
                return base
            raise
        return f"{base[:100]}-{ids.new_id()[-10:].lower()}"

    def _update_params(self, run_id: str, params: Mapping[str, str]) -> None:
        # The whole map each time: the service merges, some emulators replace.
        self._call(
            "sagemaker",
            "update_trial_component",
            TrialComponentName=run_id,
            Parameters={k: {"StringValue": v} for k, v in params.items()},
        )

    @staticmethod
    def _raw_params(tc: Mapping[str, Any]) -> dict[str, str]:
        return {k: _param_text(v) for k, v in (tc.get("Parameters") or {}).items()}

    def _arn(self, tc: Mapping[str, Any]) -> str:
        return str(tc["TrialComponentArn"])

    def check(self) -> None:
        """One ``ListExperiments`` request: raises if SageMaker is unreachable or denies access."""
        self._call("sagemaker", "list_experiments", MaxResults=1)

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

    @staticmethod
    def _artifact_tag(path: str) -> str:
        return _p("a:" + hashlib.sha256(path.encode()).hexdigest()[:32])

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

    # --- reading -----------------------------------------------------------
    def get_run(self, run_id: str) -> RunDetail:
        tc = self._component(run_id)
        record = self._record(tc)
        params = self._raw_params(tc)
        all_tags = {t["Key"]: t["Value"] for t in tc.get("Tags") or []}
        datasets_order = sorted(
            (int(v), k[len(_p("dataset_order:")) :])
            for k, v in params.items()
            if k.startswith(_p("dataset_order:"))
        )
        datasets = {name: params[_p("dataset:") + name] for _, name in datasets_order}
        artifacts: list[ArtifactInfo] = []
        for field in ("InputArtifacts", "OutputArtifacts"):
            for path in tc.get(field) or {}:
                meta = all_tags.get(self._artifact_tag(path))
                if meta is None:
                    continue
                is_output, size, digest = meta.split(":", 2)
                artifacts.append(
                    ArtifactInfo(
                        path=path, size_bytes=int(size), is_output=is_output == "1", sha256=digest
                    )
                )
        children = sorted(
            (
                self._record(c)
                for c in self._iter_components(
                    [
                        {
                            "Name": "Parameters." + _p("parent_run_id"),
                            "Operator": "Equals",
                            "Value": run_id,
                        }
                    ]
                )
            ),
            key=lambda r: (r.start_ms, r.created_ns, r.run_id),
        )
        children = [c for c in children if c.parent_run_id == run_id]
        return RunDetail(
            **record.summary.model_dump(),
            code_version=params.get(_p("code_version")),
            dataset_version=datasets.get("training", next(iter(datasets.values()), None)),
            datasets=datasets,
            dependencies={
                k[len(_p("dep:")) :]: v for k, v in params.items() if k.startswith(_p("dep:"))
            },
            artifacts=sorted(artifacts, key=lambda a: a.path),
            children=[c.run_id for c in children],
            metric_history=self._history(tc, sorted(record.metrics)),
        )

    def _history(
        self, tc: Mapping[str, Any], names: list[str]
    ) -> dict[str, list[tuple[int, float]]]:
        history: dict[str, list[tuple[int, float]]] = {}
        for i in range(0, len(names), 10):
            chunk = names[i : i + 10]
            response = self._call(
                "sagemaker-metrics",
                "batch_get_metrics",
                MetricQueries=[
                    {
                        "MetricName": name,
                        "ResourceArn": self._arn(tc),
                        "MetricStat": "Last",
                        "Period": "IterationNumber",
                        "XAxisType": "IterationNumber",
                    }
                    for name in chunk
                ],
            )
            for name, result in zip(chunk, response.get("MetricQueryResults", []), strict=False):
                steps = result.get("XAxisValues") or []
                values = result.get("MetricValues") or []
                history[name] = [(int(s), float(v)) for s, v in zip(steps, values, strict=False)]
        return history

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        from botocore.exceptions import ClientError

        limit = check_max_results(max_results)
        node = parse_filter(filter_string or "")
        keys = parse_order_by([order_by] if isinstance(order_by, str) else list(order_by or ()))
        print_ = fingerprint(node, keys)
        offset = decode_token(page_token, print_)
        filters, rest = push_down(node)
        by_metric = sort_metric(keys)
        if by_metric is not None:
            try:
                found, exhausted = self._metric_window(filters, by_metric, node, offset + limit + 1)
            except ClientError as exc:
                if self._code(exc) != "ValidationException":
                    raise
                # The service refused the filter or SortBy: read every candidate instead.
            else:
                return window_page(
                    found, exhausted, keys, offset, limit, print_, describe_rest(rest)
                )
        try:
            candidates = list(self._iter_components(filters))
        except ClientError as exc:
            if self._code(exc) != "ValidationException":
                raise
            # The service could not evaluate a pushed filter: keep only the experiment scope.
            kept = [f for f in filters if f["Name"] == "Parents.ExperimentName"]
            candidates = list(self._iter_components(kept))
            rest = [p for p in (node,) if p is not None] if len(kept) != len(filters) else rest
        runs = [
            rec
            for tc in candidates
            if self._experiment(tc) != EVENTS_EXPERIMENT and matches(node, rec := self._record(tc))
        ]
        ordered = sort_runs(runs, keys)
        page = ordered[offset : offset + limit]
        end = offset + len(page)
        return RunsPage(
            runs=[r.summary for r in page],
            next_page_token=encode_token(end, print_) if end < len(ordered) else None,
            total=len(ordered),
            client_side_filter=describe_rest(rest),
        )

    def _runs(
        self, filters: list[dict[str, str]], sort_by: str = "CreationTime", descending: bool = True
    ) -> Iterator[RunRecord]:
        for tc in self._iter_components(filters, sort_by, descending):
            if self._experiment(tc) != EVENTS_EXPERIMENT:
                yield self._record(tc)

    def _metric_window(
        self, filters: list[dict[str, str]], key: OrderKey, node: Node | None, need: int
    ) -> tuple[list[RunRecord], bool]:
        """The first ``need`` matches ordered by one metric, missing last (``query.window``).

        Runs having the metric come from the service sorted by it, read lazily; only when
        they run out are the runs lacking it read, all of them (at most ``MAX_SCAN``), and
        ordered here newest first, so where the service puts missing values does not matter.
        """
        name = key.key.name
        having = self._runs(
            with_presence(filters, name, True), metric_sort_by(name), key.descending
        )
        found, exhausted = read_window(having, node, need)
        if not exhausted:
            return found, False
        lacking = self._runs(with_presence(filters, name, False))
        return found + [rec for rec in lacking if matches(node, rec)], True

    def list_experiments(self) -> list[ExperimentSummary]:
        names: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("sagemaker", "list_experiments", **kwargs)
            names += [e["ExperimentName"] for e in page.get("ExperimentSummaries", [])]
            token = page.get("NextToken")
            if not token:
                break
        times: dict[str, list[int]] = {n: [] for n in names if n != EVENTS_EXPERIMENT}
        for tc in self._iter_components([]):
            exp = self._experiment(tc)
            if exp in times:
                times[exp].append(self._record(tc).start_ms)
        summaries = [
            ExperimentSummary(
                name=name,
                run_count=len(t),
                first_run_time=from_ms(min(t)) if t else None,
                last_run_time=from_ms(max(t)) if t else None,
            )
            for name, t in times.items()
        ]
        summaries.sort(key=lambda e: e.name)
        summaries.sort(
            key=lambda e: e.last_run_time or datetime.min.replace(tzinfo=timezone.utc),
            reverse=True,
        )
        return summaries

    def read_artifact(self, run_id: str, path: str) -> bytes:
        from botocore.exceptions import ClientError

        tc = self._component(run_id)
        location = None
        for field in ("InputArtifacts", "OutputArtifacts"):
            if isinstance(path, str) and path in (tc.get(field) or {}):
                location = tc[field][path]["Value"]
        if location is None:
            raise NotFoundError(
                "artifact", str(path), f"Run {run_id} has no artifact at this path."
            )
        bucket, _, key = location[len("s3://") :].partition("/")
        try:
            return bytes(self._call("s3", "get_object", Bucket=bucket, Key=key)["Body"].read())
        except ClientError:
            raise NotFoundError("artifact file", location, "It was removed from S3.") from None

    # --- events ------------------------------------------------------------
    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        kind = check_name(kind, "kind")
        text = check_payload(payload)
        if run_id is not None:
            self._component(run_id)
        trial = self._ensure_experiment(EVENTS_EXPERIMENT)
        created = self._created_ns()
        now_ms = created // 1_000_000
        event_id = f"fraud-jlab-event-{ids.new_id(now_ms).lower()}"
        params = {
            _p("event.kind"): kind,
            _p("created_ns"): str(created),
            _p("experiment"): EVENTS_EXPERIMENT,
            **{
                _p(f"event.payload.{i:04d}"): text[i * MAX_PARAM_VALUE : (i + 1) * MAX_PARAM_VALUE]
                for i in range(max(1, math.ceil(len(text) / MAX_PARAM_VALUE)))
            },
        }
        if run_id is not None:
            params[_p("event.run_id")] = run_id
        self._call(
            "sagemaker",
            "create_trial_component",
            TrialComponentName=event_id,
            DisplayName=_safe(kind)[:120],
            # Created complete: readers never see half an event.
            Status={"PrimaryStatus": "Completed"},
            StartTime=from_ms(now_ms),
            EndTime=from_ms(now_ms),
            Parameters={k: {"StringValue": v} for k, v in params.items()},
        )
        self._call(
            "sagemaker", "associate_trial_component", TrialComponentName=event_id, TrialName=trial
        )
        return TrackerEvent(
            event_id=event_id,
            kind=kind,
            run_id=run_id,
            timestamp=from_ms(now_ms),
            payload=json.loads(text),
        )

    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        from botocore.exceptions import ClientError

        scope = [
            {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": EVENTS_EXPERIMENT}
        ]
        try:
            components = list(self._iter_components(scope))
        except ClientError as exc:
            if self._code(exc) != "ValidationException":
                raise
            components = list(self._iter_components([]))
        events = []
        for tc in components:
            params = self._raw_params(tc)
            if _p("event.kind") not in params or self._experiment(tc) != EVENTS_EXPERIMENT:
                continue
            if kind is not None and params[_p("event.kind")] != kind:
                continue
            if run_id is not None and params.get(_p("event.run_id")) != run_id:
                continue
            text = "".join(params[k] for k in sorted(params) if k.startswith(_p("event.payload.")))
            events.append(
                (
                    int(params.get(_p("created_ns"), "0")),
                    TrackerEvent(
                        event_id=str(tc["TrialComponentName"]),
                        kind=params[_p("event.kind")],
                        run_id=params.get(_p("event.run_id")),
                        timestamp=from_ms(_ms(tc.get("StartTime")) or 0),
                        payload=json.loads(text),
                    ),
                )
            )
        events.sort(key=lambda pair: pair[0], reverse=True)
        return [e for _, e in events]


__all__ = ["EVENTS_EXPERIMENT", "SageMakerTrackerStore"]
