"""Translate the parts of a run search MLflow can evaluate: filter clauses and ``order_by``.

The MLflow store sends the translatable ``AND``-ed conditions to MLflow to narrow the
candidate runs and re-checks the full filter in Python (``fraud_jlab.tracking.query.matcher``);
an order MLflow can evaluate is sent as ``order_by`` so one page reads only as many runs as
it shows (``fraud_jlab.tracking.query.window``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fraud_jlab.tracking.query.filters import Comparison, Node, OrderKey, Scalar

_SAFE_TEXT = re.compile(r"[^'\"\\`]*")
# ``user`` is not here: runs logged by MLflow itself may carry it only in ``user_id``.
_ATTRIBUTE_TAGS = {"parent_run_id": "mlflow.parentRunId"}


def _literal(value: Scalar) -> str | None:
    if isinstance(value, str):
        # MLflow's parser has no portable escape for quotes; such values are filtered in Python.
        return f"'{value}'" if _SAFE_TEXT.fullmatch(value) and value.isascii() else None
    return repr(value)


def to_mlflow_clause(node: Node) -> str | None:
    """The MLflow filter clause for one comparison when MLflow returns a superset of its matches.

    ``None`` when the comparison must be evaluated in Python only (the final
    result is always re-checked in Python, so a superset is enough).
    """
    if not isinstance(node, Comparison) or "`" in node.key.name:
        return None
    key, op = node.key, node.op
    if key.kind == "metric" and op in ("=", "!=", "<", "<=", ">", ">="):
        column = f"metrics.`{key.name}`"
    elif key.kind in ("param", "tag") and op in ("=", "!=", "LIKE", "ILIKE"):
        column = f"{key.kind}s.`{key.name}`"
    elif key.kind == "attribute" and key.name in _ATTRIBUTE_TAGS and op in ("=", "LIKE"):
        column = f"tags.`{_ATTRIBUTE_TAGS[key.name]}`"
    elif key.kind == "attribute" and key.name == "run_name" and op in ("=", "LIKE"):
        column = "attributes.run_name"
    elif (
        key.kind == "attribute"
        and key.name in ("start_time", "end_time")
        and op
        in (
            "=",
            "<",
            "<=",
            ">",
            ">=",
        )
    ):
        column = f"attributes.{key.name}"
    elif key.kind == "attribute" and key.name == "run_id" and op in ("=", "IN"):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        literals = [_literal(v) for v in values if v is not None]
        if any(lit is None for lit in literals):
            return None
        return "attributes.run_id IN (" + ", ".join(str(lit) for lit in literals) + ")"
    else:
        return None
    if node.value is None or isinstance(node.value, tuple):
        return None
    literal = _literal(node.value)
    return None if literal is None else f"{column} {op} {literal}"


#: Attributes MLflow sorts the way the contract does (``status`` and ``user`` differ:
#: MLflow's status names sort in another order and the user may live in ``user_id``).
_ORDER_ATTRIBUTES = {"start_time": "start_time", "end_time": "end_time", "run_name": "run_name"}


def to_mlflow_order(keys: Sequence[OrderKey]) -> list[str] | None:
    """MLflow ``order_by`` items for ``keys``, or ``None`` when MLflow cannot sort like the contract.

    MLflow's SQL store (what ``mlflow server`` runs on) sorts runs lacking a metric, param or
    tag after the others in both directions, then by ``start_time DESC``: the contract's
    "missing last, newest first" up to ties on the start time.
    """
    items: list[str] = []
    for item in keys:
        key, direction = item.key, "DESC" if item.descending else "ASC"
        if "`" in key.name:
            return None
        if key.kind in ("metric", "param", "tag"):
            items.append(f"{key.kind}s.`{key.name}` {direction}")
        elif key.kind == "attribute" and key.name in _ORDER_ATTRIBUTES:
            items.append(f"attributes.{_ORDER_ATTRIBUTES[key.name]} {direction}")
        else:
            return None
    return items
