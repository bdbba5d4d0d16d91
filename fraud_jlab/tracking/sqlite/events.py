"""Append-only events (promotions, rollbacks, ...) of the embedded tracker.

:class:`EventsMixin` gives :class:`~fraud_jlab.tracking.sqlite.store.SqliteTrackerStore`
``log_event`` and ``list_events`` over its ``events`` table, whose triggers refuse any
update or delete.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.tracking import ids
from fraud_jlab.tracking.contract import TrackerEvent
from fraud_jlab.tracking.inputs import check_name, check_payload, from_ms, to_ms


class EventsMixin:
    """``log_event`` / ``list_events`` for a store with ``_write``, ``_read`` and ``_seq``."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _seq(self, conn: sqlite3.Connection, run_id: Any) -> tuple[int, str]:
        raise NotImplementedError

    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        kind = check_name(kind, "kind")
        text = check_payload(payload)
        now = to_ms(datetime.now(timezone.utc), "now")
        event_id = ids.new_id(now)
        with self._write() as conn:
            if run_id is not None:
                self._seq(conn, run_id)
            conn.execute(
                "INSERT INTO events (event_id, kind, run_id, ts_ms, payload) VALUES (?, ?, ?, ?, ?)",
                (event_id, kind, run_id, now, text),
            )
        return TrackerEvent(
            event_id=event_id,
            kind=kind,
            run_id=run_id,
            timestamp=from_ms(now),
            payload=json.loads(text),
        )

    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        clauses, params = [], []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT event_id, kind, run_id, ts_ms, payload FROM events {where} "
                "ORDER BY ts_ms DESC, event_id DESC",
                params,
            ).fetchall()
        return [
            TrackerEvent(event_id=e, kind=k, run_id=r, timestamp=from_ms(t), payload=json.loads(p))
            for e, k, r, t, p in rows
        ]
