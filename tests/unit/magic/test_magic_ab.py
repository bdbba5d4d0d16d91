"""``%fraud ab`` through a real IPython shell on moto: start -> advance -> promote, rollback,
dry run, declined confirmations and bad input, each writing nothing it should not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pandas as pd
import pytest
from champion_endpoint import (
    ARTIFACT,
    CHAMPION_CONFIG,
    PRODUCTION,
    REGION,
    serve_champion,
)
from IPython.core.interactiveshell import InteractiveShell

from fraud_jlab.abtest.service import ABTestState
from fraud_jlab.abtest.view import ABTestView
from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan
from fraud_jlab.promotion.spec import SAGEMAKER_URI_TAG
from fraud_jlab.tracking.contract import TrackerStore

BUCKET = "fraud-detection-config"
USER = "notebook-analyst"


@pytest.fixture
def aws(moto_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto production sandbox plus a production endpoint serving the champion; SageMaker."""
    monkeypatch.setenv("JUPYTERHUB_USER", USER)
    set_settings(None)
    install_sagemaker_update_endpoint()
    s3 = boto3.client("s3", region_name=REGION)
    provision_sandbox(
        FraudJlab(), s3_client=s3, sfn_client=boto3.client("stepfunctions", region_name=REGION)
    )
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    serve_champion(s3, sagemaker)
    yield sagemaker
    set_settings(None)


@pytest.fixture
def no_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"unexpected confirmation prompt: {prompt}")

    monkeypatch.setattr("builtins.input", refuse)


def _run(tracker: TrackerStore, packaged: bool = True) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", "xgb", user="ds", start_time=now)
    if packaged:
        tracker.set_tags(run_id, {SAGEMAKER_URI_TAG: ARTIFACT})
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


def _keys() -> set[str]:
    s3 = boto3.client("s3", region_name=REGION)
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _live(sagemaker: Any) -> tuple[str, dict[str, float]]:
    d = sagemaker.describe_endpoint(EndpointName=PRODUCTION)
    return str(d["EndpointConfigName"]), {
        v["VariantName"]: float(v["CurrentWeight"]) for v in d["ProductionVariants"]
    }


def _kinds() -> list[str]:
    import json

    s3 = boto3.client("s3", region_name=REGION)
    records = []
    for key in sorted(_keys()):
        if key.startswith("promotions/") and key.count("/") == 1 and key.endswith(".json"):
            records.append(json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
    return [r["kind"] for r in sorted(records, key=lambda r: r["promotion_id"])]


def test_ab_start_advance_promote_with_confirmations(
    shell: InteractiveShell,
    tracker: TrackerStore,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_id = _run(tracker)
    prompts: list[str] = []

    def yes(prompt: str = "") -> str:
        prompts.append(prompt)
        return "y"

    monkeypatch.setattr("builtins.input", yes)
    state = shell.run_line_magic("fraud", f'ab start {run_id} --reason "beats champion offline"')
    assert isinstance(state, ABTestState), capsys.readouterr()
    out = capsys.readouterr().out
    # the dry run first, then the approver, the confirmation and the test
    assert out.index("Dry run for ab_deploy") < out.index(
        "Approver recorded in the ledger: " + USER
    )
    assert f"UpdateEndpoint {PRODUCTION}: {CHAMPION_CONFIG} -> {state.ab_test_id}" in out
    assert f"A/B test {state.ab_test_id}: running" in out
    assert prompts == [f"Start an A/B test of run {run_id} on production? [y/N] "]
    assert state.started_by == USER
    assert _live(aws) == (state.ab_test_id, {"Champion": 90.0, "Challenger": 10.0})

    state = shell.run_line_magic("fraud", f'ab advance {state.ab_test_id} --reason "stage 1 ok"')
    assert isinstance(state, ABTestState)
    out = capsys.readouterr().out
    assert (
        f"UpdateEndpointWeightsAndCapacities {PRODUCTION}: Champion 90% -> 75%, Challenger 10% -> 25%"
        in out
    )
    assert out.index("Dry run for ab_weights") < out.index("Approver recorded in the ledger")
    assert _live(aws)[1] == {"Champion": 75.0, "Challenger": 25.0}

    state = shell.run_line_magic("fraud", f'ab promote {state.ab_test_id} --reason "wins"')
    assert isinstance(state, ABTestState) and state.status == "completed"
    assert _live(aws)[0] == state.promoted_config
    assert _kinds() == ["ab_deploy", "ab_weights", "ab_promote"]

    status = shell.run_line_magic("fraud", f"ab status {state.ab_test_id}")
    assert isinstance(status, ABTestView) and status.state.status == "completed"
    assert status.recommendation.action == "none"
    formatter = shell.display_formatter
    assert formatter is not None
    text = formatter.format(status)[0]["text/plain"]
    assert text.startswith(f"A/B test {state.ab_test_id}: completed") and "promote " in text
    frame = shell.run_line_magic("fraud", "ab status")
    assert isinstance(frame, pd.DataFrame)
    assert frame["ab_test_id"].tolist() == [state.ab_test_id]
    assert frame["status"].tolist() == ["completed"]


def test_ab_rollback_with_yes_restores_the_champion(
    shell: InteractiveShell, tracker: TrackerStore, aws: Any, no_input: None
) -> None:
    state = shell.run_line_magic("fraud", f'ab start {_run(tracker)} --reason "try" --yes')
    assert isinstance(state, ABTestState)
    state = shell.run_line_magic("fraud", f'ab rollback {state.ab_test_id} --reason "bad" --yes')
    assert isinstance(state, ABTestState) and state.status == "rolled_back"
    assert _live(aws) == (CHAMPION_CONFIG, {"Champion": 100.0})
    assert _kinds() == ["ab_deploy", "ab_rollback"]


def test_ab_dry_run_and_declined_write_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_id = _run(tracker)
    keys, configs = _keys(), aws.list_endpoint_configs()["EndpointConfigs"]
    plan = shell.run_line_magic("fraud", f"ab start {run_id} --dry-run")
    assert isinstance(plan, EndpointChangePlan) and plan.kind == "ab_deploy"
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert shell.run_line_magic("fraud", f'ab start {run_id} --reason "x"') is None
    assert "Cancelled: nothing was written." in capsys.readouterr().out
    assert _keys() == keys and aws.list_endpoint_configs()["EndpointConfigs"] == configs
    assert _live(aws)[0] == CHAMPION_CONFIG

    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    state = shell.run_line_magic("fraud", f'ab start {run_id} --reason "x"')
    assert isinstance(state, ABTestState)
    keys = _keys()
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    assert shell.run_line_magic("fraud", f'ab stop {state.ab_test_id} --reason "x"') is None
    assert _keys() == keys and _live(aws)[0] == state.ab_test_id


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ab start RUN", "--reason is required"),
        ("ab start UNPACKAGED --reason x", "no SageMaker model package"),
        ("ab start RUN --reason x --artifact /tmp/model", "model_artifact_s3_path"),
        ("ab start no-such-run --reason x", "Unknown run"),
        ("ab advance no-such-test --reason x", "Unknown A/B test"),
        ("ab promote 'bad id!' --reason x", "ab_test_id"),
        ("ab stop some-test --reason ''", "reason"),
    ],
)
def test_ab_bad_input_prints_the_error_and_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
    line: str,
    message: str,
) -> None:
    line = line.replace("UNPACKAGED", _run(tracker, packaged=False)).replace("RUN", _run(tracker))
    keys = _keys()
    assert shell.run_line_magic("fraud", line) is None
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err, err
    assert _keys() == keys and _live(aws)[0] == CHAMPION_CONFIG


def test_ab_usage_errors_name_the_action(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_line_magic("fraud", "ab advance") is None
    assert "AB_TEST_ID" in capsys.readouterr().err
    assert shell.run_line_magic("fraud", "ab launch x") is None
    assert "invalid choice" in capsys.readouterr().err


def test_ab_shadow_start_shows_the_shadow_stage(
    shell: InteractiveShell,
    tracker: TrackerStore,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    state = shell.run_line_magic("fraud", f'ab start {_run(tracker)} --shadow --reason "s" --yes')
    assert isinstance(state, ABTestState) and state.stage == -1
    out = capsys.readouterr().out
    assert "shadow Challenger" in out and "shadow stage" in out
    assert _live(aws)[0] == state.shadow_config
    state = shell.run_line_magic("fraud", f'ab advance {state.ab_test_id} --reason "ok" --yes')
    assert isinstance(state, ABTestState) and state.stage == 0
    assert "Challenger 0% -> 10%" in capsys.readouterr().out


def test_ab_change_dry_run_shows_the_plan_and_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    state = shell.run_line_magic("fraud", f'ab start {_run(tracker)} --reason "s" --yes')
    assert isinstance(state, ABTestState)
    keys, live = _keys(), _live(aws)
    capsys.readouterr()
    for action in ("advance", "promote", "rollback", "stop"):
        plan = shell.run_line_magic("fraud", f"ab {action} {state.ab_test_id} --dry-run")
        assert isinstance(plan, EndpointChangePlan), capsys.readouterr()
        out = capsys.readouterr().out
        assert out.startswith(f"Dry run for {plan.kind} {state.ab_test_id}")
        assert all(change in out for change in plan.changes) and plan.changes
    assert _keys() == keys and _live(aws) == live
    assert shell.run_line_magic("fraud", f"ab advance {state.ab_test_id}") is None
    assert "--reason is required" in capsys.readouterr().err
