"""The embedded tracker: one SQLite file (WAL mode) plus an artifact directory beside it.

``SqliteTrackerStore(Path("~/.fraud_jlab/tracking.db"))`` keeps runs in the file
and artifacts in ``tracking-artifacts/<run_id>/...``. Every write is a single
``BEGIN IMMEDIATE`` transaction, so a crash never leaves a half-written run; a
process killed mid-run leaves that run ``running``. Each thread gets its own
connection (``fraud_jlab.tracking.sqlite.connections``); events live in
``sqlite.events``, bulk logging in ``sqlite.bulk``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from fraud_jlab.errors import AccessDenied, NotFoundError, ValidationError
from fraud_jlab.tracking import ids
from fraud_jlab.tracking.contract import (
    ArtifactInfo,
    ExperimentSummary,
    RunDetail,
    RunsPage,
    RunStatus,
    TrackerStore,
)
from fraud_jlab.tracking.inputs import (
    artifact_source,
    check_end_status,
    check_mapping,
    check_metrics,
    check_name,
    from_ms,
    to_ms,
)
from fraud_jlab.tracking.sqlite import bulk
from fraud_jlab.tracking.sqlite.connections import Connections
from fraud_jlab.tracking.sqlite.events import EventsMixin
from fraud_jlab.tracking.sqlite.schema import migrate
from fraud_jlab.tracking.sqlite.search import hydrate, search, search_json


def _compact_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _now_ms() -> int:
    return to_ms(datetime.now(timezone.utc), "now")


class SqliteTrackerStore(EventsMixin, TrackerStore):
    """Tracker kept in a SQLite file; see the module docstring. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser().resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.artifact_root = self.path.parent / f"{self.path.stem}-artifacts"
        self._db = Connections(self.path)
        self._experiment_ids: dict[str, int] = {}
        migrate(self._conn())

    def __repr__(self) -> str:
        return f"SqliteTrackerStore({str(self.path)!r})"

    # --- connections and transactions (fraud_jlab.tracking.sqlite.connections) ---
    def _conn(self) -> sqlite3.Connection:
        return self._db.conn()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.write()

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.read()

    def close(self) -> None:
        """Close every thread's connection (the store reopens lazily if used again)."""
        self._db.close()

    def data_version(self) -> int:
        """Changes whenever any connection, in any process, commits to the database file."""
        return self._db.data_version()

    def _seq(self, conn: sqlite3.Connection, run_id: Any) -> tuple[int, str]:
        seq, status, _, _ = self._state(conn, run_id)
        return seq, status

    def _state(self, conn: sqlite3.Connection, run_id: Any) -> tuple[int, str, str, str]:
        """(seq, status, params_json, tags_json) of a run; NotFoundError if unknown."""
        if not isinstance(run_id, str):
            raise ValidationError("run_id must be a string", field="run_id")
        row = conn.execute(
            "SELECT seq, status, params_json, tags_json FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError("run", run_id)
        return row[0], row[1], row[2], row[3]

    # --- writing -----------------------------------------------------------
    def create_run(
        self,
        experiment_name: str,
        run_name: str,
        *,
        user: str,
        start_time: datetime,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        dependencies: Mapping[str, str] | None = None,
    ) -> str:
        experiment_name = check_name(experiment_name, "experiment_name")
        run_name = check_name(run_name, "run_name")
        user = check_name(user, "user")
        start_ms = to_ms(start_time, "start_time")
        tag_values = check_mapping(tags, "tags")
        deps = check_mapping(dependencies, "dependencies")
        if code_version is not None and not isinstance(code_version, str):
            raise ValidationError("code_version must be a string", field="code_version")
        run_id = ids.new_id()
        with self._write() as conn:
            if parent_run_id is not None:
                self._seq(conn, parent_run_id)
            experiment_id = self._experiment_ids.get(experiment_name)
            if experiment_id is None:
                conn.execute(
                    "INSERT INTO experiments (name, created_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    (experiment_name, _now_ms()),
                )
                experiment_id = conn.execute(
                    "SELECT experiment_id FROM experiments WHERE name = ?", (experiment_name,)
                ).fetchone()[0]
            cur = conn.execute(
                """INSERT INTO runs (run_id, experiment_id, run_name, status, start_ms, user,
                       parent_run_id, code_version, dependencies, tags_json)
                   VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)""",
                (
                    run_id,
                    experiment_id,
                    run_name,
                    start_ms,
                    user,
                    parent_run_id,
                    code_version,
                    _compact_json(deps),
                    _compact_json(tag_values),
                ),
            )
            seq = cur.lastrowid
            conn.executemany(
                "INSERT INTO tags (seq, key, value) VALUES (?, ?, ?)",
                [(seq, k, v) for k, v in tag_values.items()],
            )
        # Experiments are never deleted, so a committed id stays valid.
        self._experiment_ids[experiment_name] = experiment_id
        return run_id

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        values = check_mapping(params, "params")
        with self._write() as conn:
            seq, _, params_json, _ = self._state(conn, run_id)
            existing: dict[str, str] = json.loads(params_json)
            for key, value in values.items():
                if key in existing and existing[key] != value:
                    raise ValidationError(
                        f"param {key!r} of run {run_id} is already {existing[key][:100]!r}; "
                        f"a param cannot change to {value[:100]!r} (start a new run instead)",
                        field=f"params.{key}",
                    )
            conn.executemany(
                "INSERT INTO params (seq, key, value) VALUES (?, ?, ?)",
                [(seq, k, v) for k, v in values.items() if k not in existing],
            )
            conn.execute(
                "UPDATE runs SET params_json = ? WHERE seq = ?",
                (_compact_json({**existing, **values}), seq),
            )

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], *, step: int | None = None
    ) -> None:
        rows = check_metrics(metrics, step)
        now, step_value = _now_ms(), step or 0
        with self._write() as conn:
            seq, _ = self._seq(conn, run_id)
            conn.executemany(
                "INSERT INTO metric_history (seq, key, step, value, ts_ms) VALUES (?, ?, ?, ?, ?)",
                [(seq, k, step_value, v, now) for k, v in rows],
            )
            conn.executemany(
                """INSERT INTO latest_metrics (seq, key, value, step) VALUES (?, ?, ?, ?)
                   ON CONFLICT (seq, key) DO UPDATE SET value = excluded.value, step = excluded.step
                   WHERE excluded.step >= latest_metrics.step""",
                [(seq, k, v, step_value) for k, v in rows],
            )
            latest = dict(
                conn.execute(
                    "SELECT key, value FROM latest_metrics WHERE seq = ?", (seq,)
                ).fetchall()
            )
            conn.execute(
                "UPDATE runs SET metrics_json = ? WHERE seq = ?", (_compact_json(latest), seq)
            )

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        values = check_mapping(tags, "tags")
        with self._write() as conn:
            seq, _, _, tags_json = self._state(conn, run_id)
            conn.executemany(
                """INSERT INTO tags (seq, key, value) VALUES (?, ?, ?)
                   ON CONFLICT (seq, key) DO UPDATE SET value = excluded.value""",
                [(seq, k, v) for k, v in values.items()],
            )
            merged = {**json.loads(tags_json), **values}
            conn.execute(
                "UPDATE runs SET tags_json = ? WHERE seq = ?", (_compact_json(merged), seq)
            )

    def log_artifact(
        self,
        run_id: str,
        local_path: Path,
        *,
        artifact_path: str | None = None,
        is_output: bool = True,
    ) -> ArtifactInfo:
        source, rel = artifact_source(local_path, artifact_path)
        with self._read() as conn:
            self._seq(conn, run_id)
        dest = self.artifact_root / run_id / Path(*rel.parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            # The file lands before the row commits: a crash leaves at worst an unreferenced file.
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        info = ArtifactInfo(
            path=str(rel), size_bytes=size, is_output=bool(is_output), sha256=digest.hexdigest()
        )
        with self._write() as conn:
            seq, _ = self._seq(conn, run_id)
            conn.execute(
                """INSERT INTO artifacts (seq, path, size_bytes, is_output, sha256) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (seq, path) DO UPDATE SET size_bytes = excluded.size_bytes,
                   is_output = excluded.is_output, sha256 = excluded.sha256""",
                (seq, info.path, info.size_bytes, int(info.is_output), info.sha256),
            )
        return info

    def log_dataset(self, run_id: str, name: str, content_hash: str) -> None:
        name = check_name(name, "name")
        content_hash = check_name(content_hash, "content_hash")
        with self._write() as conn:
            seq, _ = self._seq(conn, run_id)
            row = conn.execute(
                "SELECT hash FROM datasets WHERE seq = ? AND name = ?", (seq, name)
            ).fetchone()
            if row is not None and row[0] != content_hash:
                raise ValidationError(
                    f"dataset {name!r} of run {run_id} was already logged with hash {row[0]}; "
                    "log the changed data under another name or in a new run",
                    field="name",
                )
            if row is None:
                conn.execute(
                    "INSERT INTO datasets (seq, name, hash) VALUES (?, ?, ?)",
                    (seq, name, content_hash),
                )
            # The run's dataset version: the "training" dataset if logged, else the first one.
            conn.execute(
                """UPDATE runs SET dataset_version = (SELECT hash FROM datasets WHERE seq = ?
                       ORDER BY name = 'training' DESC, id LIMIT 1) WHERE seq = ?""",
                (seq, seq),
            )

    def end_run(self, run_id: str, status: RunStatus, *, end_time: datetime) -> None:
        check_end_status(status)
        end_ms = to_ms(end_time, "end_time")
        with self._write() as conn:
            seq, current = self._seq(conn, run_id)
            if current != "running":
                raise ValidationError(
                    f"run {run_id} already ended with status {current!r}", field="status"
                )
            conn.execute(
                "UPDATE runs SET status = ?, end_ms = ? WHERE seq = ?", (status, end_ms, seq)
            )

    # --- reading -----------------------------------------------------------
    def get_run(self, run_id: str) -> RunDetail:
        with self._read() as conn:
            seq, _ = self._seq(conn, run_id)
            summary = hydrate(conn, [seq])[0]
            code_version, deps, dataset_version = conn.execute(
                "SELECT code_version, dependencies, dataset_version FROM runs WHERE seq = ?", (seq,)
            ).fetchone()
            datasets = dict(
                conn.execute("SELECT name, hash FROM datasets WHERE seq = ? ORDER BY id", (seq,))
            )
            artifacts = [
                ArtifactInfo(path=p, size_bytes=s, is_output=bool(o), sha256=h)
                for p, s, o, h in conn.execute(
                    "SELECT path, size_bytes, is_output, sha256 FROM artifacts WHERE seq = ? ORDER BY path",
                    (seq,),
                )
            ]
            children = [
                r[0]
                for r in conn.execute(
                    "SELECT run_id FROM runs WHERE parent_run_id = ? ORDER BY start_ms, run_id",
                    (run_id,),
                )
            ]
            history: dict[str, list[tuple[int, float]]] = {}
            for key, step, value in conn.execute(
                "SELECT key, step, value FROM metric_history WHERE seq = ? ORDER BY key, id", (seq,)
            ):
                history.setdefault(key, []).append((step, value))
        return RunDetail(
            **summary.model_dump(),
            code_version=code_version,
            dataset_version=dataset_version,
            datasets=datasets,
            dependencies=json.loads(deps),
            artifacts=artifacts,
            children=children,
            metric_history=history,
        )

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        with self._read() as conn:
            return search(conn, filter_string, order_by, max_results, page_token)

    def search_runs_json(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> str:
        """``search_runs`` as ``RunsPage`` JSON, rendered by SQLite without a model per run."""
        with self._read() as conn:
            return search_json(conn, filter_string, order_by, max_results, page_token)

    def log_runs(self, runs: Sequence[bulk.RunToLog]) -> list[str]:
        """Log many runs in one transaction (see ``fraud_jlab.tracking.sqlite.bulk``).

        Example: ``store.log_runs([RunToLog("exp", "r1", user="ann", start_time=t0,
        end_time=t1, params={"max_depth": 7}, metrics={"auc_roc": 0.93})])``.
        """
        with self._write() as conn:
            return bulk.log_runs(conn, runs)

    def list_experiments(self) -> list[ExperimentSummary]:
        with self._read() as conn:
            rows = conn.execute(
                """SELECT e.name, count(r.seq), min(r.start_ms), max(r.start_ms)
                   FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.experiment_id
                   GROUP BY e.experiment_id ORDER BY max(r.start_ms) DESC, e.name"""
            ).fetchall()
        return [
            ExperimentSummary(
                name=name,
                run_count=count,
                first_run_time=from_ms(first) if first is not None else None,
                last_run_time=from_ms(last) if last is not None else None,
            )
            for name, count, first, last in rows
        ]

    def read_artifact(self, run_id: str, path: str) -> bytes:
        with self._read() as conn:
            seq, _ = self._seq(conn, run_id)
            row = conn.execute(
                "SELECT 1 FROM artifacts WHERE seq = ? AND path = ?", (seq, path)
            ).fetchone()
        if row is None:
            raise NotFoundError("artifact", path, f"Run {run_id} has no artifact at this path.")
        base = (self.artifact_root / run_id).resolve()
        file = (base / Path(*PurePosixPath(path).parts)).resolve()
        # A symlink planted in the artifact directory must not read files outside it.
        if not file.is_relative_to(base):
            raise AccessDenied(
                f"Artifact {path!r} of run {run_id} resolves outside the run's artifact store."
            )
        try:
            return file.read_bytes()
        except FileNotFoundError:
            raise NotFoundError("artifact file", str(file), "It was removed from disk.") from None
