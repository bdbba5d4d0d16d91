"""``POST compare``: compare runs against a baseline with paired-bootstrap CIs and plotly figures."""

from __future__ import annotations

import tornado.web
from botocore.exceptions import BotoCoreError
from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.comparison.runs import CompareResult, compare_runs
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import FraudJlabError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation
from fraud_jlab.tracking.contract import TrackerStore


class CompareRequest(BaseModel):
    """Body of ``POST compare``."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[str] = Field(
        min_length=2, description="Runs to compare (2..max_compare_runs, duplicates ignored)."
    )
    baseline_run_id: str | None = Field(
        default=None,
        description="Run the deltas are measured against; default: the run in production, if known.",
    )


def compare_with_production_default(
    request: CompareRequest, settings: FraudJlab, tracker: TrackerStore
) -> CompareResult:
    """Compare ``request.run_ids``; without an explicit baseline, use the production run when known."""
    production_run_id = None
    notes: list[str] = []
    if request.baseline_run_id is None:
        try:
            production_run_id = ProductionIntegrator(
                settings=settings, tracker=tracker
            ).production_run_id()
        except (FraudJlabError, BotoCoreError) as exc:
            # Comparing runs must not depend on AWS being reachable; say why there is no baseline.
            notes.append(
                f"No production baseline: the production config could not be read ({exc})."
            )
    result = compare_runs(
        request.run_ids,
        request.baseline_run_id,
        tracker=tracker,
        production_run_id=production_run_id,
        max_runs=settings.max_compare_runs,
    )
    if notes:
        result = result.model_copy(update={"notes": [*result.notes, *notes]})
    return result


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
            compare_with_production_default, body, self.fraud_settings, self.tracker
        )
        self.write_model(result)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    return [(r"compare", CompareHandler)]
