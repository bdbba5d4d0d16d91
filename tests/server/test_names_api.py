"""Run names where REST takes a run: promotions, compare, GET runs/{run}."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from evaluated_runs import GATE_METRICS, log_evaluation

from fraud_jlab.tracking.contract import TrackerStore

PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}


def _run(tracker: TrackerStore, name: str, experiment: str = "fraud-detection-optimization") -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run(experiment, name, user="ds", start_time=now)
    tracker.log_params(run_id, PARAMS)
    tracker.log_metrics(run_id, {"accuracy": 0.97, "average_precision": 0.8, **GATE_METRICS})
    log_evaluation(tracker, run_id)
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


async def test_promote_by_unique_name(
    fj_api: Any, fj_tracker: TrackerStore, production: Any
) -> None:
    run_id = _run(fj_tracker, "xgb-small-steps")
    _run(fj_tracker, "xgb-deep")

    status, plan = await fj_api(
        "POST", "promotions", body={"run_id": "xgb-small-steps", "dry_run": True}
    )
    assert status == 200 and plan["run_id"] == run_id
    status, record = await fj_api(
        "POST", "promotions", body={"run_id": "xgb-small-steps", "reason": "by name"}
    )
    assert status == 201 and record["run_id"] == run_id


async def test_ambiguous_name_is_400_listing_the_ids_and_promotes_nothing(
    fj_api: Any, fj_tracker: TrackerStore, production: Any
) -> None:
    first = _run(fj_tracker, "xgb")
    second = _run(fj_tracker, "xgb")
    other = _run(fj_tracker, "xgb", experiment="elsewhere")

    status, body = await fj_api("POST", "promotions", body={"run_id": "xgb", "reason": "which?"})

    assert status == 400 and body["field"] == "run_id"
    assert first in body["message"] and second in body["message"]
    status, page = await fj_api("GET", "promotions")
    assert status == 200 and page["promotions"] == []
    # Named within its experiment, the name is unique
    status, plan = await fj_api(
        "POST",
        "promotions",
        body={"run_id": "xgb", "experiment_name": "elsewhere", "dry_run": True},
    )
    assert status == 200 and plan["run_id"] == other


async def test_get_run_and_compare_by_name(fj_api: Any, fj_tracker: TrackerStore) -> None:
    a = _run(fj_tracker, "xgb-a")
    b = _run(fj_tracker, "xgb-b")
    status, detail = await fj_api("GET", "runs", "xgb-a")
    assert status == 200 and detail["run_id"] == a
    status, body = await fj_api("GET", "runs", "no-such-run")
    assert status == 404 and "no-such-run" in body["message"]
    status, result = await fj_api(
        "POST", "compare", body={"run_ids": ["xgb-a", "xgb-b"], "baseline_run_id": "xgb-a"}
    )
    assert status == 200, result
    assert [r["run_id"] for r in result["runs"]] == [a, b] and result["baseline_run_id"] == a


async def test_run_actions_offer_promote_only_where_it_applies(
    fj_api: Any, fj_tracker: TrackerStore
) -> None:
    now = datetime.now(timezone.utc)
    parent = fj_tracker.create_run("fraud", "xgboost-tuning", user="ds", start_time=now)
    child = _run(fj_tracker, "trial-1")
    fj_tracker.create_run("fraud", "trial-2", user="ds", start_time=now, parent_run_id=parent)
    fj_tracker.end_run(parent, "completed", end_time=now)

    status, actions = await fj_api("GET", "runs", parent, "actions")
    assert status == 200 and actions["can_promote"] is False
    assert "tuning parent" in actions["reason"]
    status, actions = await fj_api("GET", "runs", child, "actions")
    assert status == 200 and actions["can_promote"] is True
    status, _ = await fj_api("GET", "runs", "no-such-run", "actions")
    assert status == 404
