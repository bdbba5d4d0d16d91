"""The run search grammar: tokenizer, recursive-descent parser and canonical printer.

Grammar (keywords are case-insensitive)::

    filter     := or_expr | <empty>
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := key ("=" | "!=" | "<" | "<=" | ">" | ">=") value
                | key ["NOT"] ("LIKE" | "ILIKE") string
                | key ["NOT"] "IN" "(" value ("," value)* ")"
                | key "IS" ["NOT"] "NULL"
    key        := ("metrics" | "params" | "tags" | "attributes") "." name | attribute
    name       := plain-name | `back quoted` | "double quoted"

Attributes: ``status``, ``run_name``, ``experiment``, ``start_time``, ``end_time``,
``run_id``, ``parent_run_id``, ``user``. Metric values are numbers and compare
numerically; params, tags and the other attributes compare as strings;
``start_time``/``end_time`` take milliseconds since the epoch or an ISO 8601
string. ``AND`` binds tighter than ``OR``. A missing metric/param/tag never
matches a comparison (only ``IS NULL``). ``LIKE`` is case-sensitive, ``ILIKE``
folds ASCII case; ``%`` and ``_`` are the only wildcards (no escape character).
Error messages give 0-based character positions.

The SQLite backend's compiler (``fraud_jlab.tracking.sqlite.compiler``) turns the AST into parameterized SQL: values only ever travel as
bound parameters, never as SQL text. Chains of the same operator (``a OR b OR c``)
compile to one flat n-ary compound / predicate, so SQL nesting grows only with
parentheses, never with the number of terms.

Limits (checked while parsing, before any SQL is built; exceeding one is a
ValidationError naming the field and the allowed range):

* ``MAX_FILTER_LENGTH`` (20,000) characters in a filter;
* ``MAX_FILTER_DEPTH`` (16) nested parentheses (SQLite 3.40's parser stack overflows near 28);
* ``MAX_FILTER_COMPARISONS`` (200) comparisons;
* ``MAX_FILTER_IN_ITEMS`` (1,000) ``IN`` list items in the whole filter;
* ``MAX_FILTER_KEYS`` (32) distinct metrics./params./tags. keys;
* ``MAX_ORDER_KEYS`` (16) ``order_by`` keys (each metric/param/tag key is one join,
  far below SQLite's 64-table join limit).

Every tree walk recurses only at a change of operator or a parenthesized right
operand, so its depth is bounded by ``MAX_FILTER_DEPTH``, not by the filter length.
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


def _fail(tok: _Token, source: str, expected: str, field: str = "filter") -> ValidationError:
    if tok.kind == "end":
        msg = f"Unexpected end of {field} at position {tok.pos}: expected {expected}"
    else:
        msg = f"Unexpected token {tok.text!r} at position {tok.pos} in {field}: expected {expected}"
    return ValidationError(f"{msg} ({source!r})", field=field)


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


def _parse_key(tok: _Token, source: str, field: str) -> Key:
    if tok.kind == "key":
        prefix, _, raw = tok.text.partition(".")
        kind = _PREFIXES.get(prefix.lower())
        if kind is None:
            raise ValidationError(
                f"Unknown key prefix {prefix!r} at position {tok.pos} in {field}: expected "
                f"metrics., params., tags. or attributes. ({source!r})",
                field=field,
            )
        name = _unquote(raw) if raw[0] in '`"' else raw
        if not name:
            raise ValidationError(f"Empty key name at position {tok.pos} in {field}", field=field)
        if kind == "attribute":
            return _attribute(name, tok, source, field)
        return Key(kind, name)
    if tok.kind == "word" and tok.upper not in _KEYWORDS:
        return _attribute(tok.text, tok, source, field)
    raise _fail(
        tok,
        source,
        "a key such as metrics.<name>, params.<name>, tags.<name> or an attribute",
        field,
    )


def _attribute(name: str, tok: _Token, source: str, field: str) -> Key:
    canonical = _ATTRIBUTE_ALIASES.get(name.lower(), name.lower())
    if canonical not in ATTRIBUTES:
        raise ValidationError(
            f"Unknown attribute {name!r} at position {tok.pos} in {field}: expected one of "
            + ", ".join(ATTRIBUTES)
            + f" or a metrics./params./tags. key ({source!r})",
            field=field,
        )
    return Key("attribute", canonical)


def _time_ms(text: str, tok: _Token, source: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(tok, source, "milliseconds since the epoch or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return _check_time(int(moment.timestamp() * 1000), tok, source)
    except (OverflowError, ValueError):
        raise _time_range_error(tok, source) from None


def _time_range_error(tok: _Token, source: str) -> ValidationError:
    return ValidationError(
        f"Time {tok.text!r} at position {tok.pos} in filter is out of range: expected "
        f"milliseconds since the epoch between {MIN_TIME_MS} and {MAX_TIME_MS} "
        f"(years 1..9999) ({source[:200]!r})",
        field="filter",
    )


def _check_time(ms: int, tok: _Token, source: str) -> int:
    if not MIN_TIME_MS <= ms <= MAX_TIME_MS:
        raise _time_range_error(tok, source)
    return ms


def _limit_error(what: str, limit: int, source: str) -> ValidationError:
    return ValidationError(
        f"filter has too many {what}: allowed 0..{limit} ({source[:200]!r})", field="filter"
    )


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.comparisons = 0
        self.in_items = 0
        self.keys: set[tuple[str, str]] = set()

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect_word(self, word: str) -> None:
        tok = self.take()
        if tok.kind != "word" or tok.upper != word:
            raise _fail(tok, self.source, f"{word!r}")

    def parse(self) -> Node | None:
        if self.peek().kind == "end":
            return None
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            raise _fail(tok, self.source, "AND, OR or the end of the filter")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.peek().kind == "word" and self.peek().upper == "OR":
            self.take()
            node = BoolOp("OR", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.primary()
        while self.peek().kind == "word" and self.peek().upper == "AND":
            self.take()
            node = BoolOp("AND", node, self.primary())
        return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "punct" and tok.text == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise ValidationError(
                    f"filter nests parentheses too deeply at position {tok.pos}: allowed "
                    f"0..{MAX_FILTER_DEPTH} levels ({self.source[:200]!r})",
                    field="filter",
                )
            node = self.or_expr()
            self.depth -= 1
            close = self.take()
            if close.kind != "punct" or close.text != ")":
                raise _fail(close, self.source, "')'")
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        key = _parse_key(self.take(), self.source, "filter")
        self.comparisons += 1
        if self.comparisons > MAX_FILTER_COMPARISONS:
            raise _limit_error("comparisons", MAX_FILTER_COMPARISONS, self.source)
        if key.kind != "attribute":
            self.keys.add((key.kind, key.name))
            if len(self.keys) > MAX_FILTER_KEYS:
                raise _limit_error(
                    "distinct metrics./params./tags. keys", MAX_FILTER_KEYS, self.source
                )
        tok = self.take()
        if tok.kind == "op":
            op = {"<>": "!=", "==": "="}.get(tok.text, tok.text)
            return Comparison(key, op, self.value(key, op))
        word = tok.upper if tok.kind == "word" else ""
        negated = word == "NOT"
        if negated:
            tok = self.take()
            word = tok.upper if tok.kind == "word" else ""
            if word not in ("LIKE", "ILIKE", "IN"):
                raise _fail(tok, self.source, "LIKE, ILIKE or IN after NOT")
        prefix = "NOT " if negated else ""
        if word in ("LIKE", "ILIKE"):
            op = prefix + word
            if key.kind == "metric" or (key.kind == "attribute" and ATTRIBUTES[key.name] == "time"):
                raise _fail(
                    tok,
                    self.source,
                    f"a numeric operator: {word} does not apply to {render_key(key)}",
                )
            return Comparison(key, op, self.value(key, op))
        if word == "IN":
            return Comparison(key, prefix + "IN", self.value_list(key))
        if word == "IS":
            nxt = self.take()
            if nxt.kind == "word" and nxt.upper == "NOT":
                self.expect_word("NULL")
                return Comparison(key, "IS NOT NULL", None)
            if nxt.kind == "word" and nxt.upper == "NULL":
                return Comparison(key, "IS NULL", None)
            raise _fail(nxt, self.source, "NULL or NOT NULL")
        raise _fail(
            tok, self.source, "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)"
        )

    def value_list(self, key: Key) -> tuple[Scalar, ...]:
        tok = self.take()
        if tok.kind != "punct" or tok.text != "(":
            raise _fail(tok, self.source, "'(' starting the IN list")
        values = [self.value(key, "IN")]
        while True:
            tok = self.take()
            if tok.kind == "punct" and tok.text == ",":
                values.append(self.value(key, "IN"))
                if self.in_items + len(values) > MAX_FILTER_IN_ITEMS:
                    raise _limit_error("IN list items", MAX_FILTER_IN_ITEMS, self.source)
            elif tok.kind == "punct" and tok.text == ")":
                self.in_items += len(values)
                return tuple(values)
            else:
                raise _fail(tok, self.source, "',' or ')' in the IN list")

    def value(self, key: Key, op: str) -> Scalar:
        tok = self.take()
        kind = key.kind if key.kind != "attribute" else ATTRIBUTES[key.name]
        if kind == "metric" or kind == "time":
            if tok.kind == "number":
                if kind == "metric":
                    number = float(tok.text)
                    if number in (float("inf"), float("-inf")):
                        raise _fail(tok, self.source, "a finite number (at most about 1.8e308)")
                    return number
                try:
                    ms = int(tok.text) if tok.text.lstrip("+-").isdigit() else int(float(tok.text))
                except (OverflowError, ValueError):
                    raise _time_range_error(tok, self.source) from None
                return _check_time(ms, tok, self.source)
            if kind == "time" and tok.kind == "string":
                return _time_ms(_unquote(tok.text), tok, self.source)
            raise _fail(tok, self.source, f"a number for {render_key(key)}")
        if tok.kind != "string":
            raise _fail(tok, self.source, f"a quoted string for {render_key(key)}")
        text = _unquote(tok.text)
        if kind == "status" and "LIKE" not in op:
            status = _STATUS_ALIASES.get(text.lower())
            if status is None:
                raise _fail(tok, self.source, "a status: 'running', 'completed' or 'failed'")
            return status
        return text


def parse_filter(source: str | None) -> Node | None:
    """Parse a filter string to its AST (``None`` for an empty filter).

    Raises ValidationError naming the offending token and its character position
    (0-based), e.g. ``Unexpected token 'AND' at position 23 in filter: expected ...``.
    """
    if source is None:
        return None
    if not isinstance(source, str):
        raise ValidationError("filter must be a string", field="filter")
    if len(source) > MAX_FILTER_LENGTH:
        raise ValidationError(
            f"filter is {len(source)} characters long: allowed 0..{MAX_FILTER_LENGTH}",
            field="filter",
        )
    return _Parser(source).parse()


# --- canonical rendering ---------------------------------------------------
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


# --- order_by --------------------------------------------------------------
@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` item."""

    key: Key
    descending: bool


def parse_order_by(items: list[str] | tuple[str, ...]) -> list[OrderKey]:
    """Parse ``["metrics.auc_roc DESC", "params.x", "start_time ASC"]`` (items may also be
    comma-separated). Raises ValidationError (field ``order_by``) naming the bad token."""
    if isinstance(items, str):
        items = [items]
    keys: list[OrderKey] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError("order_by items must be strings", field="order_by")
        tokens = tokenize(item, field="order_by")
        i = 0
        while tokens[i].kind != "end":
            key = _parse_key(tokens[i], item, "order_by")
            i += 1
            descending = False
            if tokens[i].kind == "word" and tokens[i].upper in ("ASC", "DESC"):
                descending = tokens[i].upper == "DESC"
                i += 1
            if tokens[i].kind == "punct" and tokens[i].text == ",":
                i += 1
                if tokens[i].kind == "end":
                    raise _fail(tokens[i], item, "a key after ','", "order_by")
            elif tokens[i].kind != "end":
                raise _fail(tokens[i], item, "ASC, DESC, ',' or the end", "order_by")
            keys.append(OrderKey(key, descending))
            if len(keys) > MAX_ORDER_KEYS:
                raise ValidationError(
                    f"order_by has too many keys: allowed 0..{MAX_ORDER_KEYS}", field="order_by"
                )
    return keys


def render_order_by(keys: list[OrderKey]) -> str:
    """Canonical comma-separated form of parsed ``order_by`` keys."""
    return ", ".join(f"{render_key(k.key)} {'DESC' if k.descending else 'ASC'}" for k in keys)
