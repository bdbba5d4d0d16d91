"""Audited endpoint changes: ledger, lock, validation, and a failure at every AWS call."""

from __future__ import annotations

from typing import Any

import pytest
from ab_endpoint_env import (
    AB_CONFIG,
    AUDIT,
    CHAMPION_CONFIG,
    CONFIG_BUCKET,
    NOW,
    Env,
    fail_nth_call,
    make_env,
    record_calls,
)
from moto import mock_aws

from fraud_jlab.errors import ConflictError, FraudJlabError, ValidationError
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan, EndpointTarget
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.models import PromotionRecord

DEPLOY = EndpointTarget(AB_CONFIG, {"Champion": 90, "Challenger": 10})
#: name -> (kind, whether production first runs the A/B config, target)
CHANGES: dict[str, tuple[str, bool, EndpointTarget]] = {
    "deploy": ("ab_deploy", False, DEPLOY),
    "weights": ("ab_weights", True, EndpointTarget(None, {"Champion": 75, "Challenger": 25})),
    "switch_config": ("ab_rollback", True, EndpointTarget(CHAMPION_CONFIG, None)),
}


def _prepare(name: str) -> tuple[Env, str, EndpointTarget]:
    kind, on_ab, target = CHANGES[name]
    env = make_env()
    if on_ab:
        env.changer().change(
            kind="ab_deploy", ab_test_id="t1", target=DEPLOY, approver="alice", reason="stage 1"
        )
    return env, kind, target


def _run(env: Env, kind: str, target: EndpointTarget) -> PromotionRecord:
    result = env.changer().change(
        kind=kind, ab_test_id="t1", target=target, approver="alice", reason=AUDIT["reason"]
    )
    assert isinstance(result, PromotionRecord)
    return result


def test_change_writes_attempt_and_record_with_before_and_after(moto_env: None) -> None:
    env = make_env()

    record = _run(env, "ab_deploy", DEPLOY)

    assert env.endpoint() == (AB_CONFIG, {"Champion": 90.0, "Challenger": 10.0})
    assert record.status == "completed" and record.kind == "ab_deploy"
    assert record.approver == "alice" and record.reason == AUDIT["reason"]
    assert record.endpoint_before is not None and record.endpoint_after is not None
    assert record.endpoint_before.config_name == CHAMPION_CONFIG
    assert record.endpoint_before.weights == {"Champion": 100.0}
    assert record.endpoint_after.weights == {"Champion": 90.0, "Challenger": 10.0}
    keys = env.keys("promotions/")
    assert f"promotions/{record.promotion_id}/attempt.json" in keys
    assert f"promotions/{record.promotion_id}.json" in keys
    assert env.keys("locks/") == []


def test_dry_run_writes_nothing_and_says_what_would_change(moto_env: None) -> None:
    env = make_env()

    plan = env.changer().change(
        kind="ab_deploy",
        ab_test_id="t1",
        target=DEPLOY,
        approver="alice",
        reason=None,
        dry_run=True,
    )

    assert isinstance(plan, EndpointChangePlan)
    assert plan.before.config_name == CHAMPION_CONFIG
    assert plan.after.config_name == AB_CONFIG
    assert plan.after.weights == {"Champion": 90.0, "Challenger": 10.0}
    assert any("UpdateEndpoint " in c for c in plan.changes)
    assert any("UpdateEndpointWeightsAndCapacities" in c for c in plan.changes)
    assert env.keys() == []
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": EndpointTarget(AB_CONFIG, {"Champion": 90, "Challenger": 20})}, "weights"),
        ({"target": EndpointTarget(AB_CONFIG, {"Champion": 110, "Challenger": -10})}, "weights"),
        ({"target": EndpointTarget(AB_CONFIG, {"Champion": 50, "Other": 50})}, "weights"),
        ({"reason": ""}, "reason"),
        ({"reason": None}, "reason"),
        ({"approver": " "}, "approver"),
        ({"kind": "promotion"}, "kind"),
        ({"target": EndpointTarget("bad name!", None)}, "config_name"),
        ({"ab_test_id": "../x"}, "ab_test_id"),
    ],
)
def test_bad_input_is_rejected_naming_the_field_and_nothing_is_written(
    moto_env: None, kwargs: dict[str, Any], field: str
) -> None:
    env = make_env()
    call: dict[str, Any] = {"kind": "ab_deploy", "ab_test_id": "t1", "target": DEPLOY, **AUDIT}
    call.update(kwargs)

    with pytest.raises(ValidationError) as err:
        env.changer().change(**call)

    assert err.value.field == field
    assert field in str(err.value)
    assert env.keys() == []
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})


def test_lock_held_by_a_parameter_store_promotion_is_a_conflict(moto_env: None) -> None:
    env = make_env()
    lock = PromotionLock(env.s3, CONFIG_BUCKET, lambda: NOW, 900)
    lease = lock.acquire("bob", "01HMA0000000000000000000AB")
    lock_before = env.keys()

    with pytest.raises(ConflictError, match="bob"):
        _run(env, "ab_deploy", DEPLOY)

    assert env.keys() == lock_before == ["locks/promotion.lock"]
    assert env.endpoint() == (CHAMPION_CONFIG, {"Champion": 100.0})
    lock.release(lease)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_failure_at_each_aws_call_leaves_the_endpoint_as_before(moto_env: None, name: str) -> None:
    # The calls of one clean run, in order.
    with mock_aws():
        env, kind, target = _prepare(name)
        calls = record_calls(env)
        _run(env, kind, target)
    puts = [i for i, c in enumerate(calls) if c == "s3.PutObject"]
    attempt_put, record_put = puts[2], puts[3]  # after the lock's two puts
    outcomes: dict[str, int] = {}
    for n in range(len(calls)):
        with mock_aws():
            env, kind, target = _prepare(name)
            before = env.endpoint()
            ledger_before = env.records()
            failed = fail_nth_call(env, n)
            try:
                record = _run(env, kind, target)
            except FraudJlabError as exc:
                assert failed() is not None
                assert n <= record_put, (n, calls[n], exc)
                assert env.endpoint() == before, (n, calls[n])
                assert "production unchanged" in str(exc).lower(), (n, calls[n], exc)
                new = env.records()[len(ledger_before) :]
                if n < attempt_put:
                    assert new == [], (n, calls[n])
                    outcomes["nothing written"] = outcomes.get("nothing written", 0) + 1
                else:
                    assert [r["status"] for r in new] == ["rolled_back"], (n, calls[n], new)
                    assert new[0]["endpoint_before"]["config_name"] == before[0]
                    assert new[0]["endpoint_before"]["weights"] == before[1]
                    outcomes["rolled_back"] = outcomes.get("rolled_back", 0) + 1
            else:
                # After the commit point (the index cache, the lock release): completed.
                assert n > record_put, (n, calls[n])
                assert record.status == "completed"
                outcomes["completed"] = outcomes.get("completed", 0) + 1
            assert env.keys("locks/") == [], (n, calls[n])
    print(f"{name}: {len(calls)} AWS calls {calls}; outcomes {outcomes}")
    assert outcomes.get("rolled_back", 0) >= 4
