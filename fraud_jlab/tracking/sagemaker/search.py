"""Translate a run filter into a SageMaker ``SearchExpression`` where the service can evaluate it.

The Search API ANDs a list of ``Filters`` (``Equals``, ``NotEquals``, ``GreaterThan``, ...);
it has no ``LIKE``, and our ``OR``/parentheses are not pushed down. :func:`push_down` sends
the top-level ``AND``-ed comparisons it can express and reports the rest, which the store
evaluates client-side over bounded pages of candidates (the full filter is always
re-checked, so the service only has to return a superset). An order by one metric is sent
as ``SortBy``/``SortOrder`` so a page reads only as many trial components as it shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraud_jlab.tracking.query.filters import Comparison, Node, OrderKey, render_filter
from fraud_jlab.tracking.query.matcher import conjuncts

_NUMERIC_OPS = {
    "=": "Equals",
    "!=": "NotEquals",
    ">": "GreaterThan",
    ">=": "GreaterThanOrEqualTo",
    "<": "LessThan",
    "<=": "LessThanOrEqualTo",
}
_STATUS = {"running": "InProgress", "completed": "Completed", "failed": "Failed"}


def _filter(node: Comparison) -> dict[str, str] | None:
    key, op, value = node.key, node.op, node.value
    if key.kind == "metric" and op in _NUMERIC_OPS and isinstance(value, float):
        return {"Name": f"Metrics.{key.name}", "Operator": _NUMERIC_OPS[op], "Value": repr(value)}
    if key.kind == "tag" and op == "=" and isinstance(value, str):
        return {"Name": f"Tags.{key.name}", "Operator": "Equals", "Value": value}
    if key.kind == "param" and op == "=" and isinstance(value, str):
        return {"Name": f"Parameters.{key.name}", "Operator": "Equals", "Value": value}
    if key.kind == "attribute" and op == "=" and isinstance(value, str):
        if key.name == "experiment":
            return {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": value}
        if key.name == "run_id":
            return {"Name": "TrialComponentName", "Operator": "Equals", "Value": value}
        if key.name == "status":
            return {"Name": "Status.PrimaryStatus", "Operator": "Equals", "Value": _STATUS[value]}
    return None


def push_down(node: Node | None) -> tuple[list[dict[str, str]], list[Node]]:
    """(service ``Filters`` for the pushable top-level conjuncts, the parts left client-side)."""
    filters: list[dict[str, str]] = []
    rest: list[Node] = []
    for part in conjuncts(node):
        pushed = _filter(part) if isinstance(part, Comparison) else None
        if pushed is None:
            rest.append(part)
        else:
            filters.append(pushed)
    return filters[:20], rest  # the service takes at most 20 filters


def describe_rest(rest: list[Node]) -> str | None:
    """The client-side part of a filter as filter text, or ``None`` when nothing is left."""
    if not rest:
        return None
    return " AND ".join(
        f"({render_filter(p)})" if " OR " in render_filter(p) else render_filter(p) for p in rest
    )


def sort_metric(keys: Sequence[OrderKey]) -> OrderKey | None:
    """The order key when the order is one metric (what ``SortBy`` ``Metrics.<name>.Last`` sorts)."""
    if len(keys) == 1 and keys[0].key.kind == "metric":
        return keys[0]
    return None


def metric_sort_by(name: str) -> str:
    """``SortBy`` for the latest value of metric ``name``."""
    return f"Metrics.{name}.Last"


def with_presence(filters: list[dict[str, str]], name: str, present: bool) -> list[dict[str, str]]:
    """``filters`` plus "metric ``name`` exists" (or not), within the service's 20 filters.

    The service does not document where trial components lacking the ``SortBy`` metric go,
    so the store asks for the runs having it (sorted by it) and for those lacking it
    separately: "missing last" then holds whatever the service does with missing values.
    Dropped pushed filters are safe: the full filter is re-checked client-side.
    """
    presence = {"Name": f"Metrics.{name}", "Operator": "Exists" if present else "NotExists"}
    return [*filters[:19], presence]
