"""A SageMaker tuning job's progress as trials, and the widget poller that shows it (Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from fraud_jlab.errors import NotFoundError
from fraud_jlab.tuning.amt_progress import tuning_job_progress

from .test_tuning_amt import fake_credentials, summary, tuning_description  # noqa: F401

NAME = "fraud-xgb-tuning-1"


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm) as stubber:
        yield sm, stubber


def _queue(stubber: Stubber, status: str, jobs: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        tuning_description(status),
        {"HyperParameterTuningJobName": NAME},
    )
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": jobs},
        {"HyperParameterTuningJobName": NAME, "MaxResults": 100},
    )


def _jobs() -> list[dict[str, Any]]:
    # listed out of creation order; one early-stopped, one failed, one running
    return [
        summary("job-003", 2, "Stopped", None),
        summary("job-001", 0, "Completed", 0.91),
        summary("job-002", 1, "Completed", 0.95),
        summary("job-004", 3, "Failed", None, FailureReason="AlgorithmError: bad"),
        summary("job-005", 4, "InProgress", None),
    ]


def test_progress_lists_trials_in_creation_order_with_best_so_far(
    stubbed: tuple[Any, Stubber],
) -> None:
    sm, stubber = stubbed
    _queue(stubber, "InProgress", _jobs())
    progress = tuning_job_progress(NAME, sagemaker_client=sm)
    stubber.assert_no_pending_responses()
    assert not progress.finished and progress.job.status == "InProgress"
    trials = progress.trials
    assert [t.run_id for t in trials] == ["job-001", "job-002", "job-003", "job-004", "job-005"]
    assert [t.state for t in trials] == ["complete", "complete", "pruned", "failed", "running"]
    assert [t.score for t in trials] == [0.91, 0.95, None, None, None]
    assert [t.best_score for t in trials] == [0.91, 0.95, 0.95, 0.95, 0.95]
    assert [t.completed for t in trials] == [1, 2, 3, 4, 4]
    assert trials[0].params == {"max_depth": "5", "eta": "0.1"}
    assert trials[0].duration_seconds == 180.0 and trials[0].scoring == "validation:auc"


def test_unknown_job_is_not_found(stubbed: tuple[Any, Stubber]) -> None:
    sm, stubber = stubbed
    stubber.add_client_error(
        "describe_hyper_parameter_tuning_job",
        service_error_code="ResourceNotFound",
        service_message="Amazon SageMaker can't find a tuning job",
    )
    with pytest.raises(NotFoundError):
        tuning_job_progress(NAME, sagemaker_client=sm)


def test_poller_feeds_the_monitor_until_the_job_finishes(stubbed: tuple[Any, Stubber]) -> None:
    from fraud_jlab.widgets import AmtJobPoller

    sm, stubber = stubbed
    jobs = _jobs()
    _queue(stubber, "InProgress", jobs[:3])
    _queue(stubber, "Completed", jobs[:4])
    poller = AmtJobPoller(NAME, poll_seconds=0.01, sagemaker_client=sm)

    # The background thread polls (a timed wait between polls) and stops once Completed
    poller.start()
    assert poller._thread is not None
    poller._thread.join(10)
    assert not poller._thread.is_alive()
    stubber.assert_no_pending_responses()

    monitor = poller.monitor
    assert sorted(monitor.trials) == [0, 1, 2, 3]
    assert monitor.pruned == [2]
    assert monitor.progress.value == 4
    assert list(monitor.chart.data[0].y) == [0.91, 0.95]
    assert list(monitor.chart.data[2].y) == [0.91, 0.95, 0.95, 0.95]
    assert f"{NAME}: Completed" in monitor.status.value
    assert 'class="pruned"' in monitor.table.value and "job-003" in monitor.table.value


def test_poller_shows_an_aws_error_and_keeps_going(stubbed: tuple[Any, Stubber]) -> None:
    from fraud_jlab.widgets import AmtJobPoller

    sm, stubber = stubbed
    stubber.add_client_error(
        "describe_hyper_parameter_tuning_job", service_error_code="ThrottlingException"
    )
    poller = AmtJobPoller(NAME, sagemaker_client=sm)
    assert poller.poll() is None
    assert "Polling the tuning job failed" in poller.monitor.status.value
    _queue(stubber, "Completed", _jobs()[:2])
    progress = poller.poll()
    assert progress is not None and progress.finished and len(poller.monitor.trials) == 2
