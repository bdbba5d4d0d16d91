"""The run filter's vocabulary: its AST, operators, limits and tokenizer.

See :mod:`fraud_jlab.tracking.query.filters` for the grammar; the parser is
:mod:`~fraud_jlab.tracking.query.parser`, the canonical printer
:mod:`~fraud_jlab.tracking.query.printer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from fraud_jlab.errors import ValidationError

KeyKind = Literal["metric", "param", "tag", "attribute"]
Scalar = float | int | str
Value = Scalar | tuple[Scalar, ...] | None

COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE")
SET_OPS = ("IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")

_PREFIXES: dict[str, KeyKind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_CANONICAL_PREFIX = {"metric": "metrics", "param": "params", "tag": "tags"}
#: attribute -> value type ("str", "time" or "status")
ATTRIBUTES: dict[str, str] = {
    "status": "status",
    "run_name": "str",
    "experiment": "str",
    "start_time": "time",
    "end_time": "time",
    "run_id": "str",
    "parent_run_id": "str",
    "user": "str",
}
_ATTRIBUTE_ALIASES = {"experiment_name": "experiment", "name": "run_name", "runname": "run_name"}
_STATUS_ALIASES = {
    "running": "running",
    "completed": "completed",
    "finished": "completed",
    "failed": "failed",
}
#: Most characters in a filter string.
MAX_FILTER_LENGTH = 20_000
#: Deepest nesting of parentheses in a filter.
MAX_FILTER_DEPTH = 16
#: Most comparisons (``key op value``) in a filter.
MAX_FILTER_COMPARISONS = 200
#: Most ``IN`` / ``NOT IN`` list items in a whole filter.
MAX_FILTER_IN_ITEMS = 1000
#: Most distinct metrics./params./tags. keys in a filter.
MAX_FILTER_KEYS = 32
#: Most ``order_by`` keys.
MAX_ORDER_KEYS = 16
#: Range of ``start_time``/``end_time`` values (ms since the epoch): years 1..9999.
MIN_TIME_MS = int(datetime(1, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
MAX_TIME_MS = int(
    datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc).timestamp() * 1000
)

_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC"}
PLAIN_NAME = re.compile(r"[A-Za-z0-9_\-./:]+")

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<key>[A-Za-z_][A-Za-z0-9_]*\.(?:`(?:[^`]|``)*`|"(?:[^"]|"")*"|[A-Za-z0-9_\-./:]+))
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Key:
    """A metric, param, tag or attribute name."""

    kind: KeyKind
    name: str


@dataclass(frozen=True)
class Comparison:
    """``key op value``; ``value`` is a tuple for IN, ``None`` for IS [NOT] NULL."""

    key: Key
    op: str
    value: Value


@dataclass(frozen=True)
class BoolOp:
    """``left AND right`` or ``left OR right``."""

    op: Literal["AND", "OR"]
    left: Node
    right: Node


Node = Comparison | BoolOp


@dataclass(frozen=True)
class _Token:
    kind: str  # key, number, string, word, op, punct, end
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` item."""

    key: Key
    descending: bool


def tokenize(source: str, field: str = "filter") -> list[_Token]:
    """Split ``source`` into tokens; raises ValidationError at the first bad character."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None or match.lastgroup is None:
            ch = source[pos]
            what = "an unterminated quote" if ch in "'\"`" else f"an unexpected character {ch!r}"
            raise ValidationError(
                f"Found {what} at position {pos} in {field} ({source!r})", field=field
            )
        if match.lastgroup != "ws":
            tokens.append(_Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


def _unquote(text: str) -> str:
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def operands(node: BoolOp) -> list[Node]:
    """The operands of the chain of ``node.op`` rooted at ``node``, in order, found without
    recursion: ``(a OR b) OR (c OR d)`` -> ``[a, b, c, d]`` (AND and OR are associative)."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, BoolOp) and item.op == node.op:
            stack.append(item.right)
            stack.append(item.left)
        else:
            out.append(item)
    return out
