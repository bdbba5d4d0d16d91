"""``GET info`` and the start-up log never show the tracking URI's password."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import register_scheme
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PASSWORD = "hunter2-secret-pw"


@pytest.fixture
def fj_tracking_uri(tmp_path: Path) -> str:
    """A URI with credentials; the scheme serves a local SQLite store (no network)."""
    db = tmp_path / "cred-runs.db"

    def factory(rest: str) -> TrackerStore:
        return SqliteTrackerStore(db)

    register_scheme("credtest+", factory)
    return f"credtest+http://user:{PASSWORD}@host/?token=tok-{PASSWORD}"


async def test_get_info_never_contains_the_password(fj_api: Any) -> None:
    status, body = await fj_api("GET", "info")
    assert status == 200
    assert PASSWORD not in repr(body)
    assert body["settings"]["tracking_uri"] == "credtest+http://***@host/?token=***"


async def test_start_up_log_line_is_redacted(
    jp_serverapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from fraud_jlab.server.extension import FraudJlabExtension

    [ext] = [
        e
        for e in jp_serverapp.extension_manager.extension_apps.get("fraud_jlab", set())
        if isinstance(e, FraudJlabExtension)
    ]
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    ext.log.addHandler(handler)
    try:
        ext.initialize_settings()
    finally:
        ext.log.removeHandler(handler)
    lines = [r.getMessage() for r in records]
    assert any("tracking runs with" in line for line in lines), lines
    assert all(PASSWORD not in line for line in lines), lines
