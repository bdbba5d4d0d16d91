"""Automatic capture: user, code version, dependency versions, dataset hashes, run ids."""

from __future__ import annotations

import getpass
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking import capture, ids


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    capture.clear_cache()
    yield
    capture.clear_cache()


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def test_user_prefers_jupyterhub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-alice")
    assert capture.current_user() == "hub-alice"
    monkeypatch.delenv("JUPYTERHUB_USER")
    monkeypatch.setattr(getpass, "getuser", lambda: "os-bob")
    assert capture.current_user() == "os-bob"

    def no_user() -> str:
        raise OSError("no passwd entry")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert capture.current_user() == "unknown"


def test_code_version_from_git_and_dirty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "train.py").write_text("print(1)\n")
    git(tmp_path, "add", "train.py")
    git(tmp_path, "commit", "-q", "-m", "init")
    commit = git(tmp_path, "rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    assert capture.code_version() == f"git:{commit}"
    (tmp_path / "train.py").write_text("print(2)\n")
    assert capture.code_version() == f"git:{commit}"  # cached for a few seconds
    capture.clear_cache()
    assert capture.code_version() == f"git:{commit}+dirty"


def test_code_version_falls_back_to_notebook_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = tmp_path / "analysis.ipynb"
    notebook.write_text('{"cells": []}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    assert capture.code_version() == "nb:" + hashlib.sha256(b'{"cells": []}').hexdigest()
    monkeypatch.delenv("JPY_SESSION_NAME")
    capture.clear_cache()
    assert capture.code_version() == "unknown"


def test_dependency_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = capture.dependency_versions()
    assert {
        "python",
        "numpy",
        "pandas",
        "scikit-learn",
        "xgboost",
        "lightgbm",
        "fraud_jlab",
    } <= set(versions)
    assert versions["numpy"] == np.__version__
    monkeypatch.setattr(capture, "TRACKED_PACKAGES", ("numpy", "no-such-distribution-fj"))
    capture.clear_cache()
    assert set(capture.dependency_versions()) == {"python", "numpy"}


def test_dataset_hash_tracks_content_names_and_dtypes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Amount": [1.0, 2.5], "Class": [0, 1]})
    digest = capture.dataset_hash(frame)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    assert capture.dataset_hash(frame.copy()) == digest
    changed = frame.copy()
    changed.loc[1, "Amount"] = 2.6
    assert capture.dataset_hash(changed) != digest
    assert capture.dataset_hash(frame.rename(columns={"Class": "label"})) != digest
    assert capture.dataset_hash(frame.astype({"Class": "int32"})) != digest
    array = np.arange(6, dtype=np.float32)
    assert capture.dataset_hash(array) == capture.dataset_hash(array.copy())
    assert capture.dataset_hash(array) != capture.dataset_hash(array.reshape(2, 3))
    file = tmp_path / "data.csv"
    file.write_bytes(b"a,b\n1,2\n")
    assert capture.dataset_hash(file) == "sha256:" + hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    for bad in (tmp_path / "missing.csv", 42):
        with pytest.raises(ValidationError) as err:
            capture.dataset_hash(bad)
        assert err.value.field == "data"


def test_ids_are_ulids_sorted_by_time() -> None:
    first = ids.new_id(1_700_000_000_000)
    assert len(first) == 26 and set(first) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert ids.id_timestamp_ms(first) == 1_700_000_000_000
    assert ids.new_id(1_700_000_000_001) > first
    burst = [ids.new_id(1_700_000_000_005) for _ in range(500)]
    assert burst == sorted(burst) and len(set(burst)) == 500
    with pytest.raises(ValueError):
        ids.new_id(-1)
