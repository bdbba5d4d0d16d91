"""The search grammar: parsing, precedence, errors with positions, every operator against a store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.query.filters import (
    BoolOp,
    Comparison,
    Key,
    parse_filter,
    parse_order_by,
    quote,
    render_filter,
)
from fraud_jlab.tracking.sqlite import search as sqlite_search
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
ACC = Comparison(Key("metric", "accuracy"), ">=", 0.95)
DEPTH = Comparison(Key("param", "max_depth"), "=", "7")
STAGE = Comparison(Key("tag", "stage"), "!=", "dev")


def test_mlflow_style_conjunction() -> None:
    node = parse_filter(
        "metrics.accuracy >= 0.95 and params.max_depth = '7' and tags.stage != 'dev'"
    )
    assert node == BoolOp("AND", BoolOp("AND", ACC, DEPTH), STAGE)


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter(
        "metrics.accuracy >= 0.95 OR params.max_depth = '7' AND tags.stage != 'dev'"
    )
    assert node == BoolOp("OR", ACC, BoolOp("AND", DEPTH, STAGE))


def test_parentheses_override_precedence() -> None:
    node = parse_filter(
        "(metrics.accuracy >= 0.95 or params.max_depth = '7') and tags.stage != 'dev'"
    )
    assert node == BoolOp("AND", BoolOp("OR", ACC, DEPTH), STAGE)
    assert (
        render_filter(node)
        == "(metrics.accuracy >= 0.95 OR params.max_depth = '7') AND tags.stage != 'dev'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.`f1 score` > 0.5", Comparison(Key("metric", "f1 score"), ">", 0.5)),
        ('metrics."f1 score" <= 1', Comparison(Key("metric", "f1 score"), "<=", 1.0)),
        ("metric.a < -1e-3", Comparison(Key("metric", "a"), "<", -0.001)),
        ("params.x <> 'a'", Comparison(Key("param", "x"), "!=", "a")),
        ("tags.`it``s` = 'b'", Comparison(Key("tag", "it`s"), "=", "b")),
        ("run_name LIKE 'xgb-%'", Comparison(Key("attribute", "run_name"), "LIKE", "xgb-%")),
        (
            "attributes.run_name ilike 'XGB%'",
            Comparison(Key("attribute", "run_name"), "ILIKE", "XGB%"),
        ),
        ("tags.t NOT LIKE 'a_'", Comparison(Key("tag", "t"), "NOT LIKE", "a_")),
        (
            "status IN ('FINISHED', 'failed')",
            Comparison(Key("attribute", "status"), "IN", ("completed", "failed")),
        ),
        ("metrics.m NOT IN (1, 2.5)", Comparison(Key("metric", "m"), "NOT IN", (1.0, 2.5))),
        ("parent_run_id IS NULL", Comparison(Key("attribute", "parent_run_id"), "IS NULL", None)),
        ("metrics.m is not null", Comparison(Key("metric", "m"), "IS NOT NULL", None)),
        (
            "start_time >= '2026-03-01T00:00:00Z'",
            Comparison(Key("attribute", "start_time"), ">=", 1772323200000),
        ),
        (
            "start_time < 1772323200000",
            Comparison(Key("attribute", "start_time"), "<", 1772323200000),
        ),
        ("experiment_name = 'fraud'", Comparison(Key("attribute", "experiment"), "=", "fraud")),
        ("params.x = 'it''s'", Comparison(Key("param", "x"), "=", "it's")),
    ],
)
def test_every_operator_parses_and_round_trips(text: str, expected: Comparison) -> None:
    node = parse_filter(text)
    assert node == expected
    assert parse_filter(render_filter(node)) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("metrics.accuracy >= 0.95 params.x = '1'", "Unexpected token 'params.x' at position 25"),
        (
            "metrics.accuracy AND 1",
            "Unexpected token 'AND' at position 17 in filter: expected a comparison operator",
        ),
        ("(metrics.a > 1", "Unexpected end of filter at position 14: expected ')'"),
        (
            "params.max_depth = 7",
            "Unexpected token '7' at position 19 in filter: expected a quoted string",
        ),
        (
            "metrics.a = 'high'",
            "Unexpected token \"'high'\" at position 12 in filter: expected a number",
        ),
        ("metrics.a LIKE '1%'", "Unexpected token 'LIKE' at position 10"),
        ("params.x = 'open", "unterminated quote at position 11"),
        ("foo.bar = '1'", "Unknown key prefix 'foo' at position 0"),
        ("colour = 'red'", "Unknown attribute 'colour' at position 0"),
        ("status = 'done'", "expected a status"),
        ("metrics.a IN ()", "Unexpected token ')' at position 14"),
        ("metrics.a > 1 OR", "Unexpected end of filter at position 16"),
        ("metrics.a ; 1", "unexpected character ';' at position 10"),
        ("start_time > 'yesterday'", "milliseconds since the epoch or an ISO 8601 time"),
    ],
)
def test_errors_name_token_and_position(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_filter(text)
    assert fragment in str(err.value)
    assert err.value.field == "filter"


def test_order_by_parsing() -> None:
    keys = parse_order_by(["metrics.auc_roc DESC, params.x", "start_time asc"])
    assert [(k.key, k.descending) for k in keys] == [
        (Key("metric", "auc_roc"), True),
        (Key("param", "x"), False),
        (Key("attribute", "start_time"), False),
    ]
    with pytest.raises(ValidationError) as err:
        parse_order_by(["metrics.auc_roc DOWN"])
    assert err.value.field == "order_by" and "'DOWN' at position 16" in str(err.value)


@pytest.fixture(scope="module", params=["scan", "materialize"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteTrackerStore]:
    """A store with four runs (read-only for the tests), queried with each page plan forced."""
    tracker = SqliteTrackerStore(tmp_path_factory.mktemp("filters") / "t.db")
    specs = [
        ("xgb-a", {"depth": "10", "algo": "XGBoost"}, {"m": 10.0, "auc": 0.9}, {"stage": "dev"}),
        ("xgb-b", {"depth": "9", "algo": "xgboost"}, {"m": 9.0}, {"stage": "prod"}),
        ("lgbm", {"depth": "7", "algo": "lightgbm"}, {"m": 1.5, "auc": 0.7}, {}),
        ("rf_1", {"algo": "it's"}, {}, {"stage": "dev"}),
    ]
    parent = None
    for i, (name, params, metrics, tags) in enumerate(specs):
        run_id = tracker.create_run(
            "fraud" if i < 2 else "other",
            name,
            user="u",
            start_time=T0 + timedelta(hours=i),
            tags=tags,
            parent_run_id=parent,
        )
        parent = parent or run_id
        tracker.log_params(run_id, params)
        tracker.log_metrics(run_id, metrics)
        if i < 3:
            tracker.end_run(
                run_id, "completed" if i else "failed", end_time=T0 + timedelta(hours=i, minutes=5)
            )
    sqlite_search.PLAN = request.param
    yield tracker
    sqlite_search.PLAN = None
    tracker.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.m = 9", {"xgb-b"}),
        ("metrics.m != 9", {"xgb-a", "lgbm"}),
        ("metrics.m > 9", {"xgb-a"}),  # numeric: 10 > 9
        ("metrics.m >= 9", {"xgb-a", "xgb-b"}),
        ("metrics.m < 9", {"lgbm"}),
        ("metrics.m <= 1.5", {"lgbm"}),
        ("params.depth > '9'", set()),  # strings: '10' < '7' < '9'
        ("params.depth < '8'", {"xgb-a", "lgbm"}),
        ("params.algo LIKE 'xgb%'", {"xgb-b"}),  # LIKE is case-sensitive
        ("params.algo ILIKE 'xgb%'", {"xgb-a", "xgb-b"}),
        ("params.algo NOT ILIKE 'xgb%'", {"lgbm", "rf_1"}),
        ("run_name LIKE 'rf_%'", {"rf_1"}),
        ("params.algo = 'it''s'", {"rf_1"}),
        ("tags.stage IN ('dev', 'qa')", {"xgb-a", "rf_1"}),
        ("tags.stage NOT IN ('dev')", {"xgb-b"}),
        ("metrics.auc IS NULL", {"xgb-b", "rf_1"}),
        ("metrics.auc IS NOT NULL", {"xgb-a", "lgbm"}),
        ("tags.stage IS NULL", {"lgbm"}),
        ("status = 'running'", {"rf_1"}),
        ("status != 'completed'", {"xgb-a", "rf_1"}),
        ("end_time IS NULL", {"rf_1"}),
        ("parent_run_id IS NOT NULL", {"xgb-b", "lgbm", "rf_1"}),
        ("experiment = 'fraud'", {"xgb-a", "xgb-b"}),
        ("experiment ILIKE 'OTH%'", {"lgbm", "rf_1"}),
        ("user = 'u'", {"xgb-a", "xgb-b", "lgbm", "rf_1"}),
        ("start_time >= '2026-03-01T02:00:00+00:00'", {"lgbm", "rf_1"}),
        ("metrics.m > 5 or tags.stage = 'dev'", {"xgb-a", "xgb-b", "rf_1"}),
        ("metrics.m > 5 and (tags.stage = 'dev' or params.depth = '9')", {"xgb-a", "xgb-b"}),
        ("(metrics.m > 5 and tags.stage = 'dev') or params.depth = '7'", {"xgb-a", "lgbm"}),
    ],
)
def test_operator_semantics(store: SqliteTrackerStore, text: str, expected: set[str]) -> None:
    page = store.search_runs(text)
    assert {r.run_name for r in page.runs} == expected
    assert page.total == len(expected)


@pytest.mark.parametrize(
    "attack",
    [
        "params.algo = '1'' OR 1=1 --'",
        "params.algo = 'x''); DROP TABLE runs; --'",
        "tags.`stage = '' OR 1=1 --` = 'dev'",
        "run_name IN ('a'') OR (''1''=''1')",
    ],
)
def test_injection_attempts_match_nothing(store: SqliteTrackerStore, attack: str) -> None:
    page = store.search_runs(attack)
    assert page.runs == [] and page.total == 0
    assert store.search_runs().total == 4  # the tables are intact


def test_quote_builds_safe_literals() -> None:
    node = parse_filter(f"tags.job = {quote(chr(39) + ' OR 1=1 --')}")
    assert node == Comparison(Key("tag", "job"), "=", "' OR 1=1 --")
