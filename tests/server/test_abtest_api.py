"""A/B test REST endpoints against moto: start -> advance -> promote, start -> rollback,
jobs, 400/403/404, every change in the promotion ledger."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import boto3
import jsonschema
import pytest
from champion_endpoint import (
    ARTIFACT,
    CHAMPION_CONFIG,
    MODELS_BUCKET,
    PRODUCTION,
    REGION,
    serve_champion,
)
from jupyter_server.auth.authorizer import Authorizer

from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.promotion.spec import SAGEMAKER_URI_TAG
from fraud_jlab.server.base import ABTESTS_AUTH_RESOURCE, FraudJlabContext
from fraud_jlab.server.openapi import build_openapi, response_schema
from fraud_jlab.tracking.contract import TrackerStore

CONFIG_BUCKET = "fraud-detection-config"


@pytest.fixture
def endpoint(production: Any) -> Any:
    """moto production endpoint serving the champion (one variant), the challenger artifact."""
    install_sagemaker_update_endpoint()
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    serve_champion(production, sagemaker)
    return sagemaker


def _run(tracker: TrackerStore, packaged: bool = True) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", "xgb", user="ds", start_time=now)
    if packaged:
        tracker.set_tags(run_id, {SAGEMAKER_URI_TAG: ARTIFACT})
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


def _keys(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=CONFIG_BUCKET).get("Contents", [])}


def _live(sagemaker: Any) -> tuple[str, dict[str, float]]:
    d = sagemaker.describe_endpoint(EndpointName=PRODUCTION)
    weights = {v["VariantName"]: float(v["CurrentWeight"]) for v in d["ProductionVariants"]}
    return str(d["EndpointConfigName"]), weights


async def _finish(fj_api: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Poll ``GET jobs/{id}`` until the job is done."""
    for _ in range(200):
        status, now = await fj_api("GET", "jobs", job["job_id"])
        assert status == 200, now
        if now["status"] in ("succeeded", "failed"):
            return dict(now)
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job['job_id']} did not finish: {now}")


async def _change(fj_api: Any, ab_test_id: str, action: str, reason: str) -> dict[str, Any]:
    status, job = await fj_api("POST", "ab-tests", ab_test_id, action, body={"reason": reason})
    assert status == 202, job
    assert (
        job["status"] in ("pending", "running", "succeeded") and job["kind"] == f"ab_test.{action}"
    )
    done = await _finish(fj_api, job)
    assert done["status"] == "succeeded", done
    return dict(done["result"])


async def _start(fj_api: Any, run_id: str) -> dict[str, Any]:
    status, job = await fj_api(
        "POST", "ab-tests", body={"run_id": run_id, "reason": "challenger beats champion offline"}
    )
    assert status == 202, job
    done = await _finish(fj_api, job)
    assert done["status"] == "succeeded", done
    return dict(done["result"])


async def _ledger(fj_api: Any) -> list[dict[str, Any]]:
    status, page = await fj_api("GET", "promotions")
    assert status == 200, page
    return list(page["promotions"])


async def test_start_advance_promote_through_rest_with_ledger_records(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any, fj_user: str
) -> None:
    run_id = _run(fj_tracker)
    state = await _start(fj_api, run_id)
    ab_test_id = state["ab_test_id"]
    assert state["status"] == "running" and state["stage"] == 0
    assert state["started_by"] == fj_user
    assert _live(endpoint) == (ab_test_id, {"Champion": 90.0, "Challenger": 10.0})

    state = await _change(fj_api, ab_test_id, "advance", "stage 1 readout fine")
    assert state["stage"] == 1 and state["weights"] == {"Champion": 75.0, "Challenger": 25.0}
    assert _live(endpoint)[1] == {"Champion": 75.0, "Challenger": 25.0}

    state = await _change(fj_api, ab_test_id, "promote", "challenger wins")
    assert state["status"] == "completed"
    assert _live(endpoint)[0] == state["promoted_config"]

    status, got = await fj_api("GET", "ab-tests", ab_test_id)
    assert status == 200 and got["state"]["status"] == "completed"
    assert [e["action"] for e in got["state"]["history"]] == ["start", "advance", "promote"]
    assert {e["approver"] for e in got["state"]["history"]} == {fj_user}
    assert got["recommendation"]["action"] == "none"
    status, listed = await fj_api("GET", "ab-tests")
    assert status == 200 and [t["ab_test_id"] for t in listed["ab_tests"]] == [ab_test_id]

    records = await _ledger(fj_api)
    kinds = [r["kind"] for r in records]
    assert kinds[:3] == ["ab_promote", "ab_weights", "ab_deploy"], kinds
    assert all(r["status"] == "completed" and r["approver"] == fj_user for r in records[:3])
    assert records[2]["endpoint_before"]["config_name"] == CHAMPION_CONFIG
    assert records[2]["endpoint_after"]["config_name"] == ab_test_id
    assert records[0]["reason"] == "challenger wins"

    # a finished test cannot be advanced: the job fails with the 409 of the error map
    status, job = await fj_api("POST", "ab-tests", ab_test_id, "advance", body={"reason": "again"})
    assert status == 202
    done = await _finish(fj_api, job)
    assert done["status"] == "failed" and done["error_status"] == 409, done
    assert "completed" in done["error"]["message"]


async def test_start_then_rollback_restores_the_champion(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any
) -> None:
    state = await _start(fj_api, _run(fj_tracker))
    state = await _change(fj_api, state["ab_test_id"], "rollback", "alert rate too high")
    assert state["status"] == "rolled_back"
    assert _live(endpoint) == (CHAMPION_CONFIG, {"Champion": 100.0})
    records = await _ledger(fj_api)
    assert [r["kind"] for r in records[:2]] == ["ab_rollback", "ab_deploy"]
    assert records[0]["endpoint_after"]["config_name"] == CHAMPION_CONFIG


async def test_wait_true_answers_the_final_state_and_dry_run_writes_nothing(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any
) -> None:
    run_id = _run(fj_tracker)
    before = _keys(boto3.client("s3", region_name=REGION))
    status, plan = await fj_api("POST", "ab-tests", body={"run_id": run_id, "dry_run": True})
    assert status == 200, plan
    assert plan["kind"] == "ab_deploy" and plan["before"]["config_name"] == CHAMPION_CONFIG
    assert _keys(boto3.client("s3", region_name=REGION)) == before
    assert _live(endpoint)[0] == CHAMPION_CONFIG

    status, state = await fj_api(
        "POST", "ab-tests", body={"run_id": run_id, "reason": "go", "wait": True}
    )
    assert status == 201 and state["status"] == "running", state
    status, state = await fj_api(
        "POST", "ab-tests", state["ab_test_id"], "stop", body={"reason": "enough", "wait": True}
    )
    assert status == 200 and state["status"] == "stopped", state
    assert _live(endpoint)[0] == CHAMPION_CONFIG


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "run_id"),
        ({"run_id": "RUN", "reason": ""}, "reason"),
        ({"run_id": "RUN"}, "reason"),
        ({"run_id": "RUN", "reason": "x", "dry_run": "yes"}, "dry_run"),
        ({"run_id": "RUN", "reason": "x", "wait": 1}, "wait"),
        (
            {"run_id": "RUN", "reason": "x", "model_artifact_s3_path": "/tmp/m"},
            "model_artifact_s3_path",
        ),
        (
            {
                "run_id": "RUN",
                "reason": "x",
                "model_artifact_s3_path": f"s3://{MODELS_BUCKET}/none",
            },
            "model_artifact_s3_path",
        ),
        ({"run_id": "RUN", "reason": "x", "shadoww": True}, "shadoww"),
        ({"run_id": "UNPACKAGED", "reason": "x"}, "model_artifact_s3_path"),
    ],
)
async def test_bad_start_bodies_are_400_naming_the_field_and_write_nothing(
    fj_api: Any,
    fj_tracker: TrackerStore,
    endpoint: Any,
    fj_context: FraudJlabContext,
    body: dict[str, Any],
    field: str,
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    keys = _keys(s3)
    configs = endpoint.list_endpoint_configs()["EndpointConfigs"]
    ids = {"RUN": _run(fj_tracker), "UNPACKAGED": _run(fj_tracker, packaged=False)}
    if body.get("run_id") in ids:
        body = {**body, "run_id": ids[body["run_id"]]}
    status, err = await fj_api("POST", "ab-tests", body=body)
    assert status == 400, err
    assert err["field"] == field, err
    assert _keys(s3) == keys
    assert endpoint.list_endpoint_configs()["EndpointConfigs"] == configs
    assert _live(endpoint)[0] == CHAMPION_CONFIG
    assert fj_context.jobs._jobs == {}


async def test_bad_change_bodies_are_400_and_unknown_ids_404(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any
) -> None:
    state = await _start(fj_api, _run(fj_tracker))
    keys = _keys(boto3.client("s3", region_name=REGION))
    for body, field in (({}, "reason"), ({"reason": ""}, "reason"), ({"reason": "x", "x": 1}, "x")):
        status, err = await fj_api("POST", "ab-tests", state["ab_test_id"], "advance", body=body)
        assert status == 400 and err["field"] == field, err
    assert _keys(boto3.client("s3", region_name=REGION)) == keys
    for path in (("ab-tests", "no-such-test"), ("jobs", "01JOBDOESNOTEXIST")):
        status, err = await fj_api("GET", *path)
        assert status == 404, err
    status, err = await fj_api("POST", "ab-tests", "no-such-test", "promote", body={"reason": "x"})
    assert status == 404, err
    status, err = await fj_api("POST", "ab-tests", "bad id!", "stop", body={"reason": "x"})
    assert status == 400 and err["field"] == "ab_test_id", err
    status, err = await fj_api("POST", "ab-tests", body={"run_id": "no-such-run", "reason": "x"})
    assert status == 404, err
    assert _keys(boto3.client("s3", region_name=REGION)) == keys
    assert _live(endpoint)[0] == state["ab_test_id"]


async def test_responses_match_the_openapi_document(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any, fj_context: FraudJlabContext
) -> None:
    document = build_openapi(fj_context.routes, version="test")
    for path in (
        "/ab-tests",
        "/ab-tests/{ab_test_id}",
        "/jobs/{job_id}",
        *(f"/ab-tests/{{ab_test_id}}/{a}" for a in ("advance", "promote", "rollback", "stop")),
    ):
        assert path in document["paths"], path
    status, job = await fj_api(
        "POST", "ab-tests", body={"run_id": _run(fj_tracker), "reason": "schema"}
    )
    jsonschema.validate(job, response_schema(document, "/ab-tests", "post", 202))
    done = await _finish(fj_api, job)
    jsonschema.validate(done, response_schema(document, "/jobs/{job_id}", "get", 200))
    status, got = await fj_api("GET", "ab-tests", done["result"]["ab_test_id"])
    assert status == 200, got
    jsonschema.validate(got, response_schema(document, "/ab-tests/{ab_test_id}", "get", 200))
    status, listed = await fj_api("GET", "ab-tests")
    assert status == 200, listed
    jsonschema.validate(listed, response_schema(document, "/ab-tests", "get", 200))


class _DenyABTests(Authorizer):
    """Allows everything except the A/B tests resource."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != ABTESTS_AUTH_RESOURCE


@pytest.mark.parametrize("fj_extra_config", [{"ServerApp": {"authorizer_class": _DenyABTests}}])
async def test_authorizer_denying_abtests_is_403_and_nothing_is_written(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    keys = _keys(s3)
    run_id = _run(fj_tracker)
    calls: list[tuple[str, tuple[str, ...], Any]] = [
        ("POST", ("ab-tests",), {"run_id": run_id, "reason": "x"}),
        *(
            ("POST", ("ab-tests", "t", a), {"reason": "x"})
            for a in ("advance", "promote", "rollback", "stop")
        ),
        ("GET", ("ab-tests",), None),
        ("GET", ("ab-tests", "t"), None),
        ("GET", ("jobs", "j"), None),
    ]
    for method, path, body in calls:
        status, err = await fj_api(method, *path, body=body)
        assert status == 403, (path, err)
        assert ABTESTS_AUTH_RESOURCE in err["message"]
    assert _keys(s3) == keys and _live(endpoint)[0] == CHAMPION_CONFIG
    status, _ = await fj_api("GET", "promotions")
    assert status == 200


async def test_shadow_start_then_advance_to_the_live_split(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any
) -> None:
    status, job = await fj_api(
        "POST", "ab-tests", body={"run_id": _run(fj_tracker), "reason": "shadow", "shadow": True}
    )
    assert status == 202, job
    done = await _finish(fj_api, job)
    assert done["status"] == "succeeded", done
    state = done["result"]
    assert state["stage"] == -1 and state["shadow_config"]
    described = endpoint.describe_endpoint(EndpointName=PRODUCTION)
    assert described["EndpointConfigName"] == state["shadow_config"]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["Challenger"]
    state = await _change(fj_api, state["ab_test_id"], "advance", "shadow scores fine")
    assert state["stage"] == 0
    assert _live(endpoint) == (state["ab_config"], {"Champion": 90.0, "Challenger": 10.0})


async def test_a_slow_endpoint_update_runs_as_a_job_and_the_server_keeps_answering(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any, fj_context: FraudJlabContext
) -> None:
    import threading
    import time

    release = threading.Event()

    def slow_update(**_: Any) -> None:
        release.wait(10)  # UpdateEndpoint "takes minutes" until the test has checked

    client = fj_context.aws_client("sagemaker")
    client.meta.events.register("before-call.sagemaker.UpdateEndpoint", slow_update)
    try:
        started = time.perf_counter()
        status, job = await fj_api(
            "POST", "ab-tests", body={"run_id": _run(fj_tracker), "reason": "slow"}
        )
        assert status == 202, job
        for _ in range(100):
            status, now = await fj_api("GET", "jobs", job["job_id"])
            if now["status"] == "running":
                break
            await asyncio.sleep(0.02)
        assert now["status"] == "running", now
        status, _ = await fj_api("GET", "runs")
        assert status == 200 and time.perf_counter() - started < 8
        assert _live(endpoint)[0] == CHAMPION_CONFIG
    finally:
        release.set()
        client.meta.events.unregister("before-call.sagemaker.UpdateEndpoint", slow_update)
    done = await _finish(fj_api, job)
    assert done["status"] == "succeeded", done
    assert _live(endpoint)[0] == done["result"]["ab_test_id"]


async def test_change_dry_run_is_200_with_the_plan_and_writes_nothing(
    fj_api: Any, fj_tracker: TrackerStore, endpoint: Any, fj_context: FraudJlabContext
) -> None:
    state = await _start(fj_api, _run(fj_tracker))
    ab_test_id = state["ab_test_id"]
    s3 = boto3.client("s3", region_name=REGION)
    keys, live = _keys(s3), _live(endpoint)
    document = build_openapi(fj_context.routes, version="test")
    for action, kind in (
        ("advance", "ab_weights"),
        ("promote", "ab_promote"),
        ("rollback", "ab_rollback"),
        ("stop", "ab_stop"),
    ):
        status, plan = await fj_api("POST", "ab-tests", ab_test_id, action, body={"dry_run": True})
        assert status == 200, plan
        assert plan["kind"] == kind and plan["before"]["config_name"] == ab_test_id
        assert plan["changes"], plan
        path = f"/ab-tests/{{ab_test_id}}/{action}"
        jsonschema.validate(plan, response_schema(document, path, "post", 200))
    assert _keys(s3) == keys and _live(endpoint) == live
    assert [j.kind for j in fj_context.jobs._jobs.values()] == ["ab_test.start"]
    status, err = await fj_api("POST", "ab-tests", ab_test_id, "advance", body={})
    assert status == 400 and err["field"] == "reason", err
    status, err = await fj_api("POST", "ab-tests", "no-such-test", "stop", body={"dry_run": True})
    assert status == 404, err
    status, err = await fj_api("POST", "ab-tests", ab_test_id, "advance", body={"dry_run": "yes"})
    assert status == 400 and err["field"] == "dry_run", err
    assert _keys(s3) == keys and _live(endpoint) == live
