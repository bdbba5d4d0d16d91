"""``POST compare``: compare runs against a baseline with paired-bootstrap CIs and plotly figures."""

from __future__ import annotations

import tornado.web
from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.browse.names import resolve_run_ref, resolve_run_refs
from fraud_jlab.comparison.production import compare_with_production_default
from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.config import FraudJlab
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation
from fraud_jlab.tracking.contract import TrackerStore


class CompareRequest(BaseModel):
    """Body of ``POST compare``."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[str] = Field(
        min_length=2,
        description="Runs to compare by id or unique name (2..max_compare_runs, duplicates ignored).",
    )
    baseline_run_id: str | None = Field(
        default=None,
        description="Run the deltas are measured against; default: the run in production, if known.",
    )


class CompareHandler(FraudJlabHandler):
    """``POST compare``."""

    operations = {
        "post": Operation(
            operation_id="compareRuns",
            summary="Metrics table, deltas with paired-bootstrap CIs and figures for several runs",
            tags=("compare",),
            request_model=CompareRequest,
            responses={200: CompareResult},
            errors=(404,),
        )
    }

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.parse_body(CompareRequest)
        result = await self.run_blocking(
            _compare, body, self.fraud_settings, self.tracker, pool="aws"
        )
        self.write_model(result)


def _compare(body: CompareRequest, settings: FraudJlab, tracker: TrackerStore) -> CompareResult:
    run_ids = body.run_ids
    baseline = body.baseline_run_id
    # Names resolve to ids (one place: fraud_jlab.browse.names); an oversized list is left
    # for the comparison's own limit check rather than looked up run by run.
    if len(run_ids) <= settings.max_compare_runs:
        run_ids = resolve_run_refs(run_ids, tracker=tracker)
    if baseline:
        baseline = resolve_run_ref(baseline, tracker=tracker, field="baseline_run_id")
    return compare_with_production_default(run_ids, baseline, settings=settings, tracker=tracker)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    return [(r"compare", CompareHandler)]
