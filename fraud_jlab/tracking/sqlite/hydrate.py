"""A page's runs read from one row each: as ``RunSummary`` objects, or straight as JSON.

SQLite renders each run as the JSON object pydantic would write for its ``RunSummary``
(``model_dump(mode="json")``: same keys, same values, times as ``...T..:..:..[.ffffff]Z``) from
the row's stored JSON columns (``params_json``/``metrics_json``/``tags_json``, written by
``json.dumps``, so metric values keep Python's exact ``repr``). :func:`hydrate` validates a
page of them with pydantic in one call; :func:`page_json` only joins them, so the REST API can
answer without building a model per run.
"""

from __future__ import annotations

import json
import sqlite3

from pydantic import TypeAdapter

from fraud_jlab.tracking.contract import RunSummary


def _iso(ms: str) -> str:
    """SQL rendering milliseconds ``ms`` as pydantic renders the UTC datetime.

    Whole seconds print no fraction; otherwise six digits (milliseconds then ``000``). The
    millisecond part is taken modulo 1000 towards minus infinity, so times before 1970 work.
    """
    frac = f"(({ms} % 1000) + 1000) % 1000"
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', ({ms} - {frac}) / 1000, 'unixepoch') || "
        f"CASE WHEN {frac} = 0 THEN 'Z' ELSE printf('.%03d000Z', {frac}) END"
    )


_RUN_JSON = (
    'format(\'{"run_id":%s,"experiment_name":%s,"run_name":%s,"status":%s,'
    '"start_time":"%s","end_time":%s,"user":%s,"parent_run_id":%s,'
    '"params":%s,"metrics":%s,"tags":%s}\', '
    "json_quote(r.run_id), json_quote(e.name), json_quote(r.run_name), json_quote(r.status), "
    f"{_iso('r.start_ms')}, "
    f"CASE WHEN r.end_ms IS NULL THEN 'null' ELSE '\"' || {_iso('r.end_ms')} || '\"' END, "
    "json_quote(r.user), json_quote(r.parent_run_id), "
    "r.params_json, r.metrics_json, r.tags_json)"
)
# The stored JSON columns are already valid JSON (written by json.dumps), so they are
# concatenated, never re-parsed in SQL.
_HYDRATE_SQL = f"""
SELECT r.seq, {_RUN_JSON}
FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
WHERE r.seq IN (SELECT value FROM json_each(?))
"""
_RUNS = TypeAdapter(list[RunSummary])


def run_json(conn: sqlite3.Connection, seqs: list[int]) -> list[str]:
    """Each run of ``seqs`` (in that order) as the JSON text of its ``RunSummary``."""
    if not seqs:
        return []
    by_seq = dict(conn.execute(_HYDRATE_SQL, (json.dumps(seqs),)).fetchall())
    return [by_seq[seq] for seq in seqs]


def hydrate(conn: sqlite3.Connection, seqs: list[int]) -> list[RunSummary]:
    """RunSummary objects for ``seqs`` (in that order), with params, latest metrics and tags.

    Pydantic validates the whole page of SQL-rendered JSON in one call.
    """
    if not seqs:
        return []
    return _RUNS.validate_json("[" + ",".join(run_json(conn, seqs)) + "]")


def page_json(runs: list[str], next_page_token: str | None, total: int) -> str:
    """The ``RunsPage`` JSON of an exactly counted page whose runs are already JSON texts."""
    return (
        '{"runs":['
        + ",".join(runs)
        + '],"next_page_token":'
        + json.dumps(next_page_token)
        + ',"total":'
        + str(int(total))
        + ',"total_is_exact":true,"client_side_filter":null}'
    )
