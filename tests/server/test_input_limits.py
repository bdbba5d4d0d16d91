"""Hostile input sizes and shapes: oversized bodies (413), deep filters (400), hostile path ids."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import implemented_verbs, openapi_path
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.query.filters import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH

BODY_LIMIT = 4096
BODY_VERBS = {"post", "put", "patch", "delete"}


def _body_routes(fj_context: Any) -> list[tuple[str, str]]:
    """(URL path relative to fraud-jlab/api, verb) of every served verb that takes a body."""
    out = []
    for route, handler in fj_context.routes:
        assert issubclass(handler, FraudJlabHandler)
        path = openapi_path(route).strip("/")
        path = path.replace("{run_id}", "01J00000000000000000000000").replace(
            "{promotion_id}", "01J00000000000000000000000"
        )
        out.extend((path, verb) for verb in implemented_verbs(handler) if verb in BODY_VERBS)
    return out


@pytest.mark.parametrize("fj_extra_config", [{"FraudJlab": {"max_body_bytes": BODY_LIMIT}}])
async def test_every_body_over_the_limit_is_413_with_the_limit_named(
    fj_api: Any, fj_context: Any, production: Any
) -> None:
    routes = _body_routes(fj_context)
    assert len(routes) >= 4
    big = json.dumps({"reason": "x" * (BODY_LIMIT + 1)})
    for path, verb in routes:
        # When the body is one byte over the limit
        status, body = await fj_api(verb.upper(), *path.split("/"), body=big)
        # Then 413 names the size, the limit and the setting
        assert status == 413, (verb, path, status, body)
        assert f"allowed 0..{BODY_LIMIT} bytes" in body["message"]
        assert "max_body_bytes" in body["message"] and body["field"] == "body"


@pytest.mark.parametrize("fj_extra_config", [{"FraudJlab": {"max_body_bytes": BODY_LIMIT}}])
async def test_body_at_the_limit_is_parsed(fj_api: Any) -> None:
    payload = {"filter": "", "order_by": [], "max_results": 10}
    text = json.dumps(payload)
    text = text[:-1] + " " * (BODY_LIMIT - len(text)) + "}"
    assert len(text.encode()) == BODY_LIMIT
    status, body = await fj_api("POST", "runs", "search", body=text)
    assert status == 200, body


@pytest.mark.parametrize("fj_extra_config", [{"FraudJlab": {"max_body_bytes": BODY_LIMIT}}])
async def test_oversized_body_without_a_token_is_still_403(fj_api: Any) -> None:
    status, _ = await fj_api("POST", "runs", "search", body="x" * (BODY_LIMIT * 2), token=False)
    assert status == 403


def test_max_body_bytes_is_validated() -> None:
    from traitlets import TraitError

    from fraud_jlab.config import FraudJlab

    with pytest.raises(TraitError, match="max_body_bytes must be between 1024"):
        FraudJlab(max_body_bytes=10)


async def test_openapi_documents_413_for_operations_with_a_body(fj_api: Any) -> None:
    status, document = await fj_api("GET", "openapi.json")
    assert status == 200
    for verbs in document["paths"].values():
        for verb, op in verbs.items():
            assert ("413" in op["responses"]) == ("requestBody" in op), (verb, op["operationId"])


# --- filters: nesting and length ------------------------------------------------------


def _nested(depth: int) -> str:
    return "(" * depth + "metrics.accuracy >= 0.5" + ")" * depth


@pytest.mark.parametrize("depth", [MAX_FILTER_DEPTH + 1, 1000, 9_980, 10_000, 100_000])
async def test_deep_parentheses_are_400_not_a_crash(fj_api: Any, depth: int) -> None:
    text = _nested(depth)
    # POST carries any length; GET only what fits a URL (tornado's 64 KiB header limit)
    status, body = await fj_api("POST", "runs", "search", body={"filter": text})
    assert status == 400, (depth, body)
    assert body["field"] == "filter"
    limit = f"0..{MAX_FILTER_LENGTH}" if len(text) > MAX_FILTER_LENGTH else f"1..{MAX_FILTER_DEPTH}"
    assert limit in body["message"] or "allowed" in body["message"], body["message"]
    if len(text) < 30_000:
        status, body = await fj_api("GET", "runs", params={"filter": text})
        assert status == 400 and body["field"] == "filter"
    # the server still answers
    assert (await fj_api("GET", "runs"))[0] == 200


def test_10000_deep_filter_is_rejected_by_search_runs_in_python(fj_tracking_uri: str) -> None:
    from fraud_jlab.errors import ValidationError
    from fraud_jlab.tracking.registry import tracker_from_uri

    store = tracker_from_uri(fj_tracking_uri)
    try:
        for text in (_nested(10_000), _nested(9_980)):
            with pytest.raises(ValidationError) as info:
                store.search_runs(text)
            assert info.value.field == "filter"
    finally:
        store.close()


# --- path parameters -----------------------------------------------------------------

HOSTILE_IDS = [
    "..",
    "..%2F..%2Fproduction-model-config.yaml",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2flock.json",
    "x' OR '1'='1",
    "1; DROP TABLE runs; --",
    "%00",
    "%E2%80%AE",
    "a" * 2000,
]


@pytest.mark.parametrize("raw", HOSTILE_IDS)
async def test_hostile_path_ids_are_400_or_404(
    jp_fetch: Any, fj_tracker: TrackerStore, production: Any, raw: str
) -> None:
    fj_tracker.create_run(
        "fraud-detection-optimization", "xgb", user="ds", start_time=datetime.now(timezone.utc)
    )
    objects_before = {
        o["Key"]
        for o in production.list_objects_v2(Bucket="fraud-detection-config").get("Contents", [])
    }
    for path in (f"runs/{raw}", f"promotions/{raw}", f"promotions/{raw}/rollback"):
        method = "POST" if path.endswith("rollback") else "GET"
        body = json.dumps({"reason": "probe"}) if method == "POST" else None
        response = await jp_fetch(
            "fraud-jlab", "api", *path.split("/"), method=method, body=body, raise_error=False
        )
        assert response.code in (400, 404), (path, response.code, response.body[:300])
        text = response.body.decode()
        if response.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(text)
            assert set(payload) == {"message", "errors", "field"}
            # no file content, SQL error or traceback leaks into the answer
            assert "root:" not in text and "sqlite" not in text.lower()
            assert "Traceback" not in text
    # nothing was written to the config bucket (no key built from the id)
    objects_after = {
        o["Key"]
        for o in production.list_objects_v2(Bucket="fraud-detection-config").get("Contents", [])
    }
    assert objects_after == objects_before
    assert len(fj_tracker.search_runs("").runs) == 1
