"""``POST compare``: compare runs against a baseline with paired-bootstrap CIs and plotly figures."""

from __future__ import annotations

import tornado.web
from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.comparison.production import compare_with_production_default
from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation


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
            compare_with_production_default,
            body.run_ids,
            body.baseline_run_id,
            settings=self.fraud_settings,
            tracker=self.tracker,
            pool="aws",
        )
        self.write_model(result)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    return [(r"compare", CompareHandler)]
