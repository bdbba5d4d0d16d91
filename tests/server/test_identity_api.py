"""``GET identity`` and the approver the promotion routes record (or refuse without)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from evaluated_runs import GATE_METRICS, log_evaluation
from jupyter_server.auth.identity import IdentityProvider, User

from fraud_jlab.server.base import is_generated_anonymous
from fraud_jlab.tracking.contract import TrackerStore

PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}


def _run(tracker: TrackerStore) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", "xgb", user="ds", start_time=now)
    tracker.log_params(run_id, PARAMS)
    tracker.log_metrics(run_id, {"accuracy": 0.97, "average_precision": 0.8, **GATE_METRICS})
    log_evaluation(tracker, run_id)
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


def _anonymous_config(tmp_path: Path, **fraud: Any) -> dict[str, Any]:
    """jupyter-server's default identity provider: a shared token makes up anonymous users."""
    return {
        "ServerApp": {"identity_provider_class": IdentityProvider},
        "FraudJlab": {"studio_metadata_file": str(tmp_path / "no-studio.json")} | fraud,
    }


def test_default_provider_users_are_anonymous_but_named_ones_are_not() -> None:
    class Handler:
        class log:  # noqa: N801 - what generate_anonymous_user calls
            @staticmethod
            def debug(message: str) -> None:
                pass

    provider = IdentityProvider()
    generated = provider.generate_anonymous_user(Handler())  # type: ignore[arg-type]
    assert is_generated_anonymous(generated, provider)
    assert not is_generated_anonymous(User("alice", "Alice"), provider)

    class HubLike(IdentityProvider):
        def generate_anonymous_user(self, handler: Any) -> User:
            return User("a" * 32, "Anonymous Io")

    assert not is_generated_anonymous(generated, HubLike())


async def test_named_user_is_the_approver(fj_api: Any, fj_user: str) -> None:
    status, identity = await fj_api("GET", "identity")
    assert status == 200
    assert identity["approver"] == fj_user and identity["source"] == "jupyter"
    assert identity["can_change_production"] is True


class TestAnonymous:
    @pytest.fixture
    def fj_extra_config(self, tmp_path: Path) -> dict[str, Any]:
        return _anonymous_config(tmp_path)

    async def test_anonymous_is_refused_with_the_message_and_dry_runs_work(
        self, fj_api: Any, fj_tracker: TrackerStore, production: Any
    ) -> None:
        # Given an anonymous Jupyter user and no other identity
        status, identity = await fj_api("GET", "identity")
        assert status == 200 and identity["approver"] is None
        assert identity["source"] == "none" and identity["can_change_production"] is False
        assert "c.FraudJlab.approver" in identity["message"]
        run_id = _run(fj_tracker)

        # When a real promotion is asked for, it is refused with how to set an identity
        status, body = await fj_api(
            "POST", "promotions", body={"run_id": run_id, "reason": "anonymous try"}
        )
        assert status == 403, body
        assert "c.FraudJlab.approver" in body["message"] and "Dry runs work" in body["message"]

        # And nothing was written
        status, page = await fj_api("GET", "promotions")
        assert status == 200 and page["promotions"] == []

        # A dry run still shows the plan
        status, plan = await fj_api("POST", "promotions", body={"run_id": run_id, "dry_run": True})
        assert status == 200 and plan["run_id"] == run_id

        # Recovery and rollback are refused the same way
        status, body = await fj_api("POST", "production", "recover", body={"reason": "x"})
        assert status == 403 and "c.FraudJlab.approver" in body["message"]


class TestConfiguredApprover:
    @pytest.fixture
    def fj_extra_config(self, tmp_path: Path) -> dict[str, Any]:
        return _anonymous_config(tmp_path, approver="Jane Doe")

    async def test_configured_approver_is_recorded(
        self, fj_api: Any, fj_tracker: TrackerStore, production: Any
    ) -> None:
        status, identity = await fj_api("GET", "identity")
        assert status == 200 and identity["approver"] == "Jane Doe"
        assert identity["source"] == "config"
        run_id = _run(fj_tracker)
        status, record = await fj_api(
            "POST", "promotions", body={"run_id": run_id, "reason": "configured"}
        )
        assert status == 201, record
        assert record["approver"] == "Jane Doe"


class TestStudio:
    ROLE = "arn:aws:iam::123456789012:role/SageMakerStudioExecution"

    @pytest.fixture
    def fj_extra_config(self, tmp_path: Path) -> dict[str, Any]:
        metadata = tmp_path / "resource-metadata.json"
        metadata.write_text(
            json.dumps(
                {
                    "DomainId": "d-abc123",
                    "UserProfileName": "jane-doe",
                    "ExecutionRoleArn": self.ROLE,
                    "ResourceName": "default",
                }
            )
        )
        config = _anonymous_config(tmp_path, approver="Configured Person")
        config["FraudJlab"]["studio_metadata_file"] = str(metadata)
        return config

    async def test_studio_profile_is_recorded_with_its_role(
        self, fj_api: Any, fj_tracker: TrackerStore, production: Any
    ) -> None:
        status, identity = await fj_api("GET", "identity")
        assert status == 200 and identity["source"] == "sagemaker-studio"
        assert identity["role_arn"] == self.ROLE
        run_id = _run(fj_tracker)
        status, record = await fj_api(
            "POST", "promotions", body={"run_id": run_id, "reason": "from studio"}
        )
        assert status == 201, record
        assert record["approver"] == f"jane-doe ({self.ROLE})"
