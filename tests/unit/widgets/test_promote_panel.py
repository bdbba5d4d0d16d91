"""Promoting from the RunBrowser: dry run, reason, confirmation; refusals write nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from fraud_jlab.config import FraudJlab
from fraud_jlab.promotion import PromotionRecord
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.widgets import PromotePanel, RunBrowser
from fraud_jlab.widgets.promote import NEEDS_FORCE, NEEDS_REASON

from .conftest import PARAMS, PREFIX, USER, bucket_keys, make_run, ssm_values, text


def _panel(tracker: TrackerStore, run_id: str) -> PromotePanel:
    """Select ``run_id`` in a RunBrowser and click its Promote button."""
    browser = RunBrowser(tracker=tracker)
    browser.select([run_id])
    browser.promote_button.click()
    panel = browser.promote_panel
    assert isinstance(panel, PromotePanel) and browser.detail.children == (panel,)
    return panel


def _shown(widget: Any) -> bool:
    return widget.layout.display != "none"


def test_promote_shows_dry_run_then_confirms_and_writes_production(
    tracker: TrackerStore, s3: Any
) -> None:
    run_id = make_run(tracker, params=PARAMS | {"max_depth": "7"})
    keys_before = bucket_keys(s3)

    # When Promote is clicked: the core's dry run, nothing written
    panel = _panel(tracker, run_id)
    assert panel.plan is not None and panel.plan.gates_passed
    plan = text(panel.plan_view.value)
    assert "Gates: all passed" in plan and f"{PREFIX}max_depth(not set)7" in plan
    assert "No production config file yet" in plan
    assert panel.promote_button.disabled and panel.hint.value == NEEDS_REASON
    assert not _shown(panel.force)
    assert ssm_values() == {} and bucket_keys(s3) == keys_before

    # When a reason is typed and Promote clicked: a confirmation, still nothing written
    panel.reason.value = "better AP on the holdout"
    assert not panel.promote_button.disabled and panel.hint.value == ""
    panel.promote_button.click()
    assert _shown(panel.confirm_box)
    assert f"Promote run {run_id} to production?" in text(panel.confirm_text.value)
    assert ssm_values() == {} and bucket_keys(s3) == keys_before

    # When confirmed: the real promotion, the ledger record shown
    panel.confirm_button.click()
    record = panel.record
    assert isinstance(record, PromotionRecord) and record.status == "completed"
    assert record.run_id == run_id and record.approver == USER
    assert record.reason == "better AP on the holdout" and not record.forced
    assert ssm_values()[PREFIX + "max_depth"] == "7"
    assert "production-model-config.yaml" in bucket_keys(s3)
    shown = text(panel.result.value)
    assert "Promoted: production updated" in shown and record.promotion_id in shown
    assert panel.promote_button.disabled and panel.reason.disabled


def test_promote_without_reason_is_refused_and_writes_nothing(
    tracker: TrackerStore, s3: Any
) -> None:
    panel = _panel(tracker, make_run(tracker))
    keys_before = bucket_keys(s3)
    panel.reason.value = "   "
    # a programmatic click reaches the handler even though the button is disabled
    panel.promote_button.click()
    panel.confirm_button.click()
    assert panel.hint.value == NEEDS_REASON and not _shown(panel.confirm_box)
    assert panel.record is None and panel.result.value == ""
    assert ssm_values() == {} and bucket_keys(s3) == keys_before


def test_failed_gates_are_refused_without_the_override(tracker: TrackerStore, s3: Any) -> None:
    weak = make_run(tracker, accuracy=0.5)
    panel = _panel(tracker, weak)
    keys_before = bucket_keys(s3)
    assert panel.plan is not None and not panel.plan.gates_passed
    assert "Gates: some failed" in text(panel.plan_view.value) and "✗ fail" in panel.plan_view.value
    assert _shown(panel.force)

    # Given a reason but no override: refused with the sidebar's words, nothing written
    panel.reason.value = "try it"
    panel.promote_button.click()
    panel.confirm_button.click()
    assert panel.hint.value == NEEDS_FORCE and panel.record is None
    assert ssm_values() == {} and bucket_keys(s3) == keys_before

    # With the override the promotion is made and recorded as forced
    panel.force.value = True
    panel.promote_button.click()
    assert "past failed gates" in text(panel.confirm_text.value)
    panel.confirm_button.click()
    assert panel.record is not None and panel.record.forced
    assert ssm_values()[PREFIX + "max_depth"] == "6"


def test_cancel_writes_nothing(tracker: TrackerStore, s3: Any) -> None:
    panel = _panel(tracker, make_run(tracker))
    keys_before = bucket_keys(s3)
    panel.reason.value = "go"
    panel.promote_button.click()
    panel.cancel_button.click()
    assert not _shown(panel.confirm_box) and panel.record is None
    assert text(panel.result.value) == "Cancelled: nothing was written."
    assert ssm_values() == {} and bucket_keys(s3) == keys_before


def test_domain_error_is_shown_verbatim_and_production_is_unchanged(
    tracker: TrackerStore, s3: Any
) -> None:
    # Given a first promotion, then the pipeline's state machine gone
    first = _panel(tracker, make_run(tracker, "first"))
    first.reason.value = "baseline"
    first.promote_button.click()
    first.confirm_button.click()
    assert first.record is not None
    ssm_before = ssm_values()
    boto3.client("stepfunctions", region_name="us-east-1").delete_state_machine(
        stateMachineArn=FraudJlab().state_machine_arn
    )
    panel = _panel(tracker, make_run(tracker, "deeper", params=PARAMS | {"max_depth": "9"}))

    # When promoting with the pipeline trigger: the transaction fails and restores production
    panel.reason.value = "deeper trees"
    panel.trigger_pipeline.value = True
    panel.promote_button.click()
    panel.confirm_button.click()

    # Then the core's error shows under "Promotion failed", production is as before
    assert panel.record is None
    shown = text(panel.result.value)
    assert shown.startswith("Promotion failed") and "production unchanged" in shown.lower()
    assert ssm_values() == ssm_before


def test_unknown_run_shows_the_dry_run_error(tracker: TrackerStore, s3: Any) -> None:
    panel = PromotePanel("01JAAAAAAAAAAAAAAAAAAAAAAA", tracker=tracker)
    assert panel.plan is None
    shown = text(panel.plan_view.value)
    assert shown.startswith("The dry run failed") and "01JAAAAAAAAAAAAAAAAAAAAAAA" in shown
    panel.reason.value = "x"
    panel.promote_button.click()
    panel.confirm_button.click()
    assert panel.record is None and ssm_values() == {}


def test_the_approver_comes_from_one_function(
    tracker: TrackerStore, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The identity resolution is swapped in one place: fraud_jlab.widgets.promote.approver
    monkeypatch.setattr("fraud_jlab.widgets.promote.approver", lambda: "someone-else")
    panel = _panel(tracker, make_run(tracker))
    panel.reason.value = "who"
    panel.promote_button.click()
    panel.confirm_button.click()
    assert panel.record is not None and panel.record.approver == "someone-else"


def test_promote_without_an_identity_says_how_to_set_one_and_writes_nothing(
    tracker: TrackerStore, s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # Given a kernel where nobody can be identified (no hub user, no Studio metadata, no setting)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("FRAUD_JLAB_APPROVER", raising=False)
    monkeypatch.setattr(
        "fraud_jlab.widgets.promote.get_settings",
        lambda: FraudJlab(studio_metadata_file=str(tmp_path / "absent.json")),
    )
    run_id = make_run(tracker)
    keys_before = bucket_keys(s3)
    # When the dry run is shown and Promote clicked with a reason
    panel = _panel(tracker, run_id)
    assert panel.plan is not None  # dry runs still work
    panel.reason.value = "try it"
    panel.promote_button.click()
    # Then no confirmation: the hint says how to set an identity, and nothing is written
    assert not _shown(panel.confirm_box)
    assert "FRAUD_JLAB_APPROVER" in text(panel.hint.value)
    panel.confirm_button.click()
    assert panel.record is None
    assert ssm_values() == {} and bucket_keys(s3) == keys_before
