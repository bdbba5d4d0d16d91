"""The background-job registry: status transitions, results, errors through the error map."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import BaseModel

from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError
from fraud_jlab.server.base import error_status_and_body
from fraud_jlab.server.jobs import Job, JobRegistry


class _Result(BaseModel):
    value: int


def _wait(registry: JobRegistry, job_id: str) -> Job:
    for _ in range(400):
        job = registry.get(job_id)
        if job.status in ("succeeded", "failed"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_a_job_goes_pending_running_succeeded_with_its_result() -> None:
    registry = JobRegistry(error_status_and_body, threads=1)
    release = threading.Event()
    started = threading.Event()

    def work() -> _Result:
        started.set()
        release.wait(5)
        return _Result(value=7)

    job = registry.submit("test.work", work, submitted_by="alice", subject="s")
    assert job.status == "pending" and job.submitted_by == "alice" and job.subject == "s"
    assert started.wait(5)
    assert registry.get(job.job_id).status == "running"
    release.set()
    done = _wait(registry, job.job_id)
    assert done.status == "succeeded" and done.result == {"value": 7}
    assert done.finished_at is not None and done.error is None
    registry.shutdown()


@pytest.mark.parametrize(
    ("exc", "status", "message"),
    [
        (ValidationError("reason is required", field="reason"), 400, "reason is required"),
        (ConflictError("lock held"), 409, "lock held"),
        (RuntimeError("secret detail"), 500, "Internal server error"),
    ],
)
def test_a_failed_job_carries_the_error_maps_status_and_body(
    exc: Exception, status: int, message: str
) -> None:
    registry = JobRegistry(error_status_and_body, threads=1)

    def work() -> _Result:
        raise exc

    done = _wait(
        registry, registry.submit("test.fail", work, submitted_by="a", subject=None).job_id
    )
    assert done.status == "failed" and done.error_status == status and done.result is None
    assert done.error is not None and message in done.error.message
    assert "secret detail" not in done.error.message
    if status == 400:
        assert done.error.field == "reason"
    registry.shutdown()


def test_unknown_and_forgotten_jobs_are_not_found() -> None:
    registry = JobRegistry(error_status_and_body, threads=1, max_jobs=2)
    ids = [
        registry.submit("t", lambda i=i: _Result(value=i), submitted_by="a", subject=None).job_id
        for i in range(3)
    ]
    with pytest.raises(NotFoundError):
        registry.get(ids[0])
    assert _wait(registry, ids[2]).result == {"value": 2}
    with pytest.raises(NotFoundError):
        registry.get("01NOSUCHJOB")
    registry.shutdown()
