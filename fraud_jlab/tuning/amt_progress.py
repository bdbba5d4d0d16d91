"""Progress of a SageMaker tuning job as trials: what a monitor shows while the job runs.

:func:`tuning_job_progress` describes the job and lists its training jobs (two
read-only calls, paged), and turns every training job into a
:class:`~fraud_jlab.tuning.progress.TrialInfo`, the same record the local searches
pass to ``on_trial``: trial ``number`` in creation order, ``state`` ``complete``,
``pruned`` (stopped early by SageMaker), ``failed`` or ``running``, ``score`` the
objective value of a completed job and ``best_score`` the best so far in the job's
objective direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.aws import client as aws_client
from fraud_jlab.models.tuning import HyperparameterTuningJob
from fraud_jlab.tuning.amt_import import _canonical_params, _list_training_jobs, check_job_name
from fraud_jlab.tuning.progress import TrialInfo

#: SageMaker training-job status -> trial state.
TRIAL_STATES: dict[str, str] = {
    "Completed": "complete",
    "Stopped": "pruned",
    "Failed": "failed",
    "InProgress": "running",
    "Stopping": "running",
}
FINISHED = ("complete", "pruned", "failed")


@dataclass(frozen=True)
class TuningJobProgress:
    """A tuning job's status and its trials so far (creation order)."""

    job: HyperparameterTuningJob
    trials: list[TrialInfo] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True once SageMaker reports the job Completed, Failed or Stopped."""
        return self.job.status in ("Completed", "Failed", "Stopped")


def _created(summary: Mapping[str, Any]) -> datetime:
    value = summary.get("CreationTime")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.max.replace(tzinfo=timezone.utc)


def _seconds(summary: Mapping[str, Any]) -> float:
    start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max((end - start).total_seconds(), 0.0)
    return 0.0


def tuning_job_progress(name: str, *, sagemaker_client: Any = None) -> TuningJobProgress:
    """The job's status and one TrialInfo per training job started so far.

    Raises NotFoundError for an unknown job and AwsOperationError when SageMaker
    cannot be asked; writes nothing.
    """
    from fraud_jlab.tuning.sagemaker_amt import describe_tuning_job

    check_job_name(name, "tuning_job_name")
    sm = sagemaker_client or aws_client("sagemaker")
    job = describe_tuning_job(name, sagemaker_client=sm)
    summaries = sorted(_list_training_jobs(sm, name), key=_created)
    maximize = job.objective_type == "Maximize"
    best: float | None = None
    completed = 0
    trials: list[TrialInfo] = []
    for number, summary in enumerate(summaries):
        state = TRIAL_STATES.get(str(summary.get("TrainingJobStatus")), "running")
        objective = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        score = float(objective["Value"]) if state == "complete" and "Value" in objective else None
        if score is not None and (best is None or (score > best if maximize else score < best)):
            best = score
        completed += state in FINISHED
        trials.append(
            TrialInfo(
                number=number,
                completed=completed,
                total=max(job.max_jobs, len(summaries)),
                params=dict(_canonical_params(summary.get("TunedHyperParameters") or {})),
                state=state,
                score=score,
                best_score=best,
                duration_seconds=_seconds(summary),
                run_id=str(summary["TrainingJobName"]),
                scoring=job.objective_metric,
            )
        )
    return TuningJobProgress(job=job, trials=trials)
