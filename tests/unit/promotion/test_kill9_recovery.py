"""A real kill -9 of a process mid-promotion against the moto server, then recover()."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from promotion_env import GOOD_PARAMS, make_run

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.emulator import start_emulator
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.errors import ConflictError
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.lock import LOCK_KEY
from fraud_jlab.promotion.recovery import RECOVERY_GRACE_SECONDS
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PREFIX = "/fraud-detection/hyperparameters/"

CHILD = textwrap.dedent(
    """
    import sys, time
    from fraud_jlab.config import FraudJlab
    from fraud_jlab.promotion import ProductionIntegrator
    from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

    integ = ProductionIntegrator(FraudJlab(), tracker=SqliteTrackerStore(sys.argv[1]))
    integ.ssm_client.meta.events.register(
        "before-call.ssm.PutParameter", lambda **_: time.sleep(0.5)
    )
    print("promoting", flush=True)
    integ.promote_run(sys.argv[2], approver="bob", reason="slow promotion")
    print("finished", flush=True)
    """
)


def test_kill_9_mid_promotion_then_recover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FRAUD_JLAB_") or name == "AWS_PROFILE":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with start_emulator() as emu:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{emu.host}:{emu.port}")
        settings = FraudJlab()
        s3 = boto3.client("s3", region_name="us-east-1")
        ssm = boto3.client("ssm", region_name="us-east-1")
        provision_sandbox(
            settings,
            s3_client=s3,
            sfn_client=boto3.client("stepfunctions", region_name="us-east-1"),
        )
        db = tmp_path / "runs.db"
        tracker = SqliteTrackerStore(db)
        integ = ProductionIntegrator(settings, tracker=tracker)
        integ.promote_run(
            make_run(tracker, params={**GOOD_PARAMS, "max_depth": "3"}), approver="a", reason="b"
        )

        def values() -> dict[str, str]:
            resp = ssm.get_parameters_by_path(Path=PREFIX)
            return {p["Name"]: p["Value"] for p in resp["Parameters"]}

        before = values()
        config_before = s3.get_object(
            Bucket=settings.config_bucket, Key="production-model-config.yaml"
        )["Body"].read()
        candidate = make_run(tracker)
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db), candidate],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while values().get(PREFIX + "max_depth") == before[PREFIX + "max_depth"]:
                assert child.poll() is None, child.stdout.read() if child.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.05)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        half = values()
        assert half != before and half[PREFIX + "subsample"] == before[PREFIX + "subsample"]
        assert LOCK_KEY in {
            o["Key"] for o in s3.list_objects_v2(Bucket=settings.config_bucket)["Contents"]
        }

        # the dead process's lock is reported with its holder until it expires
        with pytest.raises(ConflictError) as held:
            integ.promote_run(candidate, approver="carol", reason="too early")
        assert "held by" in str(held.value) and "bob" in str(held.value), str(held.value)
        assert "Production was not changed" in str(held.value)
        assert values() == half

        later = ProductionIntegrator(
            settings,
            tracker=tracker,
            clock=lambda: (
                datetime.now(timezone.utc) + timedelta(seconds=RECOVERY_GRACE_SECONDS + 5)
            ),
        )
        [attempt] = later.unfinished_attempts()
        assert attempt.run_id == candidate and attempt.approver == "bob"
        final, recovery = later.recover(approver="ops", reason="kill -9")
        # the recovery took the dead attempt's lock over and says what it restored
        assert recovery.rollback_of == final.promotion_id
        assert f"Recovered unfinished attempts {final.promotion_id}" in (recovery.error or "")
        assert "restored and verified" in (recovery.error or "")
        assert final.status == "rolled_back" and recovery.kind == "recovery"
        assert values() == before
        assert (
            s3.get_object(Bucket=settings.config_bucket, Key="production-model-config.yaml")[
                "Body"
            ].read()
            == config_before
        )
        nxt = integ.promote_run(candidate, approver="carol", reason="again")
        assert nxt.status == "completed" and nxt.before.ssm == before
        print(f"\nkill -9 recovery test took {time.perf_counter() - started:.1f} s")
        tracker.close()
