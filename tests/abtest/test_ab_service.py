"""A/B tests as persisted, audited rollouts: deploy -> stages -> promote / roll back / stop."""

from __future__ import annotations

from typing import Any

import pytest
from ab_endpoint_env import ARTIFACT, AUDIT, CHAMPION_CONFIG, IMAGE, PRODUCTION, Env, make_env

from fraud_jlab.abtest.service import ABTestState
from fraud_jlab.errors import ConflictError, ValidationError
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan


@pytest.fixture
def env(moto_env: None) -> Env:
    return make_env()


def _start(env: Env, **kwargs: Any) -> ABTestState:
    state = env.service().start("exp-20240115-001", ARTIFACT, image_uri=IMAGE, **AUDIT, **kwargs)
    assert isinstance(state, ABTestState)
    return state


def test_deploy_stages_promote_each_step_in_the_ledger(env: Env) -> None:
    state = _start(env)
    assert state.status == "running" and state.plan == [10, 25, 50, 100]
    assert env.endpoint() == (state.ab_config, {"Champion": 90.0, "Challenger": 10.0})

    for pct in (25, 50, 100):
        state = env.service().advance(state.ab_test_id, **AUDIT)
        assert env.endpoint()[1] == {"Champion": 100.0 - pct, "Challenger": float(pct)}
        assert state.weights["Challenger"] == pct
    with pytest.raises(ConflictError, match="last stage"):
        env.service().advance(state.ab_test_id, **AUDIT)

    state = env.service().promote(state.ab_test_id, approver="carol", reason="significant lift")

    assert state.status == "completed"
    config, weights = env.endpoint()
    assert config == state.promoted_config and weights == {"Champion": 100.0}
    challenger = env.sagemaker.describe_endpoint_config(EndpointConfigName=config)
    assert challenger["ProductionVariants"][0]["ModelName"] == state.challenger_model
    records = env.records()
    assert [r["kind"] for r in records] == [
        "ab_deploy",
        "ab_weights",
        "ab_weights",
        "ab_weights",
        "ab_promote",
    ]
    assert all(r["status"] == "completed" for r in records)
    assert {r["ab_test_id"] for r in records} == {state.ab_test_id}
    assert records[-1]["approver"] == "carol"
    assert records[0]["endpoint_before"]["config_name"] == CHAMPION_CONFIG
    assert [e.action for e in state.history] == [
        "start",
        "advance",
        "advance",
        "advance",
        "promote",
    ]


@pytest.mark.parametrize(("action", "status"), [("rollback", "rolled_back"), ("stop", "stopped")])
def test_rollback_or_stop_puts_the_champion_back(env: Env, action: str, status: str) -> None:
    state = _start(env)
    env.service().advance(state.ab_test_id, **AUDIT)

    state = getattr(env.service(), action)(state.ab_test_id, **AUDIT)

    assert state.status == status
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})
    assert [r["kind"] for r in env.records()] == ["ab_deploy", "ab_weights", f"ab_{action}"]
    with pytest.raises(ConflictError, match=status):
        env.service().advance(state.ab_test_id, **AUDIT)


def test_rollback_after_promotion_restores_the_champion(env: Env) -> None:
    state = _start(env, plan=[50, 100])
    env.service().promote(state.ab_test_id, **AUDIT)

    state = env.service().rollback(state.ab_test_id, **AUDIT)

    assert state.status == "rolled_back"
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})


def test_state_survives_a_new_service_instance(env: Env) -> None:
    state = _start(env)
    env.service().advance(state.ab_test_id, approver="bob", reason="day 1 fine")

    fresh = env.service()  # a restarted server: new manager, new clients' state from S3 only
    again = fresh.get(state.ab_test_id)

    assert again.stage == 1 and again.weights == {"Champion": 75.0, "Challenger": 25.0}
    assert again.status == "running" and again.started_by == "alice"
    assert again.started_at == state.started_at
    assert [(e.action, e.approver) for e in again.history] == [
        ("start", "alice"),
        ("advance", "bob"),
    ]
    assert [t.ab_test_id for t in fresh.list()] == [state.ab_test_id]
    events = fresh.events(state.ab_test_id)
    assert [e.action for e in events] == ["start", "advance"]
    assert all(e.promotion_id for e in events)
    keys = env.keys(f"ab-tests/{state.ab_test_id}/")
    assert f"ab-tests/{state.ab_test_id}/state.json" in keys
    assert len([k for k in keys if "/events/" in k]) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"plan": [25, 10, 100]}, "plan"),
        ({"plan": [10, 10]}, "plan"),
        ({"plan": [0, 50]}, "plan"),
        ({"plan": [10, 150]}, "plan"),
        ({"plan": []}, "plan"),
        ({"reason": ""}, "reason"),
        ({"approver": ""}, "approver"),
    ],
)
def test_bad_start_is_rejected_and_nothing_is_written(
    env: Env, kwargs: dict[str, Any], field: str
) -> None:
    call: dict[str, Any] = {**AUDIT, "image_uri": IMAGE, **kwargs}
    models = env.sagemaker.list_models()["Models"]

    with pytest.raises(ValidationError) as err:
        env.service().start("exp-20240115-001", ARTIFACT, **call)

    assert err.value.field == field
    assert env.keys() == []
    assert env.sagemaker.list_models()["Models"] == models
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})


def test_advance_without_reason_is_rejected(env: Env) -> None:
    state = _start(env)
    keys = env.keys()

    with pytest.raises(ValidationError) as err:
        env.service().advance(state.ab_test_id, approver="alice", reason="  ")

    assert err.value.field == "reason"
    assert env.keys() == keys


def test_dry_run_start_writes_nothing(env: Env) -> None:
    models = env.sagemaker.list_models()["Models"]
    configs = env.sagemaker.list_endpoint_configs()["EndpointConfigs"]

    plan = env.service().start(
        "exp-20240115-001", ARTIFACT, image_uri=IMAGE, approver="alice", reason=None, dry_run=True
    )

    assert isinstance(plan, EndpointChangePlan)
    assert plan.after.weights == {"Champion": 90.0, "Challenger": 10.0}
    assert env.keys() == []
    assert env.sagemaker.list_models()["Models"] == models
    assert env.sagemaker.list_endpoint_configs()["EndpointConfigs"] == configs
    assert env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)["EndpointConfigName"] == (
        CHAMPION_CONFIG
    )


def test_failed_deploy_change_leaves_production_and_deletes_what_it_created(env: Env) -> None:
    from botocore.exceptions import ClientError

    def fail(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "x"}}, "Update")

    env.sagemaker.meta.events.register("before-call.sagemaker.UpdateEndpoint", fail)
    configs = env.sagemaker.list_endpoint_configs()["EndpointConfigs"]

    with pytest.raises(Exception, match="production unchanged"):
        _start(env)

    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})
    assert len(env.sagemaker.list_endpoint_configs()["EndpointConfigs"]) == len(configs)
    assert [r["status"] for r in env.records()] == ["rolled_back"]
    assert env.keys("ab-tests/") == []


def test_shadow_stage_first_then_the_live_split(env: Env) -> None:
    state = _start(env, shadow=True)

    assert state.stage == -1 and state.shadow_config is not None
    described = env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)
    assert described["EndpointConfigName"] == state.shadow_config
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["Champion"]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["Challenger"]
    first = env.records()[0]
    assert first["endpoint_after"]["shadow_variants"] == ["Challenger"]

    state = env.service().advance(state.ab_test_id, **AUDIT)

    assert state.stage == 0
    assert env.endpoint() == (state.ab_config, {"Champion": 90.0, "Challenger": 10.0})
    described = env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)
    assert "ShadowProductionVariants" not in described
    assert [r["kind"] for r in env.records()] == ["ab_deploy", "ab_weights"]


def test_a_failed_advance_from_shadow_restores_the_shadow_endpoint(env: Env) -> None:
    from botocore.exceptions import ClientError

    state = _start(env, shadow=True)
    before = env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)

    def fail(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "x"}}, "UpdateWeights")

    env.sagemaker.meta.events.register(
        "before-call.sagemaker.UpdateEndpointWeightsAndCapacities", fail
    )
    with pytest.raises(Exception, match="production unchanged"):
        env.service().advance(state.ab_test_id, **AUDIT)

    after = env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)
    assert after["EndpointConfigName"] == before["EndpointConfigName"] == state.shadow_config
    assert after["ShadowProductionVariants"][0]["VariantName"] == "Challenger"
    assert env.service().get(state.ab_test_id).stage == -1
    assert env.records()[-1]["status"] == "rolled_back"
