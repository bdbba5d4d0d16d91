"""Promote is offered only where it applies."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fraud_jlab.browse.actions import run_actions
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


def test_tuning_parent_says_why_not_and_names_the_run_to_promote(tmp_path: Path) -> None:
    tracker = SqliteTrackerStore(tmp_path / "runs.db")
    now = datetime.now(timezone.utc)
    parent = tracker.create_run("fraud", "xgboost-tuning", user="ds", start_time=now)
    best = tracker.create_run(
        "fraud", "trial-depth6-eta0.1", user="ds", start_time=now, parent_run_id=parent
    )
    tracker.create_run(
        "fraud", "trial-depth4-eta0.1", user="ds", start_time=now, parent_run_id=parent
    )
    tracker.set_tags(parent, {"best_run_id": best})
    for run_id in (parent, best):
        tracker.end_run(run_id, "completed", end_time=now)

    actions = run_actions(tracker.get_run(parent), tracker)

    assert not actions.can_promote
    assert "tuning parent of 2 trial runs" in actions.reason
    assert "trial-depth6-eta0.1" in actions.reason
    assert actions.suggested_run_id == best and actions.suggested_run_name == "trial-depth6-eta0.1"
    # A refit run, once recorded, is what to promote
    refit = tracker.create_run("fraud", "xgb-refit", user="ds", start_time=now)
    tracker.set_tags(parent, {"refit_run_id": refit})
    actions = run_actions(tracker.get_run(parent), tracker)
    assert actions.suggested_run_id == refit and "its refit run (xgb-refit)" in actions.reason

    assert run_actions(tracker.get_run(best), tracker).can_promote


def test_unfinished_run_is_not_promotable(tmp_path: Path) -> None:
    tracker = SqliteTrackerStore(tmp_path / "runs.db")
    now = datetime.now(timezone.utc)
    running = tracker.create_run("fraud", "xgb", user="ds", start_time=now)
    actions = run_actions(tracker.get_run(running), tracker)
    assert not actions.can_promote and "running" in actions.reason
    failed = tracker.create_run("fraud", "xgb-2", user="ds", start_time=now)
    tracker.end_run(failed, "failed", end_time=now)
    assert "only completed runs" in run_actions(tracker.get_run(failed), tracker).reason
