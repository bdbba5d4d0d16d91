"""``GET runs/{id}/artifact``: listed artifacts only, confined to the run's artifact store."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

SECRET = b"secret outside the artifact store"


@pytest.fixture
def run_with_artifacts(fj_tracker: TrackerStore, tmp_path: Path) -> str:
    now = datetime.now(timezone.utc)
    run_id = fj_tracker.create_run("fraud", "xgb", user="ds", start_time=now)
    files = {
        "evaluation/figures/pr_curve.json": b'{"data": [{"x": [0, 1], "y": [1, 0]}], "layout": {}}',
        "config.yaml": b"max_depth: 6\n",
        "notes.txt": b"hello",
        "plot.png": b"\x89PNG\r\n\x1a\n" + b"0" * 16,
        "evaluation/holdout_scores.npz": b"PK\x03\x04binary",
        "report.html": b"<script>alert(1)</script>",
    }
    for name, data in files.items():
        local = tmp_path / "src" / Path(name).name
        local.parent.mkdir(exist_ok=True)
        local.write_bytes(data)
        fj_tracker.log_artifact(run_id, local, artifact_path=name)
    fj_tracker.end_run(run_id, "completed", end_time=now)
    return run_id


async def _get(jp_fetch: Any, run_id: str, **params: str) -> HTTPResponse:
    response: HTTPResponse = await jp_fetch(
        "fraud-jlab", "api", "runs", run_id, "artifact", params=params, raise_error=False
    )
    return response


async def test_viewable_artifacts_inline_and_the_rest_as_downloads(
    jp_fetch: Any, run_with_artifacts: str
) -> None:
    run_id = run_with_artifacts
    response = await _get(jp_fetch, run_id, path="evaluation/figures/pr_curve.json")
    assert response.code == 200 and response.headers["Content-Type"] == "application/json"
    assert b'"layout"' in response.body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "Content-Disposition" not in response.headers

    response = await _get(jp_fetch, run_id, path="config.yaml")
    assert response.code == 200 and response.body == b"max_depth: 6\n"
    assert response.headers["Content-Type"].startswith("text/plain")

    response = await _get(jp_fetch, run_id, path="plot.png")
    assert response.code == 200 and response.headers["Content-Type"] == "image/png"

    for path in ("evaluation/holdout_scores.npz", "report.html"):
        response = await _get(jp_fetch, run_id, path=path)
        assert response.code == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment;")

    response = await _get(jp_fetch, run_id, path="notes.txt", download="true")
    assert response.headers["Content-Disposition"] == 'attachment; filename="notes.txt"'


@pytest.mark.parametrize(
    "path",
    [
        "../runs.db",
        "evaluation/../../runs.db",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "..\\runs.db",
        "evaluation//figures/pr_curve.json",
        "./notes.txt",
        "",
    ],
)
async def test_traversal_is_refused_with_400(
    jp_fetch: Any, run_with_artifacts: str, path: str
) -> None:
    response = await _get(jp_fetch, run_with_artifacts, path=path)
    assert response.code == 400, response.body
    assert b"path" in response.body


@pytest.mark.parametrize(
    "path", ["..%2Fruns.db", "evaluation%2Ffigures%2Fpr_curve.json", "%2e%2e/x"]
)
async def test_encoded_separators_are_not_decoded_twice(
    jp_fetch: Any, run_with_artifacts: str, path: str
) -> None:
    # The query string is decoded once: "%2F" arrives as a literal "%2F", which no artifact is named.
    response = await _get(jp_fetch, run_with_artifacts, path=path)
    assert response.code == 404, response.body


async def test_encoded_dotdot_in_the_raw_url_is_refused(
    http_server_client: Any,
    jp_auth_header: dict[str, str],
    jp_base_url: str,
    run_with_artifacts: str,
) -> None:
    # Sent pre-encoded: the server decodes %2E%2E%2F once to "../" and refuses it
    url = f"{jp_base_url}fraud-jlab/api/runs/{run_with_artifacts}/artifact?path=%2E%2E%2Fruns.db"
    response: HTTPResponse = await http_server_client.fetch(
        url, headers=jp_auth_header, raise_error=False
    )
    assert response.code == 400
    assert b"'..'" in response.body


async def test_unlisted_path_and_unknown_run_are_404(
    jp_fetch: Any, run_with_artifacts: str
) -> None:
    assert (await _get(jp_fetch, run_with_artifacts, path="runs.db")).code == 404
    assert (await _get(jp_fetch, "no-such-run", path="notes.txt")).code == 404


async def test_symlink_out_of_the_store_is_refused(
    jp_fetch: Any, run_with_artifacts: str, fj_tracker: TrackerStore, tmp_path: Path
) -> None:
    # Given a listed artifact replaced on disk by a symlink to a file outside the store
    assert isinstance(fj_tracker, SqliteTrackerStore)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(SECRET)
    planted = fj_tracker.artifact_root / run_with_artifacts / "notes.txt"
    planted.unlink()
    os.symlink(outside, planted)

    response = await _get(jp_fetch, run_with_artifacts, path="notes.txt")

    assert response.code == 403
    assert SECRET not in response.body

    # A symlinked directory is refused the same way
    figures = fj_tracker.artifact_root / run_with_artifacts / "evaluation" / "figures"
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "pr_curve.json").write_bytes(SECRET)
    for child in figures.iterdir():
        child.unlink()
    figures.rmdir()
    os.symlink(target, figures)
    response = await _get(jp_fetch, run_with_artifacts, path="evaluation/figures/pr_curve.json")
    assert response.code == 403 and SECRET not in response.body


async def test_requires_authentication(jp_fetch: Any, run_with_artifacts: str) -> None:
    response: HTTPResponse = await jp_fetch(
        "fraud-jlab",
        "api",
        "runs",
        run_with_artifacts,
        "artifact",
        params={"path": "notes.txt"},
        headers={"Authorization": ""},
        raise_error=False,
    )
    assert response.code == 403
    assert b"hello" not in response.body
