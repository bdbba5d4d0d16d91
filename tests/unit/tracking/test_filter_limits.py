"""Hostile search input: generated worst cases at and beyond every filter / order_by limit.

At a limit the real SQLite store (both page plans) and the MLflow matcher answer
correctly; one past it, parsing raises ValidationError before any SQL is built.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.query.filters import (
    MAX_FILTER_COMPARISONS,
    MAX_FILTER_DEPTH,
    MAX_FILTER_IN_ITEMS,
    MAX_FILTER_KEYS,
    MAX_FILTER_LENGTH,
    MAX_ORDER_KEYS,
    BoolOp,
    Comparison,
    Key,
    Node,
    parse_filter,
    parse_order_by,
    render_filter,
)
from fraud_jlab.tracking.query.matcher import RunRecord, matches
from fraud_jlab.tracking.query.paging import decode_token, fingerprint
from fraud_jlab.tracking.sqlite import search as sqlite_search
from fraud_jlab.tracking.sqlite.compiler import compile_filter, compile_predicate
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
N_RUNS = 6


@pytest.fixture(scope="module", params=["scan", "materialize"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteTrackerStore]:
    """Runs r0..r5 with metric m = i and param p = 'v<i>'; each page plan forced in turn."""
    tracker = SqliteTrackerStore(tmp_path_factory.mktemp("limits") / "t.db")
    for i in range(N_RUNS):
        run_id = tracker.create_run("e", f"r{i}", user="u", start_time=T0 + timedelta(hours=i))
        tracker.log_metrics(run_id, {"m": float(i)})
        tracker.log_params(run_id, {"p": f"v{i}"})
    sqlite_search.PLAN = request.param
    yield tracker
    sqlite_search.PLAN = None
    tracker.close()


def _names(store: SqliteTrackerStore, text: str, order_by: tuple[str, ...] = ()) -> set[str]:
    page = store.search_runs(text, order_by=order_by, max_results=1000)
    assert page.total == len(page.runs)
    return {run.run_name for run in page.runs}


def _nested(depth: int) -> str:
    """``depth`` parentheses, alternating AND / OR at every level; matches r1 only."""
    text = "metrics.m = 1"
    for level in range(depth):
        text = f"metrics.m >= 0 AND ({text})" if level % 2 == 0 else f"metrics.m = 99 OR ({text})"
    return text


def _raises(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_filter(text)
    assert err.value.field == "filter"
    assert fragment in str(err.value)


def test_or_chain_at_the_comparison_limit(store: SqliteTrackerStore) -> None:
    terms = [f"metrics.m = {i % N_RUNS + 100}" for i in range(MAX_FILTER_COMPARISONS - 2)]
    text = " or ".join([*terms, "metrics.m = 2", "params.p = 'v4'"])
    assert _names(store, text) == {"r2", "r4"}
    assert _names(store, " or ".join(["metrics.m = 1"] * 15)) == {"r1"}  # was a 500 at 15
    _raises(text + " or metrics.m = 3", f"0..{MAX_FILTER_COMPARISONS}")


def test_and_chain_and_mixed_chain_at_the_limit(store: SqliteTrackerStore) -> None:
    anded = " and ".join(["metrics.m >= 3"] * MAX_FILTER_COMPARISONS)
    assert _names(store, anded) == {"r3", "r4", "r5"}
    # a AND b OR c AND d OR ...: an OR of 100 ANDs.
    mixed = " or ".join(f"metrics.m > {i % 3} and metrics.m < {i % 3 + 2}" for i in range(100))
    assert _names(store, mixed) == {"r1", "r2", "r3"}


def test_nesting_at_the_depth_limit(store: SqliteTrackerStore) -> None:
    assert _names(store, _nested(MAX_FILTER_DEPTH)) == {"r1"}
    _raises(_nested(MAX_FILTER_DEPTH + 1), f"0..{MAX_FILTER_DEPTH} levels")


def test_ten_thousand_parentheses_are_rejected_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the parser stops at MAX_FILTER_DEPTH, long before this
    try:
        _raises("(" * 10_000 + "metrics.m = 1" + ")" * 10_000, f"0..{MAX_FILTER_LENGTH}")
        _raises("(" * 5_000 + "metrics.m = 1" + ")" * 5_000, f"0..{MAX_FILTER_DEPTH} levels")
    finally:
        sys.setrecursionlimit(limit)


def test_in_items_at_the_limit(store: SqliteTrackerStore) -> None:
    items = [*range(1000, 1000 + MAX_FILTER_IN_ITEMS - 2), 1, 5]
    text = "metrics.m IN (" + ", ".join(map(str, items)) + ")"
    assert _names(store, text) == {"r1", "r5"}
    _raises(text + " or metrics.m IN (3, 4)", f"0..{MAX_FILTER_IN_ITEMS}")


def test_distinct_keys_at_the_limit(store: SqliteTrackerStore) -> None:
    terms = [f"metrics.k{i} = 1" for i in range(MAX_FILTER_KEYS - 2)]
    text = " or ".join([*terms, "metrics.m = 0", "params.p = 'v3'"])
    assert _names(store, text) == {"r0", "r3"}
    assert _names(
        store, " and ".join([*(f"tags.t{i} IS NULL" for i in range(31)), "metrics.m = 2"])
    ) == {"r2"}
    _raises(text + " or tags.extra = 'x'", f"0..{MAX_FILTER_KEYS}")


def test_order_keys_at_the_limit(store: SqliteTrackerStore) -> None:
    order = ["metrics.m DESC", *(f"metrics.missing{i}" for i in range(MAX_ORDER_KEYS - 1))]
    page = store.search_runs("metrics.m >= 0", order_by=order, max_results=4)
    assert [r.run_name for r in page.runs] == ["r5", "r4", "r3", "r2"]
    for n in (MAX_ORDER_KEYS + 1, 32, 64):
        with pytest.raises(ValidationError) as err:
            store.search_runs(order_by=[f"params.p{i}" for i in range(n)])
        assert err.value.field == "order_by"
        assert f"0..{MAX_ORDER_KEYS}" in str(err.value)
    with pytest.raises(ValidationError):
        parse_order_by([", ".join(f"tags.t{i}" for i in range(MAX_ORDER_KEYS + 1))])


def test_filter_length_limit() -> None:
    text = "run_name = '" + "x" * (MAX_FILTER_LENGTH - 13) + "'"
    assert len(text) == MAX_FILTER_LENGTH
    assert parse_filter(text) is not None
    _raises(text + " ", f"0..{MAX_FILTER_LENGTH}")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("start_time > 1e400", "out of range"),
        ("start_time > 1e20", "out of range"),
        ("end_time < -1e20", "out of range"),
        ("start_time > '9999-12-31T23:59:59-05:00'", "out of range"),
        ("metrics.m > 1e400", "finite"),
        ("metrics.m < -1e999", "finite"),
    ],
)
def test_values_out_of_range(text: str, fragment: str) -> None:
    _raises(text, fragment)


def test_time_range_bounds_are_accepted(store: SqliteTrackerStore) -> None:
    assert len(_names(store, "start_time > '0001-01-01T00:00:00+00:00'")) == N_RUNS
    assert _names(store, "start_time > '9999-12-31T23:59:59+00:00'") == set()


def test_nested_page_token_is_a_validation_error() -> None:
    for raw in ("[" * 100_000 + "]" * 100_000, '{"o": ' + "[" * 50 + "]" * 50 + ', "f": 1}'):
        token = base64.urlsafe_b64encode(raw.encode()).decode()
        with pytest.raises(ValidationError) as err:
            decode_token(token, "x")
        assert err.value.field == "page_token"


def _chain(op: str, n: int) -> Node:
    node: Node = Comparison(Key("metric", "m"), "=", 0.0)
    for i in range(1, n):
        node = BoolOp(op, node, Comparison(Key("metric", "m"), "=", float(i)))  # type: ignore[arg-type]
    return node


def test_tree_walks_do_not_recurse_per_term() -> None:
    """A 3,000-term chain built in code renders, fingerprints, compiles and matches."""
    node = _chain("OR", 3000)
    assert render_filter(node).count(" OR ") == 2999
    assert len(fingerprint(node, [])) == 16
    params: list[object] = []
    assert compile_filter(node, params).count(" UNION ") == 2999
    assert compile_predicate(node, []).count(" OR ") == 2999
    record = RunRecord(
        run_id="a",
        experiment_name="e",
        run_name="r",
        status="completed",
        start_ms=0,
        end_ms=None,
        user="u",
        parent_run_id=None,
        created_ns=0,
        summary=None,  # type: ignore[arg-type]  # not read by matches()
        metrics={"m": 2999.0},
    )
    assert matches(node, record)
    assert not matches(_chain("AND", 3000), record)


# --- property: random trees within the limits round-trip and compile -------------
_KEYS = st.sampled_from(
    [
        Key("metric", "auc"),
        Key("param", "max depth"),
        Key("tag", "it`s"),
        Key("attribute", "run_name"),
    ]
)


@st.composite
def _comparisons(draw: st.DrawFn) -> Comparison:
    key = draw(_KEYS)
    if key.kind == "metric":
        number = st.floats(allow_nan=False, allow_infinity=False, width=32)
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL"]))
        if op in ("IN", "NOT IN"):
            return Comparison(key, op, tuple(draw(st.lists(number, min_size=1, max_size=4))))
        return Comparison(key, op, None if op == "IS NULL" else draw(number))
    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
    op = draw(st.sampled_from(["=", "!=", "<", "LIKE", "NOT ILIKE", "IN", "IS NOT NULL"]))
    if op == "IN":
        return Comparison(key, op, tuple(draw(st.lists(text, min_size=1, max_size=4))))
    return Comparison(key, op, None if op == "IS NOT NULL" else draw(text))


_TREES = st.recursive(
    _comparisons(),
    lambda children: st.builds(BoolOp, st.sampled_from(["AND", "OR"]), children, children),
    max_leaves=40,
)


@settings(max_examples=100, deadline=None)
@given(node=_TREES)
def test_random_trees_round_trip_and_compile(store: SqliteTrackerStore, node: Node) -> None:
    text = render_filter(node)
    try:
        parsed = parse_filter(text)
    except ValidationError as err:  # only a drawn tree nested past the depth limit may fail
        assert f"0..{MAX_FILTER_DEPTH} levels" in str(err)
        return
    assert parsed == node
    params: list[object] = []
    sql = compile_filter(node, params)
    assert sql.count("?") == len(params)
    predicate_params: list[object] = []
    assert compile_predicate(node, predicate_params).count("?") == len(predicate_params)
    page = store.search_runs(text, order_by=["metrics.auc DESC", "tags.`it``s`"])
    assert page.total <= N_RUNS
