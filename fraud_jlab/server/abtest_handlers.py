"""REST handlers for A/B tests on the production endpoint (API.md "A/B tests").

Thin: parse, call :class:`fraud_jlab.abtest.service.ABTestService` (through
:mod:`fraud_jlab.abtest.from_run` for a start) off the event loop, write the model.
Every verb is ``@authorized`` against ``fraud_jlab_abtests`` (changes "write", reads
"read"); the approver is the resolved Jupyter user (never a body field), as for
promotions.

An A/B change waits until SageMaker has the endpoint ``InService`` again (minutes on
AWS), so by default it runs as a background job: ``202`` with a
:class:`~fraud_jlab.server.jobs.Job` the client polls at ``GET jobs/{job_id}``. Before
the job is queued the request is checked synchronously, so bad input is a ``400`` (and an
unknown test a ``404``) with nothing written: a start runs the service's dry run first
(run, artifact, endpoint, plan), a change reads the test. ``"wait": true`` runs the change
in the request instead (still in a worker thread) and answers the final state. A dry run
is always answered at once (``200``, nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool

from fraud_jlab.abtest.from_run import ab_service, resolve_challenger, start_challenger
from fraud_jlab.abtest.service import ABTestService, ABTestState
from fraud_jlab.abtest.view import ABTestView
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan, check_text
from fraud_jlab.server.base import ABTestAuthorizedHandler, FraudJlabHandler
from fraud_jlab.server.jobs import Job
from fraud_jlab.server.openapi import Operation

ACTIONS = ("advance", "promote", "rollback", "stop")
_ACTION_SUMMARIES = {
    "advance": "Move the challenger to the rollout plan's next stage (variant weights)",
    "promote": "Serve the challenger's model alone on production; the test is completed",
    "rollback": "Put production back on the champion's configuration from before the test",
    "stop": "End a running test without a winner: production back on the champion",
}
_WAIT = Field(
    default=False,
    description="Run in the request and answer the final state instead of a 202 job.",
)


class ABTestStartRequest(BaseModel):
    """``POST ab-tests`` body."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(
        min_length=1,
        max_length=250,
        description="The challenger's run: its id, or its name when unique.",
    )
    model_artifact_s3_path: str | None = Field(
        default=None,
        max_length=1024,
        description="s3://.../model.tar.gz to deploy (default: the run's "
        "`sagemaker.model_data_url` tag set by package_for_sagemaker).",
    )
    reason: str = Field(
        default="",
        max_length=1000,
        description="Why (recorded in the ledger); required unless dry_run is true.",
    )
    shadow: StrictBool = Field(
        default=False,
        description="Start with a shadow stage: the challenger scores a copy of the traffic, "
        "customers see only the champion; advance moves to the plan's first live split.",
    )
    dry_run: StrictBool = Field(
        default=False, description="Return what would change; write nothing."
    )
    wait: StrictBool = _WAIT


class ABTestChangeRequest(BaseModel):
    """``POST ab-tests/{ab_test_id}/advance|promote|rollback|stop`` body."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        default="",
        max_length=1000,
        description="Why (recorded in the ledger); required unless dry_run is true.",
    )
    dry_run: StrictBool = Field(
        default=False,
        description="Check the change exactly as a real one (same 409 refusals), write "
        "nothing, and answer 200 with the EndpointChangePlan at once.",
    )
    wait: StrictBool = _WAIT


class ABTestChangeAnswer(RootModel[ABTestState | EndpointChangePlan]):
    """``200`` of a change: the plan for ``dry_run``, else (``wait``) the final A/B test state."""


class ABTestsResponse(BaseModel):
    """Every A/B test, newest start first."""

    model_config = ConfigDict(extra="forbid")

    ab_tests: list[ABTestState]


def _service(handler: FraudJlabHandler) -> ABTestService:
    # Built inside the worker thread, with the server's boto3 clients (made once).
    context = handler._fj_context
    return ab_service(
        handler.fraud_settings,
        sagemaker=context.aws_client("sagemaker"),
        s3=context.aws_client("s3"),
        cloudwatch=context.aws_client("cloudwatch"),
    )


async def _run_or_submit(
    handler: FraudJlabHandler,
    kind: str,
    subject: str,
    approver: str,
    wait: bool,
    status: int,
    fn: Callable[[], BaseModel],
) -> None:
    """Answer ``fn()`` (``wait``) or a ``202`` job running it."""
    if wait:
        handler.write_model(await handler.run_blocking(fn, pool="aws"), status=status)
        return
    job = handler._fj_context.jobs.submit(kind, fn, submitted_by=approver, subject=subject)
    handler.set_header("Location", f"{handler.base_url}fraud-jlab/api/jobs/{job.job_id}")
    handler.write_model(job, status=202)


class ABTestsHandler(ABTestAuthorizedHandler):
    """``GET ab-tests`` (every test) and ``POST ab-tests`` (start one)."""

    operations = {
        "get": Operation(
            operation_id="listABTests",
            summary="Every A/B test with its stage, weights and status, newest first",
            tags=("ab-tests",),
            responses={200: ABTestsResponse},
            errors=(502,),
        ),
        "post": Operation(
            operation_id="startABTest",
            summary="Deploy a run's model as the challenger beside production's champion",
            description=(
                "Checked first (400 naming the field, 404 for an unknown run; nothing written). "
                "200 with the plan for dry_run; otherwise 202 with a job to poll at "
                "GET jobs/{job_id} (201 with the A/B test when wait is true). 409 when another "
                "promotion holds the lock; 502 when an AWS call failed (the message says "
                "whether production is unchanged)."
            ),
            tags=("ab-tests",),
            request_model=ABTestStartRequest,
            responses={200: EndpointChangePlan, 201: ABTestState, 202: Job},
            errors=(404, 409, 502),
        ),
    }

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        tests = await self.run_blocking(lambda: _service(self).list(), pool="aws")
        self.write_model(ABTestsResponse(ab_tests=tests))

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(ABTestStartRequest)
        identity = self.approver_identity()
        approver = identity.approver_or_dry_run() if body.dry_run else identity.require()
        reason = body.reason if body.dry_run else check_text(body.reason, "reason", max_len=1000)
        challenger = await self.run_blocking(
            resolve_challenger,
            self.tracker,
            body.run_id,
            body.model_artifact_s3_path,
            self.fraud_settings,
        )
        run_id = challenger.run_id
        named_at = datetime.now(timezone.utc)  # the job starts the test the dry run shows

        def start(dry_run: bool) -> ABTestState | EndpointChangePlan:
            return start_challenger(
                _service(self),
                self.tracker,
                challenger,
                approver=approver,
                reason=reason,
                shadow=body.shadow,
                dry_run=dry_run,
                named_at=named_at,
            )

        plan = await self.run_blocking(start, True, pool="aws")
        if body.dry_run:
            self.write_model(plan)
            return
        await _run_or_submit(
            self, "ab_test.start", run_id, approver, body.wait, 201, lambda: start(False)
        )


class ABTestHandler(ABTestAuthorizedHandler):
    """``GET ab-tests/{ab_test_id}``."""

    operations = {
        "get": Operation(
            operation_id="getABTest",
            summary="One A/B test: its state, design, data, readout with CIs, SRM check, latency, "
            "recommendation and timeline",
            description=(
                "The readout uses only records whose fraud label is known (Data Capture joined "
                "with ground truth; the label cut-off and the unlabelled count say how much is "
                "missing); latency from CloudWatch ModelLatency."
            ),
            tags=("ab-tests",),
            path_params={"ab_test_id": "The A/B test id (its endpoint configuration name)."},
            responses={200: ABTestView},
            errors=(404, 502),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def get(self, ab_test_id: str) -> None:
        view = await self.run_blocking(lambda: _service(self).view(ab_test_id), pool="aws")
        self.write_model(view)


class ABTestChangeHandler(ABTestAuthorizedHandler):
    """``POST ab-tests/{ab_test_id}/<action>``; one subclass per action."""

    action: str = ""

    @tornado.web.authenticated
    @authorized
    async def post(self, ab_test_id: str) -> None:
        body = self.parse_body(ABTestChangeRequest)
        identity = self.approver_identity()
        if body.dry_run:
            approver = identity.approver_or_dry_run()
            plan = await self.run_blocking(
                lambda: getattr(_service(self), self.action)(
                    ab_test_id, approver=approver, reason=body.reason or None, dry_run=True
                ),
                pool="aws",
            )
            self.write_model(plan)
            return
        reason = check_text(body.reason, "reason", max_len=1000)
        approver = identity.require()
        await self.run_blocking(lambda: _service(self).get(ab_test_id), pool="aws")
        await _run_or_submit(
            self,
            f"ab_test.{self.action}",
            ab_test_id,
            approver,
            body.wait,
            200,
            lambda: getattr(_service(self), self.action)(
                ab_test_id, approver=approver, reason=reason
            ),
        )


def _change_handler(action: str) -> type[ABTestChangeHandler]:
    operation = Operation(
        operation_id=f"{action}ABTest",
        summary=_ACTION_SUMMARIES[action],
        description=(
            "An audited endpoint change (lock, ledger records before and after, restore on "
            "failure). 200 with the EndpointChangePlan at once for dry_run (nothing written; "
            "409 when the test is not running or, for advance, at its last stage). Otherwise "
            "reason is required (400 naming it); 202 with a job to poll at GET jobs/{job_id} "
            "(200 with the A/B test state when wait is true); 404 for an unknown test; the job "
            "fails with 409 when the test is not running (or at its last stage, for advance) "
            "and 502 when an AWS call failed."
        ),
        tags=("ab-tests",),
        path_params={"ab_test_id": "The A/B test id."},
        request_model=ABTestChangeRequest,
        responses={200: ABTestChangeAnswer, 202: Job},
        errors=(404, 409, 502),
    )
    name = f"ABTest{action.capitalize()}Handler"
    attrs: dict[str, Any] = {"action": action, "operations": {"post": operation}}
    attrs["__doc__"] = f"``POST ab-tests/{{ab_test_id}}/{action}``."
    return type(name, (ABTestChangeHandler,), attrs)


CHANGE_HANDLERS: dict[str, type[ABTestChangeHandler]] = {a: _change_handler(a) for a in ACTIONS}


class JobHandler(ABTestAuthorizedHandler):
    """``GET jobs/{job_id}``: a background job's status and result or error."""

    operations = {
        "get": Operation(
            operation_id="getJob",
            summary="A background job: pending, running, succeeded (result) or failed (error)",
            tags=("ab-tests",),
            path_params={"job_id": "Job id (from a 202 answer)."},
            responses={200: Job},
            errors=(404,),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_model(self._fj_context.jobs.get(job_id))


def routes() -> list[tuple[str, type]]:
    """A/B test and job routes relative to ``fraud-jlab/api/``."""
    return [
        (r"ab-tests", ABTestsHandler),
        *((rf"ab-tests/(?P<ab_test_id>[^/]+)/{a}", CHANGE_HANDLERS[a]) for a in ACTIONS),
        (r"ab-tests/(?P<ab_test_id>[^/]+)", ABTestHandler),
        (r"jobs/(?P<job_id>[^/]+)", JobHandler),
    ]
