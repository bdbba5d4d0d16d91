"""Import a SageMaker tuning job into the tracker and explain failed training jobs.

A finished tuning job becomes a parent run (tag ``source=sagemaker-amt``)
with one child run per training job, beside locally tuned runs: the training
job's canonical hyperparameters as params, its final metrics (``validation:auc``
stored as ``validation_auc``), ``duration_seconds`` / ``billable_seconds``,
tags for the SageMaker status and, for failed jobs, ``failure_reason`` and
``failure_guidance`` (the design's actionable message). Everything is read
from SageMaker before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.aws import aws_error, error_code
from fraud_jlab.aws import client as aws_client
from fraud_jlab.errors import AwsOperationError, ConflictError, ValidationError
from fraud_jlab.tracking import capture
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.query.filters import quote
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.tuning.space import ALIASES, CANONICAL_NAMES

DEFAULT_EXPERIMENT = "fraud-detection-tuning"
_FINISHED = ("Completed", "Failed", "Stopped")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def check_job_name(name: object, field: str) -> str:
    """A SageMaker job name (letters, digits, hyphens; up to 63); ValidationError otherwise."""
    if not isinstance(name, str) or not _JOB_NAME.match(name):
        raise ValidationError(
            f"{field} must be a SageMaker job name (letters, digits and hyphens, up to 63 "
            f"characters), got {name!r}",
            field=field,
        )
    return name


class TrainingJobFailed(AwsOperationError):
    """A SageMaker training job failed; the message says what to do about it."""

    def __init__(self, training_job_name: str, failure_reason: str) -> None:
        self.training_job_name = training_job_name
        self.failure_reason = failure_reason
        super().__init__(
            failure_guidance(training_job_name, failure_reason),
            step="training",
            aws_error_code="TrainingJobFailed",
        )


def failure_guidance(training_job_name: str, failure_reason: str) -> str:
    """The design's actionable message for a training job's ``FailureReason``."""
    if "ResourceLimitExceeded" in failure_reason:
        return (
            "Training failed: Resource limit exceeded. Try reducing instance count or requesting "
            f"limit increase. Failure reason: {failure_reason}"
        )
    if "AlgorithmError" in failure_reason:
        return (
            "Training failed: Algorithm error. Check hyperparameters and data format. "
            f"Failure reason: {failure_reason}"
        )
    return (
        f"Training failed: {failure_reason}. Check CloudWatch logs for details: "
        f"/aws/sagemaker/TrainingJobs/{training_job_name}"
    )


def _call(sm: Any, operation: str, name: str, kind: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return dict(getattr(sm, operation)(**kwargs))
    except Exception as exc:
        if not error_code(exc):
            raise
        raise aws_error(
            exc, f"{operation} for {name!r} failed: {exc}", step=operation, not_found=(kind, name)
        ) from exc


def _describe_training_job(sm: Any, name: str) -> dict[str, Any]:
    return _call(sm, "describe_training_job", name, "training job", TrainingJobName=name)


def describe_training_failure(name: str, *, sagemaker_client: Any = None) -> None:
    """Raise :class:`TrainingJobFailed` with guidance if training job ``name`` failed.

    Returns None for a job that did not fail; NotFoundError for an unknown job,
    AwsOperationError if SageMaker cannot be asked.
    """
    check_job_name(name, "training_job_name")
    sm = sagemaker_client or aws_client("sagemaker")
    desc = _describe_training_job(sm, name)
    if desc.get("TrainingJobStatus") == "Failed":
        raise TrainingJobFailed(name, str(desc.get("FailureReason") or "Unknown failure"))


def _metric_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "metric"


def _canonical_params(hyperparameters: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in hyperparameters.items():
        name = ALIASES.get(key, key)
        if name in CANONICAL_NAMES:
            out[name] = str(value).strip('"')
    return out


def _list_training_jobs(sm: Any, name: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"HyperParameterTuningJobName": name, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = _call(
            sm, "list_training_jobs_for_hyper_parameter_tuning_job", name, "tuning job", **kwargs
        )
        jobs.extend(page.get("TrainingJobSummaries", []))
        token = page.get("NextToken")
        if not token:
            return jobs


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def _child_record(summary: Mapping[str, Any], desc: Mapping[str, Any]) -> dict[str, Any]:
    name = summary["TrainingJobName"]
    status = str(desc.get("TrainingJobStatus") or summary.get("TrainingJobStatus", "Unknown"))
    metrics: dict[str, float] = {}
    for item in desc.get("FinalMetricDataList", []) or []:
        metrics[_metric_key(item["MetricName"])] = float(item["Value"])
    objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    if "Value" in objective:
        metrics[_metric_key(objective["MetricName"])] = float(objective["Value"])
    start = desc.get("TrainingStartTime") or summary.get("TrainingStartTime")
    end = desc.get("TrainingEndTime") or summary.get("TrainingEndTime")
    if start is not None and end is not None:
        metrics["duration_seconds"] = (_utc(end) - _utc(start)).total_seconds()
    if desc.get("BillableTimeInSeconds") is not None:
        metrics["billable_seconds"] = float(desc["BillableTimeInSeconds"])
    tags = {
        "sagemaker_training_job_name": name,
        "sagemaker_status": status,
        "trial_state": {"Completed": "complete", "Failed": "failed", "Stopped": "stopped"}.get(
            status, status.lower()
        ),
    }
    if summary.get("ObjectiveStatus"):
        tags["objective_status"] = str(summary["ObjectiveStatus"])
    if status == "Failed":
        reason = str(desc.get("FailureReason") or summary.get("FailureReason") or "Unknown failure")
        tags["failure_reason"] = reason[:1000]
        tags["failure_guidance"] = failure_guidance(name, reason)[:2000]
    hyper = desc.get("HyperParameters") or summary.get("TunedHyperParameters") or {}
    return {
        "name": name,
        "status": status,
        "params": _canonical_params(hyper),
        "metrics": metrics,
        "tags": tags,
        "start": _utc(start or summary.get("CreationTime")),
        "end": _utc(end) if end is not None else datetime.now(timezone.utc),
    }


def import_tuning_job(
    name: str,
    *,
    tracker: TrackerStore | None = None,
    sagemaker_client: Any = None,
    experiment_name: str = DEFAULT_EXPERIMENT,
) -> str:
    """Import finished tuning job ``name`` as a parent run with one child per training job.

    Returns the parent run id. Raises NotFoundError for an unknown job,
    ConflictError if it is still running or was already imported (the message
    names the existing run), AwsOperationError if SageMaker calls fail.
    """
    check_job_name(name, "tuning_job_name")
    sm = sagemaker_client or aws_client("sagemaker")
    store = tracker or get_tracker()
    desc = _call(sm, "describe_hyper_parameter_tuning_job", name, "tuning job",
                 HyperParameterTuningJobName=name)  # fmt: skip
    status = str(desc["HyperParameterTuningJobStatus"])
    if status not in _FINISHED:
        raise ConflictError(
            f"tuning job {name!r} is {status}; import it once it has finished (wait_for_tuning_job)"
        )
    summaries = sorted(_list_training_jobs(sm, name), key=lambda s: _utc(s.get("CreationTime")))
    children = [
        _child_record(s, _describe_training_job(sm, s["TrainingJobName"])) for s in summaries
    ]
    existing = store.search_runs(f"tags.sagemaker_tuning_job_name = {quote(name)}", max_results=1)
    if existing.runs:
        raise ConflictError(
            f"tuning job {name!r} was already imported as run {existing.runs[0].run_id}"
        )
    config = desc["HyperParameterTuningJobConfig"]
    objective = config["HyperParameterTuningJobObjective"]["MetricName"]
    strategy = str(config.get("Strategy", "Bayesian"))
    user = capture.current_user()
    parent_id = store.create_run(
        experiment_name,
        name,
        user=user,
        start_time=_utc(desc.get("CreationTime")),
        tags={
            "source": "sagemaker-amt",
            "search_type": f"sagemaker-{strategy.lower()}",
            "sagemaker_tuning_job_name": name,
            "sagemaker_tuning_job_arn": str(desc.get("HyperParameterTuningJobArn", "")),
            "sagemaker_status": status,
            "scoring": objective,
            "n_trials": str(len(children)),
        },
    )
    best_child: dict[str, Any] | None = None
    key = _metric_key(objective)
    for number, child in enumerate(children):
        child_id = store.create_run(
            experiment_name,
            child["name"],
            user=user,
            start_time=child["start"],
            parent_run_id=parent_id,
            tags={
                **child["tags"],
                "trial_number": str(number),
                "search_type": f"sagemaker-{strategy.lower()}",
            },
        )
        if child["params"]:
            store.log_params(child_id, child["params"])
        if child["metrics"]:
            store.log_metrics(child_id, child["metrics"])
        store.end_run(child_id, "failed" if child["status"] == "Failed" else "completed",
                      end_time=child["end"])  # fmt: skip
        if key in child["metrics"] and (
            best_child is None or child["metrics"][key] > best_child["metrics"][key]
        ):
            best_child = {**child, "run_id": child_id}
    if best_child is not None:
        store.log_params(parent_id, best_child["params"])
        store.log_metrics(parent_id, {f"best_{key}": best_child["metrics"][key]})
        store.set_tags(parent_id, {"best_trial_run_id": best_child["run_id"]})
    end = desc.get("HyperParameterTuningEndTime")
    store.end_run(parent_id, "completed" if status == "Completed" else "failed",
                  end_time=_utc(end) if end is not None else datetime.now(timezone.utc))  # fmt: skip
    return parent_id
