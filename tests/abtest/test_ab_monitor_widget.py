"""``ABTestMonitor``: the view, the dry-run confirmation, the audited change; refusals write nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from ab_endpoint_env import ARTIFACT, AUDIT, IMAGE, Env, make_env

from fraud_jlab.abtest.service import ABTestState
from fraud_jlab.widgets import ABTestMonitor
from fraud_jlab.widgets.abtest import allowed_actions
from fraud_jlab.widgets.abtest_html import NEEDS_REASON, timeline_traces

USER = "ab-analyst"


@pytest.fixture
def env(moto_env: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv("JUPYTERHUB_USER", USER)
    return make_env()


def _start(env: Env) -> ABTestState:
    state = env.service().start("exp-20240115-001", ARTIFACT, image_uri=IMAGE, **AUDIT)
    assert isinstance(state, ABTestState)
    return state


def text(value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


def _shown(widget: Any) -> bool:
    return widget.layout.display != "none"


def _production(env: Env) -> tuple[tuple[str, dict[str, float]], list[str]]:
    """The endpoint (config, weights) and every key in the config bucket (ledger, state)."""
    return env.endpoint(), env.keys()


def test_shows_the_test_and_enables_only_what_the_core_accepts(env: Env) -> None:
    state = _start(env)
    monitor = ABTestMonitor(service=env.service())

    assert monitor.selector.options == (state.ab_test_id,)
    assert monitor.view is not None and monitor.view["state"]["ab_test_id"] == state.ab_test_id
    shown = text(monitor.view_html.value)
    assert "running" in shown and "stage 1 of 4 (10% challenger)" in shown
    assert "Champion 90% / Challenger 10%" in shown
    assert "Recommendation" in shown
    enabled = {a for a, b in monitor.buttons.items() if not b.disabled}
    assert enabled == {"advance", "promote", "rollback", "stop"}


def test_advance_dry_run_then_cancel_writes_nothing(env: Env) -> None:
    state = _start(env)
    monitor = ABTestMonitor(state.ab_test_id, service=env.service())
    before = _production(env)

    monitor.buttons["advance"].click()

    assert monitor.plan is not None and monitor.plan["kind"] == "ab_weights"
    assert monitor.plan["after"]["weights"] == {"Champion": 75.0, "Challenger": 25.0}
    assert _shown(monitor.confirm_box)
    assert "Champion 75% / Challenger 25%" in text(monitor.plan_view.value)
    # No reason yet: the confirmation is refused with the sidebar's words.
    assert monitor.confirm_button.disabled and text(monitor.hint.value) == NEEDS_REASON
    assert monitor.confirm() is None
    monitor.cancel_button.click()
    assert "nothing was written" in text(monitor.result.value)
    assert _production(env) == before


def test_confirmed_advance_is_audited_and_the_view_follows(env: Env) -> None:
    state = _start(env)
    monitor = ABTestMonitor(state.ab_test_id, service=env.service())
    monitor.buttons["advance"].click()
    monitor.reason.value = "stage 1 readout clean"
    assert not monitor.confirm_button.disabled

    done = monitor.confirm()
    assert done is not None
    done.result(timeout=60)

    assert env.endpoint()[1] == {"Champion": 75.0, "Challenger": 25.0}
    record = env.records()[-1]
    assert record["kind"] == "ab_weights" and record["approver"] == USER
    assert record["reason"] == "stage 1 readout clean"
    assert monitor.pending is None and "production changed" in text(monitor.result.value)
    assert "stage 2 of 4 (25% challenger)" in text(monitor.view_html.value)
    assert monitor.last_result is not None and monitor.last_result["stage"] == 1


def test_after_promotion_only_rollback_is_offered(env: Env) -> None:
    state = _start(env)
    env.service().promote(state.ab_test_id, **AUDIT)
    monitor = ABTestMonitor(state.ab_test_id, service=env.service())

    enabled = {a for a, b in monitor.buttons.items() if not b.disabled}
    assert enabled == {"rollback"}
    before = _production(env)
    # A stale click (an action the core refuses) shows the refusal and writes nothing.
    monitor.request("advance")
    assert monitor.plan is None and "refused" in text(monitor.plan_view.value)
    assert monitor.confirm_button.disabled
    assert _production(env) == before

    monitor.buttons["rollback"].click()
    monitor.reason.value = "fraud ops asked for the old model back"
    done = monitor.confirm()
    assert done is not None
    done.result(timeout=60)
    assert env.records()[-1]["kind"] == "ab_rollback"
    assert monitor.view is not None and monitor.view["state"]["status"] == "rolled_back"
    assert not any(not b.disabled for b in monitor.buttons.values())


def test_allowed_actions_follow_the_status() -> None:
    assert allowed_actions({"status": "stopped", "stage": 0, "plan": [10]}) == set()
    assert allowed_actions({"status": "running", "stage": 0, "plan": [10]}) == {
        "promote",
        "rollback",
        "stop",
    }


def test_unknown_id_is_shown_not_raised(env: Env) -> None:
    monitor = ABTestMonitor("no-such-test", service=env.service())
    assert monitor.view is None
    assert "no-such-test" in text(monitor.view_html.value)
    assert all(b.disabled for b in monitor.buttons.values())


def test_timeline_traces_band_and_line_per_variant() -> None:
    points = [
        {
            "at": f"2026-12-0{d}",
            "variant": v,
            "metric": "average_precision",
            "value": x,
            "low": x - 0.1,
            "high": x + 0.1,
            "n_labelled": 100 * d,
        }
        for d in (1, 2)
        for v, x in (("Champion", 0.6), ("Challenger", 0.7))
    ]
    traces = timeline_traces(points)
    names = [t["name"] for t in traces]
    assert names == ["Champion 95% CI", "Champion", "Challenger 95% CI", "Challenger"]
    band = traces[0]
    assert band["x"] == ["2026-12-01", "2026-12-02", "2026-12-02", "2026-12-01"]
    assert band["y"] == pytest.approx([0.7, 0.7, 0.5, 0.5])
    assert traces[1]["customdata"] == [100, 200]
