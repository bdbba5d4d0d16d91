"""The run filter's recursive-descent parser and the ``order_by`` parser.

Limits are checked while parsing, before any SQL is built (see
:mod:`fraud_jlab.tracking.query.filters`); errors name the token and its 0-based position.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.query.printer import render_key
from fraud_jlab.tracking.query.syntax import (
    _ATTRIBUTE_ALIASES,
    _KEYWORDS,
    _PREFIXES,
    _STATUS_ALIASES,
    ATTRIBUTES,
    MAX_FILTER_COMPARISONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_IN_ITEMS,
    MAX_FILTER_KEYS,
    MAX_FILTER_LENGTH,
    MAX_ORDER_KEYS,
    MAX_TIME_MS,
    MIN_TIME_MS,
    BoolOp,
    Comparison,
    Key,
    Node,
    OrderKey,
    Scalar,
    _Token,
    _unquote,
    tokenize,
)


def _fail(tok: _Token, source: str, expected: str, field: str = "filter") -> ValidationError:
    if tok.kind == "end":
        msg = f"Unexpected end of {field} at position {tok.pos}: expected {expected}"
    else:
        msg = f"Unexpected token {tok.text!r} at position {tok.pos} in {field}: expected {expected}"
    return ValidationError(f"{msg} ({source!r})", field=field)


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
