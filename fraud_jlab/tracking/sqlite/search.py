"""Run search over the SQLite schema: count, choose the page's runs, then read only those.

The count is one covering-index range per condition; which runs make up the page is
:mod:`fraud_jlab.tracking.sqlite.page_query` (an order key's index walked in order, the
filter probed per run, or the filter's matches first); the page's runs are read from one row
each (:mod:`fraud_jlab.tracking.sqlite.hydrate`), either into ``RunSummary`` models
(:func:`search`) or straight into the response JSON (:func:`search_json`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from fraud_jlab.tracking.contract import RunsPage
from fraud_jlab.tracking.query.filters import parse_filter, parse_order_by
from fraud_jlab.tracking.query.paging import (
    check_max_results,
    decode_token,
    encode_token,
    fingerprint,
)
from fraud_jlab.tracking.sqlite.compiler import compile_filter
from fraud_jlab.tracking.sqlite.hydrate import hydrate, page_json, run_json
from fraud_jlab.tracking.sqlite.page_query import page_seqs

__all__ = ["hydrate", "search", "search_json"]


def _page(
    conn: sqlite3.Connection,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> tuple[list[int], str | None, int]:
    """(the page's run ``seq`` in order, the next page's token, the match count)."""
    max_results = check_max_results(max_results)
    node = parse_filter(filter_string or "")
    keys = parse_order_by([order_by] if isinstance(order_by, str) else list(order_by or ()))
    search_print = fingerprint(node, keys)
    offset = decode_token(page_token, search_print)
    if node is None:
        total = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    else:
        filter_params: list[object] = []
        filter_sql = compile_filter(node, filter_params)
        total = conn.execute(f"SELECT count(*) FROM ({filter_sql})", filter_params).fetchone()[0]
    seqs = page_seqs(conn, keys, node, total, max_results, offset) if offset < total else []
    end = offset + len(seqs)
    return seqs, (encode_token(end, search_print) if end < total else None), total


def search(
    conn: sqlite3.Connection,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> RunsPage:
    """One page of runs matching ``filter_string``; see ``TrackerStore.search_runs``."""
    seqs, token, total = _page(conn, filter_string, order_by, max_results, page_token)
    return RunsPage(runs=hydrate(conn, seqs), next_page_token=token, total=total)


def search_json(
    conn: sqlite3.Connection,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> str:
    """:func:`search`'s page as the JSON ``RunsPage.model_dump(mode="json")`` would give."""
    seqs, token, total = _page(conn, filter_string, order_by, max_results, page_token)
    return page_json(run_json(conn, seqs), token, total)
