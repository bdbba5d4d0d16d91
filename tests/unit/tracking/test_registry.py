"""Backends register by entry point (group ``fraud_jlab.trackers``), the built-ins too."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking import registry
from fraud_jlab.tracking.registry import (
    BUILTIN_ENTRY_POINTS,
    GROUP,
    backend_entry_points,
    known_schemes,
    tracker_from_uri,
)
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

ROOT = Path(__file__).resolve().parents[3]


def test_builtins_are_declared_as_entry_points_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split(f'[project.entry-points."{GROUP}"]', 1)[1].split("\n[", 1)[0]
    declared = dict(re.findall(r'^(\w+) = "([^"]+)"$', block, re.MULTILINE))
    assert declared == BUILTIN_ENTRY_POINTS
    for name, entry in backend_entry_points().items():
        if name in BUILTIN_ENTRY_POINTS:
            assert callable(entry.load())


def test_a_third_party_package_adds_a_scheme_without_editing_fraud_jlab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: an installed distribution declaring a tracker entry point
    (tmp_path / "thirdparty_tracker.py").write_text(
        "from pathlib import Path\n"
        "from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore\n"
        "def from_uri(uri):\n"
        "    return SqliteTrackerStore(Path(uri.split('://', 1)[1]))\n"
    )
    dist = tmp_path / "thirdparty_tracker-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty-tracker\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(f"[{GROUP}]\nthirdparty = thirdparty_tracker:from_uri\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    db = tmp_path / "third.db"
    # When
    store = tracker_from_uri(f"thirdparty://{db}")
    # Then
    assert isinstance(store, SqliteTrackerStore) and store.path == db.resolve()
    assert "thirdparty:" in known_schemes()
    sys.modules.pop("thirdparty_tracker", None)


def test_unknown_scheme_names_the_known_schemes() -> None:
    with pytest.raises(ValidationError) as err:
        tracker_from_uri("nosuch://host/")
    message = str(err.value)
    assert err.value.field == "tracking_uri"
    for scheme in ("'sqlite:///'", "'mlflow+'", "'sagemaker:'"):
        assert scheme in message
    with pytest.raises(ValidationError):
        tracker_from_uri("nosuch+http://host/")
    with pytest.raises(ValidationError):
        tracker_from_uri("nosuch:")


def test_bare_paths_still_open_the_embedded_store(tmp_path: Path) -> None:
    store = tracker_from_uri(str(tmp_path / "bare.db"))
    assert isinstance(store, SqliteTrackerStore)
    with pytest.raises(ValidationError) as err:
        tracker_from_uri("sqlite:relative.db")
    assert "sqlite:///" in str(err.value)


def test_registered_prefix_wins_over_an_entry_point(tmp_path: Path) -> None:
    registry.register_scheme("sqlite+test:", lambda rest: SqliteTrackerStore(tmp_path / rest))
    store = tracker_from_uri("sqlite+test:x.db")
    assert isinstance(store, SqliteTrackerStore) and store.path.name == "x.db"
    with pytest.raises(ValidationError):
        registry.register_scheme("bad", lambda rest: SqliteTrackerStore(tmp_path / rest))
