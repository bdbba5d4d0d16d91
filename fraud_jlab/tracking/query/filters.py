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

The vocabulary (AST, operators, limits, tokenizer) is ``query.syntax``, the parser
``query.parser``, the canonical printer ``query.printer``; this module re-exports them.

Every tree walk recurses only at a change of operator or a parenthesized right
operand, so its depth is bounded by ``MAX_FILTER_DEPTH``, not by the filter length.
"""

from __future__ import annotations

from fraud_jlab.tracking.query.parser import parse_filter, parse_order_by
from fraud_jlab.tracking.query.printer import quote, render_filter, render_key, render_order_by
from fraud_jlab.tracking.query.syntax import (
    ATTRIBUTES,
    COMPARISON_OPS,
    MAX_FILTER_COMPARISONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_IN_ITEMS,
    MAX_FILTER_KEYS,
    MAX_FILTER_LENGTH,
    MAX_ORDER_KEYS,
    MAX_TIME_MS,
    MIN_TIME_MS,
    NULL_OPS,
    PLAIN_NAME,
    SET_OPS,
    STRING_OPS,
    BoolOp,
    Comparison,
    Key,
    KeyKind,
    Node,
    OrderKey,
    Scalar,
    Value,
    operands,
    tokenize,
)

__all__ = [
    "ATTRIBUTES",
    "COMPARISON_OPS",
    "MAX_FILTER_COMPARISONS",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_IN_ITEMS",
    "MAX_FILTER_KEYS",
    "MAX_FILTER_LENGTH",
    "MAX_ORDER_KEYS",
    "MAX_TIME_MS",
    "MIN_TIME_MS",
    "NULL_OPS",
    "PLAIN_NAME",
    "SET_OPS",
    "STRING_OPS",
    "BoolOp",
    "Comparison",
    "Key",
    "KeyKind",
    "Node",
    "OrderKey",
    "Scalar",
    "Value",
    "operands",
    "parse_filter",
    "parse_order_by",
    "quote",
    "render_filter",
    "render_key",
    "render_order_by",
    "tokenize",
]
