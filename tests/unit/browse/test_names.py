"""Run names as arguments: one resolver for REST and the magic."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from fraud_jlab.browse.names import resolve_run_ref, resolve_run_refs
from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture
def tracker(tmp_path: Path) -> SqliteTrackerStore:
    return SqliteTrackerStore(tmp_path / "runs.db")


def _run(tracker: SqliteTrackerStore, name: str, experiment: str = "fraud") -> str:
    return tracker.create_run(experiment, name, user="ds", start_time=datetime.now(timezone.utc))


def test_id_and_unique_name_resolve(tracker: SqliteTrackerStore) -> None:
    wanted = _run(tracker, "xgb-small-steps")
    _run(tracker, "xgb-deep")
    assert resolve_run_ref(wanted, tracker=tracker) == wanted
    assert resolve_run_ref("xgb-small-steps", tracker=tracker) == wanted
    assert resolve_run_ref("  xgb-small-steps ", tracker=tracker) == wanted
    assert resolve_run_refs(["xgb-deep", wanted], tracker=tracker)[1] == wanted


def test_ambiguous_name_lists_the_matching_ids(tracker: SqliteTrackerStore) -> None:
    first = _run(tracker, "xgb")
    second = _run(tracker, "xgb")
    other = _run(tracker, "xgb", experiment="elsewhere")

    with pytest.raises(ValidationError) as caught:
        resolve_run_ref("xgb", tracker=tracker)

    message = str(caught.value)
    assert caught.value.field == "run_id"
    assert "3 runs are named 'xgb'" in message
    for run_id in (first, second, other):
        assert run_id in message
    # Unique within one experiment
    assert resolve_run_ref("xgb", tracker=tracker, experiment_name="elsewhere") == other
    with pytest.raises(ValidationError, match="2 runs are named 'xgb' in experiment fraud"):
        resolve_run_ref("xgb", tracker=tracker, experiment_name="fraud")


def test_unknown_name_is_not_found(tracker: SqliteTrackerStore) -> None:
    _run(tracker, "xgb")
    with pytest.raises(NotFoundError, match="no run is named so"):
        resolve_run_ref("lgbm", tracker=tracker)
    with pytest.raises(NotFoundError):
        resolve_run_ref("xgb", tracker=tracker, experiment_name="elsewhere")


def test_names_with_quotes_and_wildcards_match_literally(tracker: SqliteTrackerStore) -> None:
    quoted = _run(tracker, "it's % _ run")
    _run(tracker, "its x y run")
    assert resolve_run_ref("it's % _ run", tracker=tracker) == quoted


@pytest.mark.parametrize("ref", ["", "   "])
def test_empty_reference_is_a_validation_error(tracker: SqliteTrackerStore, ref: str) -> None:
    with pytest.raises(ValidationError, match="run id or a run name"):
        resolve_run_ref(ref, tracker=tracker)


def test_reference_longer_than_any_name_is_the_ids_not_found(tracker: SqliteTrackerStore) -> None:
    # No search is built from it (the filter grammar caps lengths): the plain 404 of the id
    with pytest.raises(NotFoundError):
        resolve_run_ref("x" * 40_000, tracker=tracker)
