"""A dry run of every A/B change: the same checks and refusals as the real change, nothing
written (endpoint, endpoint configurations, ledger, state.json, events), and a plan naming it."""

from __future__ import annotations

from typing import Any

import pytest
from ab_endpoint_env import ARTIFACT, AUDIT, CONFIG_BUCKET, IMAGE, PRODUCTION, Env, make_env

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


def _snapshot(env: Env) -> dict[str, Any]:
    """Everything a change could write: the endpoint, its configurations, every config-bucket object."""
    objects = {
        key: env.s3.get_object(Bucket=CONFIG_BUCKET, Key=key)["Body"].read()
        for key in env.keys(prefix="")
    }
    configs = sorted(
        c["EndpointConfigName"] for c in env.sagemaker.list_endpoint_configs()["EndpointConfigs"]
    )
    return {"endpoint": env.endpoint(), "configs": configs, "objects": objects}


def _dry(env: Env, action: str, ab_test_id: str, **kwargs: Any) -> EndpointChangePlan:
    plan = getattr(env.service(), action)(
        ab_test_id, approver=None, reason=None, dry_run=True, **kwargs
    )
    assert isinstance(plan, EndpointChangePlan)
    return plan


def test_dry_run_advance_writes_nothing_and_names_the_weights(env: Env) -> None:
    state = _start(env)
    before = _snapshot(env)

    plan = _dry(env, "advance", state.ab_test_id)

    assert _snapshot(env) == before
    assert plan.kind == "ab_weights" and plan.ab_test_id == state.ab_test_id
    assert plan.before.weights == {"Champion": 90.0, "Challenger": 10.0}
    assert plan.after.weights == {"Champion": 75.0, "Challenger": 25.0}
    assert plan.changes == [
        f"UpdateEndpointWeightsAndCapacities {PRODUCTION}: Champion 90% -> 75%, "
        "Challenger 10% -> 25%"
    ]
    # the real change does what the plan said
    env.service().advance(state.ab_test_id, **AUDIT)
    assert env.endpoint() == (plan.after.config_name, plan.after.weights)


def test_dry_run_promote_lists_the_promoted_config_without_creating_it(env: Env) -> None:
    state = _start(env)
    before = _snapshot(env)

    plan = _dry(env, "promote", state.ab_test_id)

    assert _snapshot(env) == before
    promoted = state.ab_config.replace("challenger", "champion", 1)
    assert plan.kind == "ab_promote"
    assert plan.after.config_name == promoted and plan.after.weights == {"Champion": 100.0}
    assert plan.changes[0] == f"CreateEndpointConfig {promoted}: Champion ({state.ab_config}) 100%"
    assert plan.changes[1].startswith(
        f"UpdateEndpoint {PRODUCTION}: {state.ab_config} -> {promoted}"
    )
    assert promoted not in before["configs"]
    real = env.service().promote(state.ab_test_id, **AUDIT)
    assert isinstance(real, ABTestState)
    assert env.endpoint() == (promoted, {"Champion": 100.0})


@pytest.mark.parametrize("action", ["rollback", "stop"])
def test_dry_run_back_to_the_champion_writes_nothing(env: Env, action: str) -> None:
    state = _start(env)
    before = _snapshot(env)

    plan = _dry(env, action, state.ab_test_id)

    assert _snapshot(env) == before
    assert plan.kind == f"ab_{action}"
    assert plan.before.config_name == state.ab_config
    assert plan.after.config_name == state.champion_config
    assert plan.after.weights == {"Champion": 100.0}
    assert plan.changes == [
        f"UpdateEndpoint {PRODUCTION}: {state.ab_config} -> {state.champion_config} (Champion 100%)"
    ]


def test_dry_run_advance_from_shadow_names_both_calls(env: Env) -> None:
    state = _start(env, shadow=True)
    before = _snapshot(env)

    plan = _dry(env, "advance", state.ab_test_id)

    assert _snapshot(env) == before
    assert plan.before.shadow_variants == ["Challenger"] and plan.after.shadow_variants == []
    assert [c.split(" ", 1)[0] for c in plan.changes] == [
        "UpdateEndpoint",
        "UpdateEndpointWeightsAndCapacities",
    ]
    assert "Challenger 0% -> 10%" in plan.changes[1]


def test_dry_run_refuses_as_the_real_change_does(env: Env) -> None:
    state = _start(env, plan=[50, 100])
    env.service().advance(state.ab_test_id, **AUDIT)
    before = _snapshot(env)

    with pytest.raises(ConflictError, match="last stage"):
        _dry(env, "advance", state.ab_test_id)
    env.service().stop(state.ab_test_id, **AUDIT)
    before = _snapshot(env)
    for action in ("advance", "promote", "stop"):
        with pytest.raises(ConflictError, match="stopped"):
            _dry(env, action, state.ab_test_id)
    assert _snapshot(env) == before


@pytest.mark.parametrize("action", ["advance", "promote", "rollback", "stop"])
def test_a_real_change_needs_a_reason(env: Env, action: str) -> None:
    state = _start(env)
    before = _snapshot(env)

    for reason in (None, "", "  "):
        with pytest.raises(ValidationError) as err:
            getattr(env.service(), action)(state.ab_test_id, approver="alice", reason=reason)
        assert err.value.field == "reason"
    with pytest.raises(ValidationError) as err:
        getattr(env.service(), action)(state.ab_test_id, approver=None, reason="why")
    assert err.value.field == "approver"
    assert _snapshot(env) == before
