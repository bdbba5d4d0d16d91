"""SageMaker Experiments backend: the connection, the trial-component layout and search primitives.

Constants and helpers for the SageMaker SDK's ``Run`` layout (see ``sagemaker.store``), the
boto3 clients with throttling backoff, experiment checks, ``Search`` paging and the mapping of
a trial component to a run record. The public store composes this with ``sagemaker.writing``
and ``sagemaker.reading``.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking import ids
from fraud_jlab.tracking.contract import (
    RunSummary,
    TrackerStore,
)
from fraud_jlab.tracking.inputs import (
    check_name,
    from_ms,
    to_ms,
)
from fraud_jlab.tracking.query.matcher import RunRecord

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


class SageMakerBase(TrackerStore):
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

    @staticmethod
    def _artifact_tag(path: str) -> str:
        return _p("a:" + hashlib.sha256(path.encode()).hexdigest()[:32])

    def check(self) -> None:
        """One ``ListExperiments`` request: raises if SageMaker is unreachable or denies access."""
        self._call("sagemaker", "list_experiments", MaxResults=1)
