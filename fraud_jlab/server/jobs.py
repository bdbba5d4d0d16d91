"""Background jobs: long AWS work (endpoint creation, ``InService`` waits) the client polls.

An A/B test change waits until the production endpoint is ``InService`` again, which on
SageMaker takes minutes. The REST API answers such a request ``202`` with a :class:`Job`
and runs the work in this registry's thread pool; ``GET jobs/{job_id}`` reports
``pending`` -> ``running`` -> ``succeeded`` (``result`` is the response body the
synchronous call would have had) or ``failed`` (``error`` is the same
:class:`~fraud_jlab.server.api_models.ErrorBody` and ``error_status`` the HTTP status the
single error map gives). The registry keeps the newest ``max_jobs`` jobs in memory; a
restarted server forgets its jobs (the A/B test state and the ledger are in S3).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.errors import NotFoundError
from fraud_jlab.server.api_models import ErrorBody
from fraud_jlab.tracking.ids import new_id

log = logging.getLogger(__name__)

JobStatus = Literal["pending", "running", "succeeded", "failed"]
#: ``exception -> (HTTP status, error body)``: the server's single error map.
ErrorMap = Callable[[BaseException], tuple[int, dict[str, Any]]]


class Job(BaseModel):
    """A background job (``GET jobs/{job_id}``)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(description="Job id (26-character ULID).")
    kind: str = Field(description="What the job does, e.g. 'ab_test.start'.")
    subject: str | None = Field(default=None, description="The A/B test (or run) it acts on.")
    status: JobStatus
    submitted_by: str
    created_at: datetime
    finished_at: datetime | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="On success: the body the synchronous call returns."
    )
    error_status: int | None = Field(default=None, description="On failure: the HTTP status.")
    error: ErrorBody | None = Field(default=None, description="On failure: the error body.")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class JobRegistry:
    """Runs jobs in a bounded thread pool and remembers the newest ``max_jobs`` of them."""

    def __init__(self, error_map: ErrorMap, *, threads: int = 4, max_jobs: int = 500) -> None:
        self._error_map = error_map
        self._threads = threads
        self._max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="fraud-jlab-job")
            return self._pool

    def submit(
        self, kind: str, fn: Callable[[], BaseModel], *, submitted_by: str, subject: str | None
    ) -> Job:
        """Queue ``fn`` (its model becomes ``result``); returns the pending job at once."""
        now = _now()
        job = Job(
            job_id=new_id(int(now.timestamp() * 1000)),
            kind=kind,
            subject=subject,
            status="pending",
            submitted_by=submitted_by,
            created_at=now,
        )
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self._max_jobs:
                self._jobs.popitem(last=False)
        snapshot = job.model_copy()
        self._executor().submit(self._run, job.job_id, fn)
        return snapshot

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = self._jobs[job_id].model_copy(update=changes)

    def _run(self, job_id: str, fn: Callable[[], BaseModel]) -> None:
        self._update(job_id, status="running")
        try:
            result = fn().model_dump(mode="json")
        except BaseException as exc:
            status, body = self._error_map(exc)
            if status >= 500:
                log.error("job %s failed", job_id, exc_info=exc)
            self._update(
                job_id,
                status="failed",
                finished_at=_now(),
                error_status=status,
                error=ErrorBody.model_validate(body),
            )
            return
        self._update(job_id, status="succeeded", finished_at=_now(), result=result)

    def get(self, job_id: str) -> Job:
        """The job now; NotFoundError for an unknown (or forgotten) id."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError("job", job_id)
        return job

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


__all__ = ["Job", "JobRegistry", "JobStatus"]
