"""The design's single steps write production only through the transaction (lock + ledger).

``write_hyperparameters_to_parameter_store``, ``write_config_to_s3``,
``rollback_parameter_store`` and ``rollback_config_file``: each takes the promotion lock
for its write, records an attempt and a final ledger record naming who and why, and a
failure injected after its first production write leaves SSM and the config as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from promotion_env import BUCKET, AwsEnv

from fraud_jlab.errors import AwsOperationError, ConflictError, ValidationError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY, PromotionLock
from fraud_jlab.promotion.store import CONFIG_KEY

PREFIX = "/fraud-detection/hyperparameters/"
AUDIT = {"approver": "carol", "reason": "seed step under audit"}
METRICS = {"accuracy": 0.95, "average_precision": 0.8}


def _hp(depth: int, eta: float) -> dict[str, Any]:
    return {
        "objective": "binary:logistic",
        "num_round": 100 + depth,
        "max_depth": depth,
        "eta": eta,
        "subsample": 0.8,
        "colsample_bytree": 0.9,
    }


SSM_STEPS = ("write_hyperparameters_to_parameter_store", "rollback_parameter_store")
CONFIG_STEPS = ("write_config_to_s3", "rollback_config_file")
STEPS = SSM_STEPS + CONFIG_STEPS


def _production(integ: ProductionIntegrator, aws_env: AwsEnv) -> dict[str, Any]:
    """Two promotions; what production was after the first."""
    integ.promote_to_production("exp-1", _hp(3, 0.3), METRICS, "alice", reason="first")
    first = {"ssm": aws_env.ssm_values(), "config": aws_env.config_bytes()}
    integ.promote_to_production("exp-2", _hp(7, 0.05), METRICS, "alice", reason="second")
    return first


def _step(integ: ProductionIntegrator, name: str) -> Callable[..., object]:
    latest = integ.list_promotions().promotions[0]
    new_config = integ.generate_production_config("exp-3", _hp(9, 0.2), METRICS, "carol")
    steps: dict[str, Callable[..., object]] = {
        "write_hyperparameters_to_parameter_store": lambda **kw: (
            integ.write_hyperparameters_to_parameter_store(_hp(9, 0.2), **kw)
        ),
        "write_config_to_s3": lambda **kw: integ.write_config_to_s3(new_config, **kw),
        "rollback_parameter_store": lambda **kw: integ.rollback_parameter_store(
            latest.parameter_store_backup_key, **kw
        ),
        "rollback_config_file": lambda **kw: integ.rollback_config_file(
            str(latest.config_file_backup_key), **kw
        ),
    }
    return steps[name]


class Writes:
    """Watches the production writes of one step: was the lock held at each, and fails one."""

    def __init__(self, aws_env: AwsEnv, name: str, fail: bool) -> None:
        self.lock_s3 = aws_env.new_clients()["s3_client"]  # its own events: no recursion
        self.ssm_step = name in SSM_STEPS
        self.fail = fail
        self.failed = False
        self.held: list[bool] = []
        self.puts: list[str] = []
        if self.ssm_step:
            aws_env.ssm.meta.events.register(
                "before-parameter-build.ssm.PutParameter", self._ssm_put
            )
        else:
            aws_env.s3.meta.events.register("before-parameter-build.s3.PutObject", self._s3_put)

    def _lock_held(self) -> bool:
        return "Contents" in self.lock_s3.list_objects_v2(Bucket=BUCKET, Prefix=LOCK_KEY)

    def _inject(self) -> None:
        self.failed = True
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Put")

    def _ssm_put(self, params: dict[str, Any], **_: Any) -> None:
        self.puts.append(str(params["Name"]))
        self.held.append(self._lock_held())
        if self.fail and not self.failed and len(self.puts) == 2:  # one parameter written
            self._inject()

    def _s3_put(self, params: dict[str, Any], **_: Any) -> None:
        if self.fail and not self.failed and self.puts[-1:] == [CONFIG_KEY]:
            self._inject()  # the put after the config write (its archive copy)
        self.puts.append(str(params["Key"]))
        if params["Key"] == CONFIG_KEY:
            self.held.append(self._lock_held())


@pytest.mark.parametrize("name", STEPS)
def test_each_step_writes_under_the_lock_with_ledger_records(
    aws_env: AwsEnv, integrator: ProductionIntegrator, name: str
) -> None:
    # Given production after two promotions
    first = _production(integrator, aws_env)
    ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()
    step = _step(integrator, name)
    writes = Writes(aws_env, name, fail=False)

    # When the step runs
    step(**AUDIT)

    # Then every production write happened with the lock held, and the lock is released
    assert writes.held and all(writes.held), writes.held
    assert LOCK_KEY not in aws_env.key_set()
    # and the ledger holds its attempt and final record, naming who and why
    record = integrator.list_promotions().promotions[0]
    assert record.status == "completed" and record.approver == "carol"
    assert record.reason == AUDIT["reason"]
    assert record.kind == ("rollback" if name.startswith("rollback") else "promotion")
    assert f"promotions/{record.promotion_id}/attempt.json" in aws_env.key_set()
    # and only what the step names changed
    if name == "write_hyperparameters_to_parameter_store":
        assert aws_env.ssm_values()[PREFIX + "max_depth"] == "9"
        assert aws_env.config_bytes() == config_before
    elif name == "rollback_parameter_store":
        assert aws_env.ssm_values() == first["ssm"]
        assert aws_env.config_bytes() == config_before
    elif name == "write_config_to_s3":
        assert b"exp-3" in (aws_env.config_bytes() or b"")
        assert aws_env.ssm_values() == ssm_before
    else:
        assert aws_env.config_bytes() == first["config"]
        assert aws_env.ssm_values() == ssm_before
    assert record.after.ssm == aws_env.ssm_values()


@pytest.mark.parametrize("name", STEPS)
def test_a_failure_after_the_first_write_leaves_ssm_and_s3_as_before(
    aws_env: AwsEnv, integrator: ProductionIntegrator, name: str
) -> None:
    # Given production after two promotions
    _production(integrator, aws_env)
    integrator.retry_sleep = lambda _s: None
    ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()
    step = _step(integrator, name)
    writes = Writes(aws_env, name, fail=True)

    # When a write after the step's first production write fails
    with pytest.raises(AwsOperationError) as info:
        step(**AUDIT)

    # Then production is as before, the error says so and the ledger records the rollback
    assert writes.failed
    assert aws_env.ssm_values() == ssm_before
    assert aws_env.config_bytes() == config_before
    assert info.value.production_unchanged is True
    assert "Production unchanged" in str(info.value)
    record = integrator.list_promotions().promotions[0]
    assert record.status == "rolled_back" and record.approver == "carol"
    assert record.failed_step == info.value.step
    assert LOCK_KEY not in aws_env.key_set()


@pytest.mark.parametrize("name", STEPS)
@pytest.mark.parametrize("missing", ["approver", "reason"])
def test_a_step_without_approver_or_reason_writes_nothing(
    aws_env: AwsEnv, integrator: ProductionIntegrator, name: str, missing: str
) -> None:
    _production(integrator, aws_env)
    objects, ssm = aws_env.objects(), aws_env.ssm_values()
    step = _step(integrator, name)

    with pytest.raises(ValidationError, match=f"{missing} is required") as info:
        step(**{k: v for k, v in AUDIT.items() if k != missing})

    assert info.value.field == missing
    assert aws_env.objects() == objects and aws_env.ssm_values() == ssm


@pytest.mark.parametrize("name", STEPS)
def test_a_step_is_refused_while_a_promotion_holds_the_lock(
    aws_env: AwsEnv, integrator: ProductionIntegrator, name: str
) -> None:
    _production(integrator, aws_env)
    step = _step(integrator, name)
    lock = PromotionLock(aws_env.s3, BUCKET, integrator.clock, 900)
    lease = lock.acquire("dave", "01HMA0000000000000000000AB")
    objects, ssm = aws_env.objects(), aws_env.ssm_values()

    with pytest.raises(ConflictError, match="dave"):
        step(**AUDIT)

    assert aws_env.objects() == objects and aws_env.ssm_values() == ssm
    lock.release(lease)
