"""Every AWS call of promote and rollback, failed in four ways: production stays exactly as it was.

The call sites are not listed by hand: a clean promotion and a clean rollback are run first
with a recorder on every client (botocore ``before-call`` events), and every call they make
becomes a fault point, so a call added to the code is covered automatically. Each point
fails with one of throttling, access denied, a 5xx or a read timeout, taken in turn (call n
gets fault n mod 4, so every kind hits a quarter of the points of each operation: the full
192-run cross product took minutes on a loaded 2-core CI host). Then either

* the operation raised, SSM and the config file are byte-identical to before, the lock is
  released, and the ledger holds the attempt's final record naming the failed step when the
  failure came after the attempt was recorded (before that nothing was written at all), or
* the operation succeeded because the failure came after it committed (ledger index, lock
  release), and the ledger shows it completed.

A/B endpoint changes (``ABTestingManager``) are not audited here yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from promotion_env import BUCKET, AwsEnv, make_run

from fraud_jlab.errors import AccessDenied, AwsOperationError
from fraud_jlab.promotion import ProductionIntegrator, PromotionRecord
from fraud_jlab.promotion.lock import LOCK_KEY
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


def _client_error(code: str, status: int) -> Callable[[str], Exception]:
    def make(operation: str) -> Exception:
        return ClientError(
            {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    return make


FAULTS: dict[str, Callable[[str], Exception]] = {
    "throttling": _client_error("ThrottlingException", 400),
    "access_denied": _client_error("AccessDeniedException", 403),
    "5xx": _client_error("ServiceUnavailable", 503),
    "timeout": lambda op: ReadTimeoutError(endpoint_url=f"https://aws.invalid/{op}"),
}


class CallRecorder:
    """Records every AWS call made through the given clients; fails call ``fail_at`` (1-based)."""

    def __init__(self, fail_at: int = 0, fault: Callable[[str], Exception] | None = None):
        self.fail_at = fail_at
        self.fault = fault
        self.calls: list[str] = []
        self.failed: str | None = None
        self._clients: tuple[Any, ...] = ()

    def attach(self, *clients: Any) -> CallRecorder:
        self._clients = clients
        for client in clients:
            client.meta.events.register("before-call.*.*", self._handler)
        return self

    def detach(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call.*.*", self._handler)

    def _handler(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_name}.{model.name}")
        if len(self.calls) == self.fail_at and self.fault is not None:
            self.failed = self.calls[-1]
            raise self.fault(model.name)


def _ledger(env: AwsEnv) -> dict[str, dict[str, Any]]:
    """Every final ledger record (``promotions/<id>.json``) by key."""
    return {
        k: json.loads(env.read(k))
        for k in env.key_set()
        if k.startswith("promotions/") and k.count("/") == 1 and k.endswith(".json")
    }


PARAMS_A = {
    "max_depth": "3",
    "eta": "0.3",
    "num_round": "50",
    "subsample": "1.0",
    "colsample_bytree": "1.0",
}


def _setup(env: AwsEnv, tracker: SqliteTrackerStore) -> tuple[ProductionIntegrator, str, str]:
    """Production with run A promoted (record returned), and candidate run B."""
    integ = ProductionIntegrator(env.settings, tracker=tracker, **env.clients())
    integ.lock.release_delays = ()
    integ.retry_sleep = lambda _s: None
    first = integ.promote_run(make_run(tracker, params=PARAMS_A), approver="a", reason="base")
    return integ, first.promotion_id, make_run(tracker)


def _operations(
    integ: ProductionIntegrator, first_id: str, candidate: str
) -> dict[str, Callable[[], PromotionRecord]]:
    return {
        "promote": lambda: integ.promote_run(
            candidate, approver="bob", reason="fault matrix", trigger_pipeline=True
        ),
        "rollback": lambda: integ.rollback_to(first_id, approver="bob", reason="fault matrix"),
    }


def _prepare(name: str, integ: ProductionIntegrator, first_id: str, candidate: str) -> None:
    """Bring production to the state the operation starts from (B live before a rollback)."""
    live = integ.current_production().promotion
    if name == "rollback" and (live is None or live.run_id != candidate):
        integ.promote_run(candidate, approver="setup", reason="before rollback")
    if name == "promote" and live is not None and live.run_id == candidate:
        integ.rollback_to(first_id, approver="setup", reason="before promote")


def _record_call_sites(
    env: AwsEnv, integ: ProductionIntegrator, first_id: str, candidate: str
) -> dict[str, list[str]]:
    sites = {}
    for name, run in _operations(integ, first_id, candidate).items():
        _prepare(name, integ, first_id, candidate)
        recorder = CallRecorder().attach(env.s3, env.ssm, env.sfn)
        try:
            assert run().status == "completed"
        finally:
            recorder.detach()
        sites[name] = recorder.calls
    return sites


def test_every_call_site_of_promote_and_rollback_fails_safely(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    integ, first_id, candidate = _setup(aws_env, tracker)
    sites = _record_call_sites(aws_env, integ, first_id, candidate)
    # the writes production depends on are among the recorded call sites
    assert {"ssm.PutParameter", "s3.PutObject", "stepfunctions.StartExecution"} <= set(
        sites["promote"]
    )
    assert {"ssm.PutParameter", "s3.PutObject"} <= set(sites["rollback"])
    operations = _operations(integ, first_id, candidate)
    outcomes: dict[str, int] = {"raised": 0, "recorded": 0, "committed": 0}
    for name, calls in sites.items():
        for n, call in enumerate(calls, start=1):
            for fault_name in [sorted(FAULTS)[n % len(FAULTS)]]:
                fault = FAULTS[fault_name]
                _prepare(name, integ, first_id, candidate)
                ssm_before, config_before = aws_env.ssm_values(), aws_env.config_bytes()
                ledger_before = _ledger(aws_env)
                ledger_keys_before = aws_env.key_set()
                recorder = CallRecorder(n, fault).attach(aws_env.s3, aws_env.ssm, aws_env.sfn)
                where = f"{name}: {fault_name} at call {n} ({call})"
                try:
                    operations[name]()
                    raised: Exception | None = None
                except (AwsOperationError, AccessDenied) as exc:
                    raised = exc
                finally:
                    recorder.detach()
                assert recorder.failed == call, (where, recorder.calls)
                new = {k: v for k, v in _ledger(aws_env).items() if k not in ledger_before}
                if raised is None:
                    # the fault came after the commit (index, lock release): the operation stands
                    assert [r["status"] for r in new.values()] == ["completed"], where
                    if LOCK_KEY in aws_env.key_set():  # release failed: lock left to expire
                        aws_env.s3.delete_object(Bucket=BUCKET, Key=LOCK_KEY)
                    listed = {r.promotion_id for r in integ.list_promotions(5).promotions}
                    for record in new.values():
                        if record["promotion_id"] not in listed:  # the index write failed
                            integ.ledger.write_index(integ.ledger.get(record["promotion_id"]))
                    outcomes["committed"] += 1
                    continue
                outcomes["raised"] += 1
                assert "production unchanged" in str(raised).lower(), (where, str(raised))
                assert aws_env.ssm_values() == ssm_before, where
                assert aws_env.config_bytes() == config_before, where
                assert LOCK_KEY not in aws_env.key_set(), where
                if new:
                    # the attempt's final record names the step that failed
                    [record] = new.values()
                    assert record["status"] == "rolled_back", (where, record)
                    assert record["failed_step"], (where, record)
                    if isinstance(raised, AwsOperationError):
                        assert record["failed_step"] == raised.step, (where, record)
                    outcomes["recorded"] += 1
                else:
                    # failed before the attempt was recorded: nothing at all was written
                    assert aws_env.key_set() - ledger_keys_before == set(), where
    points = sum(len(c) for c in sites.values())
    print(
        f"\nfault matrix: {points} call sites (promote {len(sites['promote'])}, rollback "
        f"{len(sites['rollback'])}), one of {len(FAULTS)} faults each; "
        f"{outcomes['raised']} raised with production unchanged ({outcomes['recorded']} with "
        f"the attempt's record in the ledger), {outcomes['committed']} committed before the fault"
    )
    assert outcomes["raised"] > 0.8 * points


def test_injected_faults_reach_the_caller_as_clear_errors(
    aws_env: AwsEnv, tracker: SqliteTrackerStore
) -> None:
    # the control: each kind of fault is what the caller sees, naming the failed call
    integ, _, candidate = _setup(aws_env, tracker)
    sites = CallRecorder().attach(aws_env.s3, aws_env.ssm, aws_env.sfn)
    first = integ.promote_run(candidate, approver="x", reason="probe")
    sites.detach()
    integ.rollback_to(integ.list_promotions(5).promotions[1].promotion_id, approver="x", reason="r")
    first_put = sites.calls.index("ssm.PutParameter") + 1
    for fault_name, fault in sorted(FAULTS.items()):
        recorder = CallRecorder(first_put, fault).attach(aws_env.s3, aws_env.ssm, aws_env.sfn)
        with pytest.raises((AwsOperationError, AccessDenied)) as info:
            integ.promote_run(candidate, approver="bob", reason="x")
        recorder.detach()
        message = str(info.value)
        assert "put_parameter" in message or "ssm:PutParameter" in message, (fault_name, message)
        assert "Production unchanged" in message, (fault_name, message)
    assert first.status == "completed"
