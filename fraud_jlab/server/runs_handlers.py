"""REST handlers for runs, experiments, server info and the OpenAPI document."""

from __future__ import annotations

import functools
from typing import Any

import tornado.web
from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.browse.names import resolve_run_ref
from fraud_jlab.server.api_models import ExperimentsResponse, InfoResponse
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation, QueryParam, build_openapi
from fraud_jlab.tracking.contract import RunDetail, RunsPage, TrackerStore
from fraud_jlab.tracking.query.paging import MAX_RESULTS_LIMIT

#: Page size of ``GET runs`` when none is asked for (at most ``MAX_RESULTS_LIMIT``).
DEFAULT_MAX_RESULTS = 100
API_PREFIX = "fraud-jlab/api"


class RunsHandler(FraudJlabHandler):
    """``GET runs``: search runs."""

    operations = {
        "get": Operation(
            operation_id="searchRuns",
            summary="Search runs with a filter, ordering and paging",
            tags=("runs",),
            query=(
                QueryParam(
                    "filter",
                    {"type": "string", "default": ""},
                    "Filter expression, e.g. `metrics.accuracy >= 0.95 and params.max_depth = '7'`.",
                ),
                QueryParam(
                    "order_by",
                    {"type": "array", "items": {"type": "string"}},
                    "Sort keys (`metrics.<k>`, `params.<k>`, `tags.<k>` or an attribute), each "
                    "optionally `ASC|DESC`; repeat the argument or separate keys with commas.",
                ),
                QueryParam(
                    "max_results",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_RESULTS_LIMIT,
                        "default": DEFAULT_MAX_RESULTS,
                    },
                    "Page size.",
                ),
                QueryParam(
                    "page_token", {"type": "string"}, "`next_page_token` of the previous page."
                ),
            ),
            responses={200: RunsPage},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        filter_string = self.query_str("filter", "") or ""
        order_by = self.query_list("order_by")
        max_results = self.query_int(
            "max_results", DEFAULT_MAX_RESULTS, minimum=1, maximum=MAX_RESULTS_LIMIT
        )
        page_token = self.query_str("page_token") or None
        await self.write_search(filter_string, order_by, max_results, page_token)


class RunsSearchRequest(BaseModel):
    """Body of ``POST runs/search``: the query of ``GET runs``, for filters too long for a URL."""

    model_config = ConfigDict(extra="forbid")

    filter: str = Field("", description="Filter expression, as in `GET runs`.")
    order_by: list[str] = Field(
        default_factory=list, description="Sort keys, each optionally `ASC|DESC`."
    )
    max_results: int = Field(
        DEFAULT_MAX_RESULTS, ge=1, le=MAX_RESULTS_LIMIT, description="Page size."
    )
    page_token: str | None = Field(None, description="`next_page_token` of the previous page.")


class RunsSearchHandler(FraudJlabHandler):
    """``POST runs/search``: ``GET runs`` with the query in a JSON body (no URL size limit)."""

    operations = {
        "post": Operation(
            operation_id="searchRunsPost",
            summary="Search runs (same as GET runs) with the query in a JSON body",
            description="For filters too long for a URL; same results and paging as `GET runs`.",
            tags=("runs",),
            request_model=RunsSearchRequest,
            responses={200: RunsPage},
        )
    }

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.parse_body(RunsSearchRequest)
        await self.write_search(
            body.filter,
            [part.strip() for key in body.order_by for part in key.split(",") if part.strip()],
            body.max_results,
            body.page_token or None,
        )


class RunHandler(FraudJlabHandler):
    """``GET runs/{run_id}``: one run in full."""

    operations = {
        "get": Operation(
            operation_id="getRun",
            summary="Everything tracked for one run, including its child run ids",
            tags=("runs",),
            path_params={"run_id": "Run id (26-character ULID), or a run name unique among runs."},
            responses={200: RunDetail},
            errors=(404,),
        )
    }

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        detail = await self.run_blocking(_get_run_by_ref, self.tracker, run_id)
        self.write_model(detail)


def _get_run_by_ref(tracker: TrackerStore, ref: str) -> RunDetail:
    # An id, or a name unique among all runs (fraud_jlab.browse.names).
    return tracker.get_run(resolve_run_ref(ref, tracker=tracker))


class ExperimentsHandler(FraudJlabHandler):
    """``GET experiments``: every experiment with its run count."""

    operations = {
        "get": Operation(
            operation_id="listExperiments",
            summary="Every experiment with its run count",
            tags=("runs",),
            responses={200: ExperimentsResponse},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        experiments = await self.run_blocking(self.tracker.list_experiments)
        self.write_model(ExperimentsResponse(experiments=experiments))


class InfoHandler(FraudJlabHandler):
    """``GET info``: version, settings and tracking backend."""

    operations = {
        "get": Operation(
            operation_id="getInfo",
            summary="Server extension version, settings and tracking backend",
            tags=("server",),
            responses={200: InfoResponse},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        from fraud_jlab.version import __version__

        self.write_model(
            InfoResponse(
                version=__version__,
                settings=self.fraud_settings.public_dict(),
                tracking_backend=type(self.tracker).__name__,
            )
        )


class OpenApiHandler(FraudJlabHandler):
    """``GET openapi.json``: the OpenAPI 3.1 document of every route served."""

    operations = {
        "get": Operation(
            operation_id="getOpenApi",
            summary="OpenAPI 3.1 document of the fraud_jlab REST API",
            tags=("server",),
            responses={200: {"type": "object", "required": ["openapi", "paths"]}},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        from fraud_jlab.version import __version__

        document = _cached_openapi(
            tuple(self._fj_context.routes),
            __version__,
            self.base_url.rstrip("/") + "/" + API_PREFIX,
        )
        self.write_json(document)


@functools.lru_cache(maxsize=8)
def _cached_openapi(
    routes: tuple[tuple[str, type[Any]], ...], version: str, server_url: str
) -> dict[str, Any]:
    # ~20 ms of schema generation; the route table is fixed for the server's lifetime
    return build_openapi(routes, version=version, server_url=server_url)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    """Routes of this module, relative to ``<base_url>fraud-jlab/api/``."""
    return [
        (r"runs", RunsHandler),
        (r"runs/search", RunsSearchHandler),
        (r"runs/(?P<run_id>[^/]+)", RunHandler),
        (r"experiments", ExperimentsHandler),
        (r"info", InfoHandler),
        (r"openapi\.json", OpenApiHandler),
    ]
