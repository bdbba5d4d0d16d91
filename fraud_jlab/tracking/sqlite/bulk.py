"""Bulk logging into the embedded tracker: many finished runs in one transaction.

``SqliteTrackerStore.log_runs([RunToLog(...), ...])`` checks every run first (the same checks
as ``create_run``/``log_params``/``log_metrics``/``set_tags``/``end_run``; nothing is written
when one fails) and then writes them all with one ``executemany`` per table in one
transaction, so importing or generating runs costs a few microseconds per row instead of five
transactions per run. The stored rows are the ones the one-run-at-a-time calls write, so
search and ``get_run`` see no difference.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking import ids
from fraud_jlab.tracking.contract import RUN_STATUSES, RunStatus
from fraud_jlab.tracking.inputs import check_mapping, check_metrics, check_name, to_ms

#: Most runs accepted by one ``log_runs`` call (one transaction).
MAX_BULK_RUNS = 100_000


@dataclass(frozen=True)
class RunToLog:
    """One run for :func:`log_runs`: its metadata, params, final metric values and tags."""

    experiment_name: str
    run_name: str
    user: str
    start_time: datetime
    end_time: datetime | None = None
    status: RunStatus = "completed"
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    code_version: str | None = None
    dependencies: Mapping[str, str] = field(default_factory=dict)


def _compact(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class _Checked:
    run: RunToLog
    experiment: str
    run_name: str
    user: str
    start_ms: int
    end_ms: int | None
    params: dict[str, str]
    metrics: list[tuple[str, float]]
    tags: dict[str, str]
    dependencies: dict[str, str]


def _check(run: Any, index: int) -> _Checked:
    where = f"runs[{index}]"
    if not isinstance(run, RunToLog):
        raise ValidationError(f"{where} must be a RunToLog, got {type(run).__name__}", field=where)
    if run.status not in RUN_STATUSES:
        raise ValidationError(
            f"{where}.status must be one of {', '.join(RUN_STATUSES)}, got {run.status!r}",
            field=f"{where}.status",
        )
    if (run.end_time is None) != (run.status == "running"):
        raise ValidationError(
            f"{where}.end_time must be given for a finished run and omitted for a running one",
            field=f"{where}.end_time",
        )
    if run.code_version is not None and not isinstance(run.code_version, str):
        raise ValidationError(
            f"{where}.code_version must be a string", field=f"{where}.code_version"
        )
    return _Checked(
        run=run,
        experiment=check_name(run.experiment_name, "experiment_name"),
        run_name=check_name(run.run_name, "run_name"),
        user=check_name(run.user, "user"),
        start_ms=to_ms(run.start_time, "start_time"),
        end_ms=to_ms(run.end_time, "end_time") if run.end_time is not None else None,
        params=check_mapping(run.params, "params"),
        metrics=check_metrics(run.metrics, None),
        tags=check_mapping(run.tags, "tags"),
        dependencies=check_mapping(run.dependencies, "dependencies"),
    )


def log_runs(conn: sqlite3.Connection, runs: Sequence[RunToLog]) -> list[str]:
    """Write ``runs`` in the open write transaction of ``conn``; returns their run ids.

    Raises ValidationError (naming ``runs[i].<field>``) for bad input and NotFoundError for
    an unknown ``parent_run_id``, before anything is written.
    """
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
        raise ValidationError("runs must be a sequence of RunToLog", field="runs")
    if len(runs) > MAX_BULK_RUNS:
        raise ValidationError(
            f"runs holds {len(runs)} runs: allowed 0..{MAX_BULK_RUNS} per call", field="runs"
        )
    checked = [_check(run, i) for i, run in enumerate(runs)]
    for parent in {c.run.parent_run_id for c in checked} - {None}:
        if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (parent,)).fetchone() is None:
            raise NotFoundError("run", str(parent))
    now = to_ms(datetime.now(timezone.utc), "now")
    experiment_ids: dict[str, int] = {}
    for name in dict.fromkeys(c.experiment for c in checked):
        conn.execute(
            "INSERT INTO experiments (name, created_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, now),
        )
        experiment_ids[name] = conn.execute(
            "SELECT experiment_id FROM experiments WHERE name = ?", (name,)
        ).fetchone()[0]
    first_seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM runs").fetchone()[0]) + 1
    run_rows, param_rows, tag_rows, latest_rows, history_rows = [], [], [], [], []
    run_ids: list[str] = []
    for seq, c in enumerate(checked, start=first_seq):
        run_id = ids.new_id()
        run_ids.append(run_id)
        # What log_metrics stores: the latest values in key order, as Python floats.
        metrics = dict(sorted(c.metrics))
        run_rows.append(
            (
                seq,
                run_id,
                experiment_ids[c.experiment],
                c.run_name,
                c.run.status,
                c.start_ms,
                c.end_ms,
                c.user,
                c.run.parent_run_id,
                c.run.code_version,
                _compact(c.dependencies),
                _compact(c.params),
                _compact(metrics),
                _compact(c.tags),
            )
        )
        param_rows += [(seq, k, v) for k, v in c.params.items()]
        tag_rows += [(seq, k, v) for k, v in c.tags.items()]
        latest_rows += [(seq, k, v) for k, v in metrics.items()]
        history_rows += [(seq, k, v, now) for k, v in c.metrics]
    conn.executemany(
        """INSERT INTO runs (seq, run_id, experiment_id, run_name, status, start_ms, end_ms,
               user, parent_run_id, code_version, dependencies, params_json, metrics_json,
               tags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        run_rows,
    )
    conn.executemany("INSERT INTO params (seq, key, value) VALUES (?, ?, ?)", param_rows)
    conn.executemany("INSERT INTO tags (seq, key, value) VALUES (?, ?, ?)", tag_rows)
    conn.executemany(
        "INSERT INTO latest_metrics (seq, key, value, step) VALUES (?, ?, ?, 0)", latest_rows
    )
    conn.executemany(
        "INSERT INTO metric_history (seq, key, step, value, ts_ms) VALUES (?, ?, 0, ?, ?)",
        history_rows,
    )
    return run_ids
