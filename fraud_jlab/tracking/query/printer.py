"""The canonical text of a parsed filter or order (``parse_filter(render_filter(n)) == n``)."""

from __future__ import annotations

from fraud_jlab.tracking.query.syntax import (
    _CANONICAL_PREFIX,
    NULL_OPS,
    PLAIN_NAME,
    SET_OPS,
    BoolOp,
    Key,
    Node,
    OrderKey,
    Scalar,
)


def render_key(key: Key) -> str:
    """``metrics.auc_roc``, ``params.`max depth``` or an attribute name."""
    if key.kind == "attribute":
        return key.name
    name = key.name if PLAIN_NAME.fullmatch(key.name) else "`" + key.name.replace("`", "``") + "`"
    return f"{_CANONICAL_PREFIX[key.kind]}.{name}"


def quote(value: str) -> str:
    """``value`` as a filter string literal: ``quote("it's")`` -> ``'it''s'``.

    Use it when building a filter from user data, e.g.
    ``f"tags.job = {quote(name)}"``.
    """
    return "'" + value.replace("'", "''") + "'"


def _render_scalar(value: Scalar) -> str:
    if isinstance(value, str):
        return quote(value)
    return repr(value)


def render_filter(node: Node | None) -> str:
    """The canonical filter string for ``node``; ``parse_filter`` of it gives ``node`` back.

    The left-associative spine of one operator (what the parser builds from
    ``a OR b OR c``) is walked in a loop, so the recursion depth is the nesting of
    parentheses and operator changes, not the number of terms.
    """
    if node is None:
        return ""
    if isinstance(node, BoolOp):
        rights: list[Node] = []
        left: Node = node
        while isinstance(left, BoolOp) and left.op == node.op:
            rights.append(left.right)
            left = left.left
        # Parsing is left-associative with AND above OR: parenthesize only where that differs.
        text = render_filter(left)
        if node.op == "AND" and isinstance(left, BoolOp):
            text = f"({text})"
        parts = [text]
        for right in reversed(rights):
            text = render_filter(right)
            if isinstance(right, BoolOp) and (node.op == "AND" or right.op == "OR"):
                text = f"({text})"
            parts.append(text)
        return f" {node.op} ".join(parts)
    key = render_key(node.key)
    if node.op in NULL_OPS:
        return f"{key} {node.op}"
    if node.op in SET_OPS:
        assert isinstance(node.value, tuple)
        return f"{key} {node.op} (" + ", ".join(_render_scalar(v) for v in node.value) + ")"
    assert node.value is not None and not isinstance(node.value, tuple)
    return f"{key} {node.op} {_render_scalar(node.value)}"


def render_order_by(keys: list[OrderKey]) -> str:
    """Canonical comma-separated form of parsed ``order_by`` keys."""
    return ", ".join(f"{render_key(k.key)} {'DESC' if k.descending else 'ASC'}" for k in keys)
