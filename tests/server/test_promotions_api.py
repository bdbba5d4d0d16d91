"""Promotion REST endpoints against moto: 201/200 dry-run/400/404/409/502 and rollback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError
from evaluated_runs import GATE_METRICS, log_evaluation

from fraud_jlab.aws.errors import map_aws_error
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.store import ProductionStore
from fraud_jlab.server import promotion_handlers
from fraud_jlab.server.base import FraudJlabContext
from fraud_jlab.server.openapi import build_openapi, response_schema
from fraud_jlab.tracking.contract import TrackerStore

PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}
PREFIX = "/fraud-detection/hyperparameters/"


@pytest.fixture
def promotion_routes(jp_serverapp: Any, fj_context: FraudJlabContext) -> None:
    """Serve the promotion routes (a no-op once the extension registers this module)."""
    registered = {handler for _, handler in fj_context.routes}
    missing = [(p, h) for p, h in promotion_handlers.routes() if h not in registered]
    if missing:
        base = jp_serverapp.web_app.settings["base_url"]
        jp_serverapp.web_app.add_handlers(
            ".*$", [(base + "fraud-jlab/api/" + p, h, {"context": fj_context}) for p, h in missing]
        )


def _run(tracker: TrackerStore, params: dict[str, str] = PARAMS, accuracy: float = 0.97) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", "xgb", user="ds", start_time=now)
    tracker.log_params(run_id, params)
    tracker.log_metrics(run_id, {"accuracy": accuracy, "average_precision": 0.8, **GATE_METRICS})
    log_evaluation(tracker, run_id)
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


def _ssm() -> dict[str, str]:
    resp = boto3.client("ssm", region_name="us-east-1").get_parameters_by_path(Path=PREFIX)
    return {p["Name"]: p["Value"] for p in resp["Parameters"]}


def _keys(s3: Any) -> set[str]:
    return {
        o["Key"] for o in s3.list_objects_v2(Bucket="fraud-detection-config").get("Contents", [])
    }


async def test_promote_list_get_production_and_rollback(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    first_run = _run(fj_tracker)
    status, first = await fj_api(
        "POST",
        "promotions",
        body={"run_id": first_run, "reason": "baseline", "trigger_pipeline": True},
    )
    assert status == 201, first
    assert first["status"] == "completed" and first["approver"] and first["kind"] == "promotion"
    assert first["pipeline_execution_arn"].startswith("arn:aws:states:")
    ssm_first = _ssm()
    assert ssm_first[PREFIX + "eta"] == "0.1"

    second_run = _run(fj_tracker, PARAMS | {"max_depth": "9"})
    status, second = await fj_api(
        "POST", "promotions", body={"run_id": second_run, "reason": "deeper"}
    )
    assert status == 201 and _ssm()[PREFIX + "max_depth"] == "9"

    status, page = await fj_api("GET", "promotions", params={"max_results": "1"})
    assert status == 200 and [r["promotion_id"] for r in page["promotions"]] == [
        second["promotion_id"]
    ]
    assert page["next_page_token"] == second["promotion_id"]

    status, got = await fj_api("GET", "promotions", first["promotion_id"])
    assert status == 200 and got["pipeline_status"] == "RUNNING"

    status, rolled = await fj_api(
        "POST",
        "promotions",
        first["promotion_id"],
        "rollback",
        body={"reason": "deeper model regressed"},
    )
    assert status == 201, rolled
    assert rolled["kind"] == "rollback" and rolled["rollback_of"] == first["promotion_id"]
    assert rolled["approver"] and rolled["reason"] == "deeper model regressed"
    assert _ssm() == ssm_first

    status, live = await fj_api("GET", "production")
    assert status == 200 and live["promotion"]["promotion_id"] == rolled["promotion_id"]
    assert live["ssm"] == ssm_first and live["config"]["model"]["version"] == first_run


async def test_dry_run_is_200_and_writes_nothing(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    run_id = _run(fj_tracker, accuracy=0.5)
    # A dry run needs no reason: the user sees gates and diff before writing one
    status, plan = await fj_api("POST", "promotions", body={"run_id": run_id, "dry_run": True})
    assert status == 200, plan
    assert plan["gates_passed"] is False and plan["gates"][0]["name"] == "min_accuracy"
    assert {d["path"] for d in plan["diff"]["ssm"]} == {
        PREFIX + n
        for n in ("objective", "num_round", "max_depth", "eta", "subsample", "colsample_bytree")
    }
    assert _keys(production) == set() and _ssm() == {}


async def test_responses_match_the_openapi_document(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    document = build_openapi(promotion_handlers.routes(), version="test")
    run_id = _run(fj_tracker)
    status, plan = await fj_api(
        "POST", "promotions", body={"run_id": run_id, "reason": "r", "dry_run": True}
    )
    jsonschema.validate(plan, response_schema(document, "/promotions", "post", 200))
    status, record = await fj_api("POST", "promotions", body={"run_id": run_id, "reason": "r"})
    assert status == 201
    jsonschema.validate(record, response_schema(document, "/promotions", "post", 201))
    status, page = await fj_api("GET", "promotions")
    jsonschema.validate(page, response_schema(document, "/promotions", "get", 200))
    status, live = await fj_api("GET", "production")
    jsonschema.validate(live, response_schema(document, "/production", "get", 200))
    status, error = await fj_api("GET", "promotions", "nope")
    assert status == 400
    jsonschema.validate(error, response_schema(document, "/promotions/{promotion_id}", "get", 400))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "no run"}, "run_id"),
        ({"run_id": "R", "reason": ""}, "reason"),
        ({"run_id": "R"}, "reason"),
        ({"run_id": "R", "reason": "   ", "dry_run": False}, "reason"),
        ({"run_id": "R", "reason": "x", "approver": "mallory"}, "approver"),
        ({"run_id": "R", "reason": "x", "dry_run": "yes"}, "dry_run"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    fj_api: Any, production: Any, promotion_routes: None, body: dict[str, Any], field: str
) -> None:
    status, payload = await fj_api("POST", "promotions", body=body)
    assert status == 400, payload
    assert payload["field"] == field
    assert _keys(production) == set()


async def test_invalid_hyperparameters_and_failed_gates_are_400(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    bad = _run(fj_tracker, PARAMS | {"max_depth": "99"})
    status, payload = await fj_api("POST", "promotions", body={"run_id": bad, "reason": "r"})
    assert status == 400 and "max_depth" in payload["message"] and "[1, 20]" in payload["message"]
    weak = _run(fj_tracker, accuracy=0.4)
    status, payload = await fj_api("POST", "promotions", body={"run_id": weak, "reason": "r"})
    assert status == 400 and payload["field"] == "gates"
    status, forced = await fj_api(
        "POST", "promotions", body={"run_id": weak, "reason": "hotfix", "force": True}
    )
    assert status == 201 and forced["forced"] is True


async def test_unknown_ids_are_404(fj_api: Any, production: Any, promotion_routes: None) -> None:
    status, _ = await fj_api(
        "POST", "promotions", body={"run_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "reason": "r"}
    )
    assert status == 404
    status, _ = await fj_api("GET", "promotions", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert status == 404
    status, _ = await fj_api(
        "POST", "promotions", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "rollback", body={"reason": "r"}
    )
    assert status == 404


async def test_held_lock_is_409(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    lock = PromotionLock(
        production, "fraud-detection-config", lambda: datetime.now(timezone.utc), 600
    )
    lease = lock.acquire("someone-else")
    status, payload = await fj_api(
        "POST", "promotions", body={"run_id": _run(fj_tracker), "reason": "r"}
    )
    assert status == 409 and "someone-else" in payload["message"]
    assert _ssm() == {}
    lock.release(lease)


async def test_aws_failure_mid_promotion_is_502_and_production_unchanged(
    fj_api: Any,
    fj_tracker: TrackerStore,
    production: Any,
    promotion_routes: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, _ = await fj_api(
        "POST", "promotions", body={"run_id": _run(fj_tracker), "reason": "base"}
    )
    assert status == 201
    before = _ssm()
    config_before = production.get_object(
        Bucket="fraud-detection-config", Key="production-model-config.yaml"
    )["Body"].read()

    def broken(self: ProductionStore, step: str, body: bytes, expected_etag: str | None) -> str:
        error = ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        raise map_aws_error(error, service="s3", step=step) from error

    monkeypatch.setattr(ProductionStore, "put_config", broken)
    status, payload = await fj_api(
        "POST",
        "promotions",
        body={"run_id": _run(fj_tracker, PARAMS | {"max_depth": "3"}), "reason": "r"},
    )
    assert status == 502, payload
    assert "write_config" in payload["message"] and "Production unchanged" in payload["message"]
    assert _ssm() == before
    after = production.get_object(
        Bucket="fraud-detection-config", Key="production-model-config.yaml"
    )["Body"].read()
    assert after == config_before
    status, page = await fj_api("GET", "promotions")
    assert page["promotions"][0]["status"] == "rolled_back"
    assert page["promotions"][0]["failed_step"] == "write_config"


@pytest.mark.parametrize("depth", [65, 1_100, 100_000])
async def test_deeply_nested_bodies_are_400_not_500(
    fj_api: Any, production: Any, promotion_routes: None, depth: int
) -> None:
    body = '{"run_id": "R", "reason": "x", "extra": ' + "[" * depth + "]" * depth + "}"
    status, payload = await fj_api("POST", "promotions", body=body)
    assert status == 400, payload
    assert payload["field"] == "body"
    assert "allowed 1..64" in payload["message"]
    assert _keys(production) == set()


async def test_lone_surrogate_in_a_promotion_body_is_400(
    fj_api: Any, production: Any, promotion_routes: None
) -> None:
    status, payload = await fj_api("POST", "promotions", body={"run_id": "R", "reason": "\ud83d"})
    assert status == 400, payload
    assert payload["field"] == "reason"
    assert _keys(production) == set()


async def test_unfinished_attempt_is_reported_and_recovered_over_rest(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    from fraud_jlab.config import FraudJlab
    from fraud_jlab.promotion import ProductionIntegrator
    from fraud_jlab.promotion.recovery import RECOVERY_GRACE_SECONDS

    status, _ = await fj_api(
        "POST", "promotions", body={"run_id": _run(fj_tracker), "reason": "base"}
    )
    assert status == 201
    ssm_before = _ssm()

    class Died(KeyboardInterrupt):
        pass

    ssm = boto3.client("ssm", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    puts = {"n": 0}

    def on_put(**_: Any) -> None:
        puts["n"] += 1
        if puts["n"] > 3:
            raise Died()

    def on_delete(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == "locks/promotion.lock":
            raise Died()

    ssm.meta.events.register("before-call.ssm.PutParameter", on_put)
    s3.meta.events.register("before-parameter-build.s3.DeleteObject", on_delete)
    dying = ProductionIntegrator(
        FraudJlab(),
        tracker=fj_tracker,
        ssm_client=ssm,
        s3_client=s3,
        sfn_client=boto3.client("stepfunctions", region_name="us-east-1"),
    )
    run_id = _run(fj_tracker, params={**PARAMS, "max_depth": "9"})
    with pytest.raises(Died):
        dying.promote_run(run_id, approver="bob", reason="dies")
    assert _ssm() != ssm_before
    # make the dead attempt's lock older than the grace period
    lock = json.loads(
        production.get_object(Bucket="fraud-detection-config", Key="locks/promotion.lock")[
            "Body"
        ].read()
    )
    lock["acquired_at"] = (
        datetime.now(timezone.utc) - timedelta(seconds=RECOVERY_GRACE_SECONDS + 5)
    ).isoformat()
    production.put_object(
        Bucket="fraud-detection-config", Key="locks/promotion.lock", Body=json.dumps(lock).encode()
    )

    status, live = await fj_api("GET", "production")
    assert status == 200
    [unfinished] = live["unfinished"]
    assert unfinished["run_id"] == run_id and unfinished["approver"] == "bob"
    assert unfinished["live"] is False
    status, page = await fj_api("GET", "promotions")
    assert status == 200 and [a["promotion_id"] for a in page["in_progress"]] == [
        unfinished["promotion_id"]
    ]
    status, err = await fj_api("POST", "production", "recover", body={})
    assert "reason" in json.dumps(err)
    assert status == 400
    status, result = await fj_api(
        "POST", "production", "recover", body={"reason": "server was killed"}
    )
    assert status == 200, result
    final, recovery = result["records"]
    assert final["promotion_id"] == unfinished["promotion_id"] and final["status"] == "rolled_back"
    assert recovery["kind"] == "recovery" and recovery["reason"] == "server was killed"
    assert _ssm() == ssm_before
    status, live = await fj_api("GET", "production")
    assert live["unfinished"] == []
    status, page = await fj_api("GET", "promotions")
    assert page["in_progress"] == []


async def test_rollback_target_before_undoes_and_is_validated(
    fj_api: Any, fj_tracker: TrackerStore, production: Any, promotion_routes: None
) -> None:
    # Given two promotions
    status, first = await fj_api(
        "POST", "promotions", body={"run_id": _run(fj_tracker), "reason": "baseline"}
    )
    assert status == 201
    ssm_first = _ssm()
    status, second = await fj_api(
        "POST",
        "promotions",
        body={"run_id": _run(fj_tracker, PARAMS | {"max_depth": "9"}), "reason": "deeper"},
    )
    assert status == 201

    # When the target is not one of the two
    status, error = await fj_api(
        "POST",
        "promotions",
        second["promotion_id"],
        "rollback",
        body={"reason": "x", "target": "yesterday"},
    )
    # Then it is a 400 naming the field, and nothing changed
    assert status == 400 and "target" in str(error) and _ssm()[PREFIX + "max_depth"] == "9"

    # When the second is undone
    status, undo = await fj_api(
        "POST",
        "promotions",
        second["promotion_id"],
        "rollback",
        body={"reason": "regressed", "target": "before"},
    )
    assert status == 201, undo
    assert undo["rollback_target"] == "before" and undo["rollback_of"] == second["promotion_id"]
    assert _ssm() == ssm_first

    # And the first page of the history offers the state before the first promotion
    status, page = await fj_api("GET", "promotions")
    assert status == 200 and page["baseline"]["promotion_id"] == first["promotion_id"]
    assert set(page["baseline"]["state"]["ssm"].values()) == {None}


def test_rollback_target_is_in_the_openapi_document() -> None:
    document = build_openapi(promotion_handlers.routes(), version="test")
    text = json.dumps(document)
    assert '"before"' in text and '"after"' in text and "undo it" in text
