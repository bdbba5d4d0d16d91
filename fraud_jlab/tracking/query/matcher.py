"""In-memory run matching and ordering, for backends whose service cannot evaluate a filter.

A backend whose search cannot count matches, OR conditions, ``IN`` on keys or sort
"missing last" the way the contract does (MLflow, SageMaker Experiments) fetches the
candidate runs (narrowed server-side by what the service understands) and this
module evaluates the full filter, orders and pages them with the same semantics
as the SQLite store: a missing metric/param/tag never matches a
comparison (only ``IS NULL``), ``LIKE`` is case-sensitive and ``ILIKE`` folds
ASCII case, runs missing an order key sort last, and the default order is
newest first. When the service can sort, it also orders and pages the candidates and only
one page's worth is read (``fraud_jlab.tracking.query.window``); this module then re-checks
the filter and orders ties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fraud_jlab.tracking.contract import RunSummary
from fraud_jlab.tracking.query.filters import (
    BoolOp,
    Comparison,
    Key,
    Node,
    OrderKey,
    Scalar,
    operands,
)


@dataclass
class RunRecord:
    """The searchable view of one run (visible tags only)."""

    run_id: str
    experiment_name: str
    run_name: str
    status: str
    start_ms: int
    end_ms: int | None
    user: str
    parent_run_id: str | None
    created_ns: int
    summary: RunSummary
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _value(key: Key, run: RunRecord) -> Scalar | None:
    if key.kind == "metric":
        return run.metrics.get(key.name)
    if key.kind == "param":
        return run.params.get(key.name)
    if key.kind == "tag":
        return run.tags.get(key.name)
    attributes: dict[str, Scalar | None] = {
        "status": run.status,
        "run_name": run.run_name,
        "experiment": run.experiment_name,
        "start_time": run.start_ms,
        "end_time": run.end_ms,
        "run_id": run.run_id,
        "parent_run_id": run.parent_run_id,
        "user": run.user,
    }
    return attributes[key.name]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def like_regex(pattern: str, fold_case: bool) -> re.Pattern[str]:
    """A regex equivalent to SQL LIKE ``pattern`` (``%`` and ``_`` wildcards, no escape)."""
    if fold_case:
        pattern = pattern.translate(_ASCII_LOWER)
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL)


def _compare(op: str, left: Scalar, right: Scalar) -> bool:
    if isinstance(left, str) != isinstance(right, str):
        return False
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def matches(node: Node | None, run: RunRecord) -> bool:
    """Whether ``run`` satisfies the parsed filter ``node`` (``None`` matches every run)."""
    if node is None:
        return True
    if isinstance(node, BoolOp):
        # One loop per chain of the same operator: recursion only at an operator change,
        # which the parser bounds (MAX_FILTER_DEPTH).
        parts = (matches(part, run) for part in operands(node))
        return all(parts) if node.op == "AND" else any(parts)
    return value_matches(node, _value(node.key, run))


def value_matches(node: Comparison, value: Scalar | None) -> bool:
    """Whether ``value`` (``None`` = missing) satisfies the single comparison ``node``."""
    if node.key.kind == "attribute" and node.key.name == "experiment" and node.op.endswith("NULL"):
        return node.op == "IS NOT NULL"  # every run has an experiment
    if node.op == "IS NULL":
        return value is None
    if node.op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    if node.op in ("IN", "NOT IN"):
        assert isinstance(node.value, tuple)
        found = any(_compare("=", value, v) for v in node.value)
        return found if node.op == "IN" else not found
    if node.op.endswith("LIKE"):
        assert isinstance(node.value, str)
        if not isinstance(value, str):
            return False
        fold = node.op.endswith("ILIKE")
        text = value.translate(_ASCII_LOWER) if fold else value
        hit = like_regex(node.value, fold).fullmatch(text) is not None
        return not hit if node.op.startswith("NOT ") else hit
    assert node.value is not None and not isinstance(node.value, tuple)
    return _compare(node.op, value, node.value)


# --- server-side narrowing -------------------------------------------------
def conjuncts(node: Node | None) -> list[Node]:
    """The top-level ``AND``-ed parts of ``node``."""
    if node is None:
        return []
    if isinstance(node, BoolOp) and node.op == "AND":
        return operands(node)
    return [node]


# --- ordering and paging ---------------------------------------------------
def sort_runs(runs: list[RunRecord], keys: Sequence[OrderKey]) -> list[RunRecord]:
    """``runs`` ordered by ``keys`` (missing values last), then newest first."""
    ordered = sorted(runs, key=lambda r: (r.start_ms, r.created_ns, r.run_id), reverse=True)
    # Stable sorts from the last key to the first give a lexicographic multi-key order.
    for item in reversed(keys):
        values = [(_value(item.key, r), r) for r in ordered]
        present: list[tuple[Any, RunRecord]] = [(v, r) for v, r in values if v is not None]
        present.sort(key=lambda pair: pair[0], reverse=item.descending)
        ordered = [r for _, r in present] + [r for v, r in values if v is None]
    return ordered
