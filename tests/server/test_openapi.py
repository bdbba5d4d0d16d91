"""The served OpenAPI document: valid, complete, and true to real responses."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import jsonschema
import pytest
import tornado.web
from openapi_spec_validator import validate
from tornado.routing import Router

import fraud_jlab
from fraud_jlab.server.base import FraudJlabContext, FraudJlabHandler
from fraud_jlab.server.extension import collect_routes
from fraud_jlab.server.openapi import (
    Operation,
    build_openapi,
    implemented_verbs,
    openapi_path,
    response_schema,
)
from fraud_jlab.tracking.contract import TrackerStore

API = "fraud-jlab/api/"


def _served_fraud_routes(router: Any, base_url: str) -> dict[str, type[Any]]:
    """Every (relative path regex -> handler) tornado actually routes under fraud-jlab/api/."""
    found: dict[str, type[Any]] = {}
    for rule in getattr(router, "rules", []):
        target = rule.target
        if isinstance(target, Router):
            found.update(_served_fraud_routes(target, base_url))
        elif isinstance(target, type) and issubclass(target, tornado.web.RequestHandler):
            pattern = getattr(rule.matcher, "regex", None)
            if pattern is None:
                continue
            text = pattern.pattern.rstrip("$")
            prefix = base_url + API
            if text.startswith(prefix):
                found[text[len(prefix) :]] = target
    return found


def _validator(document: dict[str, Any], path: str, verb: str, status: int) -> Any:
    schema = response_schema(document, path, verb, status)
    return jsonschema.Draft202012Validator(schema)


async def test_served_document_is_valid_openapi_3_1(fj_api: Any, jp_base_url: str) -> None:
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == fraud_jlab.__version__
    assert document["servers"] == [{"url": jp_base_url + "fraud-jlab/api"}]
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))


async def test_every_served_route_and_verb_is_documented(
    fj_api: Any, jp_serverapp: Any, fj_context: FraudJlabContext
) -> None:
    # Given the routes tornado really serves under fraud-jlab/api/
    served = _served_fraud_routes(
        jp_serverapp.web_app.default_router, jp_serverapp.web_app.settings["base_url"]
    )
    assert {"runs", "runs/(?P<run_id>[^/]+)", "experiments", "info", r"openapi\.json"} <= set(
        served
    )
    # They are exactly the extension's route table (nothing registered around it)
    assert served == dict(fj_context.routes)

    # When the document is fetched
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200

    # Then every route and every verb its handler implements is in it
    for route, handler in served.items():
        path = openapi_path(route)
        assert path in document["paths"], f"{route} ({handler.__name__}) undocumented"
        assert set(document["paths"][path]) == set(implemented_verbs(handler))
    assert len(document["paths"]) == len(served)


@pytest.fixture
def run_with_child(fj_tracker: TrackerStore) -> tuple[str, str]:
    start = datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
    parent = fj_tracker.create_run("fraud-xgb", "tuning", user="analyst", start_time=start)
    fj_tracker.log_params(parent, {"strategy": "random", "n_trials": 20})
    child = fj_tracker.create_run(
        "fraud-xgb", "trial-0", user="analyst", start_time=start, parent_run_id=parent
    )
    fj_tracker.log_metrics(child, {"auc_roc": 0.97, "average_precision": 0.81}, step=1)
    fj_tracker.set_tags(child, {"stage": "dev"})
    fj_tracker.end_run(child, "completed", end_time=start)
    return parent, child


async def test_real_responses_match_their_documented_schemas(
    fj_api: Any, run_with_child: tuple[str, str]
) -> None:
    parent, child = run_with_child
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200

    calls: list[tuple[tuple[str, ...], dict[str, str], str, int, bool]] = [
        (("runs",), {"order_by": "start_time DESC"}, "/runs", 200, True),
        (("runs", parent), {}, "/runs/{run_id}", 200, True),
        (("runs", child), {}, "/runs/{run_id}", 200, True),
        (("experiments",), {}, "/experiments", 200, True),
        (("info",), {}, "/info", 200, True),
        (("openapi.json",), {}, "/openapi.json", 200, True),
        (("runs",), {"max_results": "0"}, "/runs", 400, True),
        (("runs",), {"filter": "metrics.x >"}, "/runs", 400, True),
        (("runs", "no-such-run"), {}, "/runs/{run_id}", 404, True),
        (("experiments",), {}, "/experiments", 403, False),
    ]
    for parts, params, path, expected, token in calls:
        status, body = await fj_api("GET", *parts, params=params, token=token)
        assert status == expected, (parts, body)
        errors = sorted(_validator(document, path, "get", status).iter_errors(body), key=str)
        assert not errors, f"GET {'/'.join(parts)} -> {status}: {errors[0].message}"


async def test_schema_rejects_a_response_missing_required_fields(
    fj_api: Any, run_with_child: tuple[str, str]
) -> None:
    # The check above is only meaningful if the schemas constrain the bodies
    _, document = await fj_api("GET", "openapi.json")
    status, page = await fj_api("GET", "runs")
    assert status == 200
    del page["runs"][0]["status"]
    page["total"] = "two"
    errors = list(_validator(document, "/runs", "get", 200).iter_errors(page))
    assert {e.validator for e in errors} >= {"required", "type"}


# --- the builder ------------------------------------------------------------


class _Undocumented(FraudJlabHandler):
    operations = {"get": Operation(operation_id="x", summary="x", responses={200: None})}

    @tornado.web.authenticated
    async def get(self) -> None:
        self.write_json({})

    @tornado.web.authenticated
    async def delete(self) -> None:
        self.write_json({})


def test_a_verb_without_operation_fails_the_build() -> None:
    with pytest.raises(ValueError, match=r"_Undocumented\.delete serves /thing"):
        build_openapi([("thing", _Undocumented)], version="1")


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("runs", "/runs"),
        ("runs/(?P<run_id>[^/]+)", "/runs/{run_id}"),
        (r"openapi\.json", "/openapi.json"),
        ("promotions/(?P<promotion_id>[^/]+)/rollback", "/promotions/{promotion_id}/rollback"),
    ],
)
def test_route_regex_becomes_openapi_path(route: str, path: str) -> None:
    assert openapi_path(route) == path


def test_unnamed_regex_group_is_rejected() -> None:
    with pytest.raises(ValueError, match="named groups"):
        openapi_path("runs/([^/]+)")


def test_every_operation_documents_error_bodies() -> None:
    document = build_openapi(collect_routes(), version="1")
    validate(document)
    for path, item in document["paths"].items():
        for verb, op in item.items():
            for status in ("400", "403", "500"):
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, verb, status)
    assert "404" in document["paths"]["/runs/{run_id}"]["get"]["responses"]
    max_results = next(
        p for p in document["paths"]["/runs"]["get"]["parameters"] if p["name"] == "max_results"
    )
    assert (max_results["schema"]["minimum"], max_results["schema"]["maximum"]) == (1, 1000)
