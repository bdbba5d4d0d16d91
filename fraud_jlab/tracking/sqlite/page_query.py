"""Which runs make up one page of a search: the page query and its plans.

Two ways answer a page ordered by a metric, param or tag (the common case):

* **sort-index first** ("probe"): walk the order key's ``(key, value, seq)`` index in the
  requested direction and check the filter per visited run with primary-key probes, stopping
  once the page is full. It visits about ``(offset + limit) * runs / matches`` index entries.
* **filter first** ("set"): build the set of matching runs from the filter's own index ranges,
  then walk the order key's index keeping only runs in that set.

:func:`page_seqs` picks the cheaper one from the match count (already known: the page
reports it) and ``_PROBE_SET_RATIO``. Both return the runs in index order, which breaks ties
on equal values by ``seq``, while the contract breaks them newest first (``start_time DESC``,
then ``run_id DESC``): runs tying *inside* the page are re-ordered here, and a tie that crosses
the page's edge (or a page that runs past the runs having the key) falls back to
:func:`exact_page_seqs`, the full ``ORDER BY`` with every tie-breaker.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from fraud_jlab.tracking.query.filters import BoolOp, Node, OrderKey, operands
from fraud_jlab.tracking.sqlite.compiler import (
    ATTRIBUTE_COLUMNS,
    ENTITY_TABLES,
    compile_filter,
    compile_predicate,
)

_NULLABLE = ("end_time", "parent_run_id")

#: Force a plan: "probe" / "set" for the sort-index walk, "exact" for the full ORDER BY
#: (tests and benchmarks); ``None`` picks per query.
PLAN: str | None = None
#: Putting one match into the filter-first set costs about this fraction of probing one
#: visited run (measured at 100,000 runs: ~0.45 us per set member against ~1.1 us per metric
#: probe and ~1.9 us per param probe), so the walk wins while
#: ``visits < _PROBE_SET_RATIO * matches``.
_PROBE_SET_RATIO = 0.5
#: The exact query's own choice (walk in order and probe, or materialize and sort).
_SCAN_COST_RATIO = 8


def _uses_attributes(node: Node) -> bool:
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, BoolOp):
            stack.extend(operands(item))
        elif item.key.kind == "attribute":
            return True
    return False


def _run_count(conn: sqlite3.Connection) -> int:
    # max(seq) is one b-tree descent; runs are never deleted, so it is the run count.
    return int(conn.execute("SELECT max(seq) FROM runs").fetchone()[0] or 0)


def choose_plan(conn: sqlite3.Connection, node: Node | None, total: int, need: int) -> str:
    """ "probe" or "set" for a page that needs ``need`` matches out of ``total``."""
    if PLAN in ("probe", "set"):
        return PLAN
    if node is None:
        return "probe"
    visits = need * _run_count(conn) / max(total, 1)
    return "probe" if visits < _PROBE_SET_RATIO * total else "set"


def _walk(
    conn: sqlite3.Connection,
    first: OrderKey,
    node: Node | None,
    plan: str,
    start: int,
    count: int,
) -> list[tuple[int, object]]:
    """``(seq, value)`` of matches number ``start .. start + count`` in the order key's index."""
    table = ENTITY_TABLES[first.key.kind]
    direction = "DESC" if first.descending else "ASC"
    params: list[object] = [first.key.name]
    join, cond = "", "1"
    if node is not None and plan == "probe":
        alias = "o0"
        if _uses_attributes(node):
            join, alias = "JOIN runs r ON r.seq = o0.seq", "r"
        cond = compile_predicate(node, params, alias)
    elif node is not None:
        cond = f"o0.seq IN ({compile_filter(node, params)})"
    sql = (
        f"SELECT o0.seq, o0.value FROM {table} o0 {join} WHERE o0.key = ? AND {cond} "
        f"ORDER BY o0.value {direction} LIMIT ? OFFSET ?"
    )
    return [(r[0], r[1]) for r in conn.execute(sql, [*params, count, start])]


def _newest_first(conn: sqlite3.Connection, seqs: list[int]) -> list[int]:
    placeholders = ", ".join("?" * len(seqs))
    rows = conn.execute(
        f"SELECT seq FROM runs WHERE seq IN ({placeholders}) ORDER BY start_ms DESC, run_id DESC",
        seqs,
    ).fetchall()
    return [r[0] for r in rows]


def _sort_index_page(
    conn: sqlite3.Connection,
    first: OrderKey,
    node: Node | None,
    total: int,
    limit: int,
    offset: int,
) -> list[int] | None:
    """The page from the order key's index, or ``None`` when only the exact query can tell."""
    plan = choose_plan(conn, node, total, offset + limit)
    start = max(offset - 1, 0)
    rows = _walk(conn, first, node, plan, start, limit + 1 + (offset - start))
    before = rows[0] if offset > 0 and rows else None
    page = rows[offset - start : offset - start + limit]
    after = rows[offset - start + limit] if len(rows) > offset - start + limit else None
    if len(page) < limit and offset + len(page) < total:
        return None  # the runs having the key ran out: the rest come from the exact query
    if page and (
        (before is not None and before[1] == page[0][1])
        or (after is not None and after[1] == page[-1][1])
    ):
        return None  # a tie crosses the page's edge: which runs it holds needs the tie-breakers
    out: list[int] = []
    i = 0
    while i < len(page):
        j = i + 1
        while j < len(page) and page[j][1] == page[i][1]:
            j += 1
        group = [seq for seq, _ in page[i:j]]
        out.extend(_newest_first(conn, group) if len(group) > 1 else group)
        i = j
    return out


def page_seqs(
    conn: sqlite3.Connection,
    keys: list[OrderKey],
    node: Node | None,
    total: int,
    limit: int,
    offset: int,
) -> list[int]:
    """``seq`` of the runs on the page ``offset .. offset + limit``, in the contract's order."""
    if PLAN != "exact" and len(keys) == 1 and keys[0].key.kind != "attribute":
        page = _sort_index_page(conn, keys[0], node, total, limit, offset)
        if page is not None:
            return page
    return exact_page_seqs(conn, keys, node, total, limit, offset)


def _order_sql(
    keys: Sequence[OrderKey], first_alias: int
) -> tuple[list[str], list[object], list[str]]:
    """JOIN clauses, their bound values and ORDER BY terms (with the default tie-breakers)."""
    joins: list[str] = []
    params: list[object] = []
    terms: list[str] = []
    for i, item in enumerate(keys, start=first_alias):
        direction = "DESC" if item.descending else "ASC"
        key = item.key
        if key.kind != "attribute":
            joins.append(
                f"LEFT JOIN {ENTITY_TABLES[key.kind]} o{i} ON o{i}.seq = r.seq AND o{i}.key = ?"
            )
            params.append(key.name)
            terms += [f"(o{i}.value IS NULL)", f"o{i}.value {direction}"]
        elif key.name == "experiment":
            if "JOIN experiments e" not in " ".join(joins):
                joins.append("JOIN experiments e ON e.experiment_id = r.experiment_id")
            terms.append(f"e.name {direction}")
        elif key.name in _NULLABLE:
            column = ATTRIBUTE_COLUMNS[key.name]
            terms += [f"(r.{column} IS NULL)", f"r.{column} {direction}"]
        else:
            terms.append(f"r.{ATTRIBUTE_COLUMNS[key.name]} {direction}")
    terms += ["r.start_ms DESC", "r.run_id DESC"]
    return joins, params, terms


def _filter_clause(
    conn: sqlite3.Connection, node: Node | None, total: int, limit: int, offset: int
) -> tuple[str, list[object]]:
    """The exact query's WHERE condition, in the cheaper of two equivalent forms.

    "scan" walks runs in the requested order and probes each filter condition,
    visiting about ``(offset + limit) * runs / total`` runs; "materialize" builds
    the set of every match first (about ``total`` rows) and sorts it.
    """
    params: list[object] = []
    if node is None:
        return "1", params
    visits = (offset + limit) * _run_count(conn) / max(total, 1)
    if visits < _SCAN_COST_RATIO * total:
        return compile_predicate(node, params), params
    return f"r.seq IN ({compile_filter(node, params)})", params


def exact_page_seqs(
    conn: sqlite3.Connection,
    keys: list[OrderKey],
    node: Node | None,
    total: int,
    limit: int,
    offset: int,
) -> list[int]:
    """The page with the full ``ORDER BY`` (every order key and tie-breaker) in SQL."""
    where, where_params = _filter_clause(conn, node, total, limit, offset)
    if not keys or keys[0].key.kind == "attribute":
        joins, join_params, terms = _order_sql(keys, 0)
        sql = (
            f"SELECT r.seq FROM runs r {' '.join(joins)} WHERE {where} "
            f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
        )
        return [r[0] for r in conn.execute(sql, [*join_params, *where_params, limit, offset])]

    # Runs that have the first order key, in its index order; then the runs without it.
    first = keys[0]
    table, name = ENTITY_TABLES[first.key.kind], first.key.name
    direction = "DESC" if first.descending else "ASC"
    joins, join_params, terms = _order_sql(keys[1:], 1)

    def count_with_key() -> int:
        set_params: list[object] = []
        keyed = f"o0.seq IN ({compile_filter(node, set_params)})" if node is not None else "1"
        sql = f"SELECT count(*) FROM {table} o0 WHERE o0.key = ? AND {keyed}"
        return int(conn.execute(sql, [name, *set_params]).fetchone()[0])

    sql = (
        f"SELECT r.seq FROM {table} o0 JOIN runs r ON r.seq = o0.seq {' '.join(joins)} "
        f"WHERE o0.key = ? AND {where} ORDER BY o0.value {direction}, {', '.join(terms)} LIMIT ? OFFSET ?"
    )
    seqs = [r[0] for r in conn.execute(sql, [*join_params, name, *where_params, limit, offset])]
    if len(seqs) == limit:
        return seqs
    # The runs with the key ran out on this page: count them only now (a full index range).
    with_key = offset + len(seqs) if seqs else count_with_key()
    if with_key < total:
        sql = (
            f"SELECT r.seq FROM runs r {' '.join(joins)} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE seq = r.seq AND key = ?) AND {where} "
            f"ORDER BY {', '.join(terms)} LIMIT ? OFFSET ?"
        )
        rest_offset = max(0, offset - with_key)
        args = [*join_params, name, *where_params, limit - len(seqs), rest_offset]
        seqs += [r[0] for r in conn.execute(sql, args)]
    return seqs
