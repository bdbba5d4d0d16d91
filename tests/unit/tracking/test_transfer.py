"""``fraud-jlab import``: runs move between trackers, completely and only once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.demo.cli import main
from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore
from fraud_jlab.tracking.transfer import SOURCE_TAG, copy_runs

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seed(store: TrackerStore, tmp_path: Path) -> dict[str, str]:
    """A parent with two children, one failed; params, steps, tags, datasets, artifacts."""
    parent = store.create_run(
        "fraud",
        "tuning",
        user="alice",
        start_time=T0,
        tags={"kind": "search"},
        code_version="git:abc",
        dependencies={"numpy": "2.0"},
    )
    store.log_params(parent, {"space": "grid"})
    ids = {"parent": parent}
    for n, status in enumerate(("completed", "failed")):
        child = store.create_run(
            "fraud",
            f"trial-{n}",
            user="bob",
            start_time=T0 + timedelta(minutes=n + 1),
            parent_run_id=parent,
            tags={"trial": str(n)},
        )
        store.log_params(child, {"max_depth": n + 3})
        for step in range(3):
            store.log_metrics(child, {"loss": 1.0 / (step + 1 + n)}, step=step)
        store.log_metrics(child, {"auc": 0.8 + n / 10})
        store.log_dataset(child, "training", f"sha-{n}")
        model = tmp_path / f"model-{n}.json"
        model.write_text(f'{{"n": {n}}}')
        store.log_artifact(child, model, artifact_path="model/model.json")
        store.end_run(child, status, end_time=T0 + timedelta(minutes=n + 2))  # type: ignore[arg-type]
        ids[f"child{n}"] = child
    store.end_run(parent, "completed", end_time=T0 + timedelta(minutes=5))
    return ids


def comparable(store: TrackerStore, run_id: str, mapping: dict[str, str]) -> dict[str, Any]:
    detail = store.get_run(run_id)
    reverse = {v: k for k, v in mapping.items()}
    return {
        "experiment": detail.experiment_name,
        "name": detail.run_name,
        "status": detail.status,
        "times": (detail.start_time, detail.end_time),
        "user": detail.user,
        "parent": reverse.get(detail.parent_run_id or "", detail.parent_run_id),
        "children": sorted(reverse.get(c, c) for c in detail.children),
        "params": detail.params,
        "metrics": detail.metrics,
        "history": detail.metric_history,
        "tags": {k: v for k, v in detail.tags.items() if not k.startswith("import.")},
        "datasets": detail.datasets,
        "code": (detail.code_version, detail.dependencies),
        "artifacts": [(a.path, a.sha256, a.size_bytes, a.is_output) for a in detail.artifacts],
        "bytes": [store.read_artifact(run_id, a.path) for a in detail.artifacts],
    }


def test_import_into_every_backend_is_complete_and_idempotent(
    tracker: TrackerStore, tmp_path: Path
) -> None:
    # Given
    source = SqliteTrackerStore(tmp_path / "source.db")
    ids = seed(source, tmp_path)
    # When
    first = copy_runs(source, tracker, source_uri="sqlite:///source.db")
    # Then: everything arrived, with parent links
    assert (first.copied, first.skipped, first.failed) == (3, 0, 0)
    identity = {v: v for v in ids.values()}
    for run_id in ids.values():
        copied = comparable(tracker, first.mapping[run_id], first.mapping)
        assert copied == comparable(source, run_id, identity)
        assert tracker.get_run(first.mapping[run_id]).tags[SOURCE_TAG] == run_id
    # When: again
    second = copy_runs(source, tracker)
    # Then: nothing copied
    assert (second.copied, second.skipped, second.failed) == (0, 3, 0)
    assert tracker.search_runs("experiment = 'fraud'").total == 3


def test_filter_selects_runs_and_brings_their_parent(tmp_path: Path) -> None:
    source = SqliteTrackerStore(tmp_path / "s.db")
    ids = seed(source, tmp_path)
    destination = SqliteTrackerStore(tmp_path / "d.db")
    summary = copy_runs(source, destination, "status = 'failed'")
    assert summary.copied == 2 and summary.failed == 0  # the failed child and its parent
    child = destination.get_run(summary.mapping[ids["child1"]])
    assert child.parent_run_id == summary.mapping[ids["parent"]]
    with pytest.raises(ValidationError):
        copy_runs(source, destination, "status = ")


def test_a_failed_run_is_reported_and_copied_on_the_next_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SqliteTrackerStore(tmp_path / "s.db")
    ids = seed(source, tmp_path)
    destination = SqliteTrackerStore(tmp_path / "d.db")
    real = destination.log_artifact
    broken = {"on": True}

    def flaky(run_id: str, *args: Any, **kw: Any) -> Any:
        if broken["on"]:
            raise OSError("disk full")
        return real(run_id, *args, **kw)

    monkeypatch.setattr(destination, "log_artifact", flaky)
    summary = copy_runs(source, destination)
    assert (summary.copied, summary.failed) == (1, 2)
    assert "disk full" in summary.errors[ids["child0"]]
    broken["on"] = False
    again = copy_runs(source, destination)
    assert (again.copied, again.skipped, again.failed) == (2, 1, 0)


def test_cli_prints_progress_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = SqliteTrackerStore(tmp_path / "s.db")
    seed(source, tmp_path)
    source.close()
    args = [
        "import",
        "--from",
        f"sqlite:///{tmp_path / 's.db'}",
        "--to",
        f"sqlite:///{tmp_path / 'd.db'}",
    ]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "3 copied, 0 skipped, 0 failed" in out.out and "3/3 runs" in out.err
    assert main([*args, "--filter", "status = 'failed'"]) == 0
    assert "0 copied, 1 skipped, 0 failed" in capsys.readouterr().out
    assert main([*args, "--filter", "status ="]) == 1
    assert "import failed" in capsys.readouterr().out
