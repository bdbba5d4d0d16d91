"""Compile a parsed run filter (``fraud_jlab.tracking.query.filters``) to SQLite SQL.

Values only ever travel as bound parameters, never as SQL text. Chains of the same
operator (``a OR b OR c``) compile to one flat n-ary compound / predicate, so SQL
nesting grows only with parentheses, never with the number of terms.
"""

from __future__ import annotations

from fraud_jlab.tracking.query.filters import (
    COMPARISON_OPS,
    NULL_OPS,
    SET_OPS,
    BoolOp,
    Node,
    Value,
    operands,
)

ENTITY_TABLES: dict[str, str] = {"metric": "latest_metrics", "param": "params", "tag": "tags"}
ATTRIBUTE_COLUMNS: dict[str, str] = {
    "status": "status",
    "run_name": "run_name",
    "start_time": "start_ms",
    "end_time": "end_ms",
    "run_id": "run_id",
    "parent_run_id": "parent_run_id",
    "user": "user",
}


def like_to_glob(pattern: str) -> str:
    """A case-sensitive GLOB pattern equivalent to SQL LIKE ``pattern``."""
    out = []
    for ch in pattern:
        out.append({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
    return "".join(out)


def _predicate(column: str, op: str, value: Value, params: list[object]) -> str:
    if op in COMPARISON_OPS:
        params.append(value)
        return f"{column} {op} ?"
    if op in SET_OPS:
        assert isinstance(value, tuple)
        params.extend(value)
        return f"{column} {op} (" + ", ".join("?" * len(value)) + ")"
    assert isinstance(value, str)
    negation = "NOT " if op.startswith("NOT ") else ""
    if op.endswith("ILIKE"):
        params.append(value)
        return f"{negation}({column} LIKE ?)"
    params.append(like_to_glob(value))
    return f"{negation}({column} GLOB ?)"


def compile_filter(node: Node | None, params: list[object]) -> str:
    """SQL selecting the ``seq`` of every run matching ``node``; appends bound values to ``params``.

    AND/OR become INTERSECT/UNION of per-condition selects, so each condition
    is answered by an index range scan (``(key, value, seq)`` indexes).
    """
    if node is None:
        return "SELECT seq FROM runs"
    if isinstance(node, BoolOp):
        # One flat n-ary compound per chain: SQLite's parser stack grows with nesting only.
        # A nested group of the other operator becomes one predicate over runs (correlated
        # EXISTS probes), so compound selects never nest inside compound selects.
        compound = " INTERSECT " if node.op == "AND" else " UNION "
        parts: list[str] = []
        for part in operands(node):
            if isinstance(part, BoolOp):
                parts.append(f"SELECT seq FROM runs r WHERE {compile_predicate(part, params)}")
            else:
                parts.append(f"SELECT seq FROM ({compile_filter(part, params)})")
        return compound.join(parts)
    key, op = node.key, node.op
    if key.kind != "attribute":
        table = ENTITY_TABLES[key.kind]
        params.append(key.name)
        if op == "IS NULL":
            return f"SELECT seq FROM runs EXCEPT SELECT seq FROM {table} WHERE key = ?"
        if op == "IS NOT NULL":
            return f"SELECT seq FROM {table} WHERE key = ?"
        return f"SELECT seq FROM {table} WHERE key = ? AND " + _predicate(
            "value", op, node.value, params
        )
    if key.name == "experiment":
        inner = "SELECT experiment_id FROM experiments WHERE "
        if op in NULL_OPS:
            return "SELECT seq FROM runs WHERE 0" if op == "IS NULL" else "SELECT seq FROM runs"
        return f"SELECT seq FROM runs WHERE experiment_id IN ({inner}{_predicate('name', op, node.value, params)})"
    column = ATTRIBUTE_COLUMNS[key.name]
    if op in NULL_OPS:
        return f"SELECT seq FROM runs WHERE {column} {op}"
    return "SELECT seq FROM runs WHERE " + _predicate(column, op, node.value, params)


def compile_predicate(node: Node, params: list[object], alias: str = "r") -> str:
    """A boolean SQL expression over ``runs AS alias`` equivalent to ``compile_filter(node)``.

    Each metric/param/tag condition is a correlated ``EXISTS`` probe of the
    ``(seq, key)`` primary key, which is cheaper than materializing the matching
    set when a search walks runs in an index order and stops after one page.
    """
    if isinstance(node, BoolOp):
        parts = [compile_predicate(part, params, alias) for part in operands(node)]
        # AND binds tighter than OR in SQL too: only an OR group needs parentheses, so
        # the SQL nests no deeper than the filter's own parentheses (plus one).
        text = f" {node.op} ".join(parts)
        return f"({text})" if node.op == "OR" else text
    key, op = node.key, node.op
    if key.kind != "attribute":
        table = ENTITY_TABLES[key.kind]
        params.append(key.name)
        probe = f"SELECT 1 FROM {table} WHERE seq = {alias}.seq AND key = ?"
        if op == "IS NULL":
            return f"NOT EXISTS ({probe})"
        if op == "IS NOT NULL":
            return f"EXISTS ({probe})"
        return f"EXISTS ({probe} AND " + _predicate("value", op, node.value, params) + ")"
    if key.name == "experiment":
        if op in NULL_OPS:
            return "0" if op == "IS NULL" else "1"
        inner = "SELECT experiment_id FROM experiments WHERE " + _predicate(
            "name", op, node.value, params
        )
        return f"{alias}.experiment_id IN ({inner})"
    column = f"{alias}.{ATTRIBUTE_COLUMNS[key.name]}"
    if op in NULL_OPS:
        return f"{column} {op}"
    return _predicate(column, op, node.value, params)
