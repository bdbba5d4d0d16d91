"""Translate the parts of a run filter MLflow can evaluate into an MLflow filter clause.

The MLflow store sends the translatable ``AND``-ed conditions to MLflow to narrow the
candidate runs and evaluates the full filter in Python (``fraud_jlab.tracking.query.matcher``).
"""

from __future__ import annotations

import re

from fraud_jlab.tracking.query.filters import Comparison, Node, Scalar

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
