"""Schema of the embedded SQLite tracker and its migrations.

``MIGRATIONS[i]`` upgrades a database from schema version ``i`` to ``i + 1``.
:func:`migrate` applies the missing steps in order, in one transaction, when a
store opens a file, so a database written by an older fraud_jlab is upgraded
in place. Append new steps; never edit a released one.

Runs are joined through ``runs.seq`` (an integer) rather than the 26-character
run id; ``(key, value, seq)`` indexes on params, tags and latest metrics let a
filter such as ``metrics.accuracy >= 0.95`` or an ``order_by`` on a metric be
answered by an index range scan. ``runs.params_json``/``metrics_json``/``tags_json``
duplicate a run's params, latest metrics and tags so a page is hydrated from one
row per run; the normalized tables stay the source of truth for search.
"""

from __future__ import annotations

import sqlite3

from fraud_jlab.errors import ValidationError

MIGRATIONS: list[tuple[str, ...]] = [
    # 1: runs, their params/tags/metric history, artifacts and datasets
    (
        """CREATE TABLE experiments (
            experiment_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL)""",
        """CREATE TABLE runs (
            seq INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
            run_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
            start_ms INTEGER NOT NULL,
            end_ms INTEGER,
            user TEXT NOT NULL,
            parent_run_id TEXT REFERENCES runs(run_id),
            code_version TEXT,
            dependencies TEXT NOT NULL DEFAULT '{}',
            dataset_version TEXT)""",
        "CREATE INDEX runs_start ON runs(start_ms, run_id)",
        "CREATE INDEX runs_parent ON runs(parent_run_id)",
        "CREATE INDEX runs_experiment ON runs(experiment_id, start_ms)",
        """CREATE TABLE params (
            seq INTEGER NOT NULL REFERENCES runs(seq),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (seq, key)) WITHOUT ROWID""",
        """CREATE TABLE tags (
            seq INTEGER NOT NULL REFERENCES runs(seq),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (seq, key)) WITHOUT ROWID""",
        """CREATE TABLE metric_history (
            id INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL REFERENCES runs(seq),
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            value REAL NOT NULL,
            ts_ms INTEGER NOT NULL)""",
        "CREATE INDEX metric_history_run ON metric_history(seq, key, step)",
        """CREATE TABLE artifacts (
            seq INTEGER NOT NULL REFERENCES runs(seq),
            path TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            is_output INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            PRIMARY KEY (seq, path)) WITHOUT ROWID""",
        """CREATE TABLE datasets (
            id INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL REFERENCES runs(seq),
            name TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (seq, name))""",
    ),
    # 2: search: latest value per metric (back-filled from history) and key/value indexes
    (
        """CREATE TABLE latest_metrics (
            seq INTEGER NOT NULL REFERENCES runs(seq),
            key TEXT NOT NULL,
            value REAL NOT NULL,
            step INTEGER NOT NULL,
            PRIMARY KEY (seq, key)) WITHOUT ROWID""",
        """INSERT INTO latest_metrics (seq, key, value, step)
            SELECT h.seq, h.key, h.value, h.step FROM metric_history h
            WHERE h.id = (SELECT h2.id FROM metric_history h2
                          WHERE h2.seq = h.seq AND h2.key = h.key
                          ORDER BY h2.step DESC, h2.id DESC LIMIT 1)""",
        "CREATE INDEX latest_metrics_kv ON latest_metrics(key, value, seq)",
        "CREATE INDEX params_kv ON params(key, value, seq)",
        "CREATE INDEX tags_kv ON tags(key, value, seq)",
        # A page of results is read from these JSON copies (one row per run) instead of
        # from thousands of param/metric/tag rows; writes keep them in step in the same
        # transaction. Metrics are back-filled with 17 significant digits (exact doubles).
        "ALTER TABLE runs ADD COLUMN params_json TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN metrics_json TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '{}'",
        """UPDATE runs SET
            params_json = (SELECT json_group_object(key, value) FROM params WHERE seq = runs.seq),
            tags_json = (SELECT json_group_object(key, value) FROM tags WHERE seq = runs.seq),
            metrics_json = (SELECT json_group_object(key, json(printf('%!.17g', value)))
                            FROM latest_metrics WHERE seq = runs.seq)""",
    ),
    # 3: append-only events (promotions, rollbacks, ...)
    (
        """CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            run_id TEXT REFERENCES runs(run_id),
            ts_ms INTEGER NOT NULL,
            payload TEXT NOT NULL)""",
        "CREATE INDEX events_kind ON events(kind, ts_ms)",
        "CREATE INDEX events_run ON events(run_id, ts_ms)",
        """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
        """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database (0 for an empty file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing migrations up to ``target`` in one transaction; returns the new version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises
    ValidationError when the file was written by a newer fraud_jlab.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise ValidationError(
                f"the tracking database has schema version {current}, newer than the "
                f"{SCHEMA_VERSION} this fraud_jlab supports; upgrade fraud_jlab",
                field="tracking_uri",
            )
        for version in range(current + 1, target + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        if target > current:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return max(current, target)
