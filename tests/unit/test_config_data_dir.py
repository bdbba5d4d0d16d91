"""The default SQLite location is Jupyter's data dir, computed without importing Jupyter."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_data_dir

from fraud_jlab.config import _default_data_dir


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"JUPYTER_DATA_DIR": "/srv/jupyter-data"},
        {"XDG_DATA_HOME": "/tmp/xdg-data"},
        {"JUPYTER_PLATFORM_DIRS": "1"},
        {"JUPYTER_PLATFORM_DIRS": "off", "XDG_DATA_HOME": "/tmp/xdg-data"},
    ],
)
def test_default_data_dir_is_jupyters(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("JUPYTER_DATA_DIR", "XDG_DATA_HOME", "JUPYTER_PLATFORM_DIRS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _default_data_dir() == Path(jupyter_data_dir())
