"""Every page plan of the SQLite search returns exactly the reference page.

The sort-index walk (filter probed per run), the filter-first set and the exact ``ORDER BY``
must agree with the in-memory matcher and ordering (``fraud_jlab.tracking.query.matcher``)
on generated stores full of ties (few distinct metric values, equal start times), runs
missing the order key, and filters on metrics, params, tags and attributes, paged through
with generated page sizes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraud_jlab.tracking.query.filters import parse_filter, parse_order_by
from fraud_jlab.tracking.query.matcher import RunRecord, matches, sort_runs
from fraud_jlab.tracking.sqlite import page_query
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore
from tests.unit.tracking.sqlite_runs import records, seeded_store

FILTERS = (
    "",
    "metrics.accuracy >= 0.5",
    "metrics.accuracy > 0.9",
    "params.max_depth = '7'",
    "params.max_depth IN ('3', '10') AND metrics.recall < 0.75",
    "tags.stage = 'prod' OR metrics.auc_roc = 0.25",
    "status = 'completed' AND metrics.accuracy >= 0.25",
    "run_name LIKE '%-a' AND params.algorithm IS NOT NULL",
    "metrics.auc_roc IS NULL",
    "tags.stage != 'dev' AND (user = 'ann' OR experiment = 'fraud-b')",
    "metrics.accuracy < 0",
)
ORDERS = (
    ["metrics.auc_roc DESC"],
    ["metrics.auc_roc ASC"],
    ["metrics.accuracy DESC"],
    ["params.max_depth"],
    ["tags.stage DESC"],
    ["metrics.recall DESC", "params.max_depth ASC"],
    [],
    ["start_time ASC"],
)


@pytest.fixture(scope="module", params=[1, 2])
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SqliteTrackerStore, list[RunRecord]]]:
    store = seeded_store(tmp_path_factory.mktemp("plans") / "t.db", seed=request.param, n=160)
    yield store, records(store)
    store.close()


def pages(
    store: SqliteTrackerStore, filter_string: str, order: list[str], sizes: list[int]
) -> list[list[str]]:
    out: list[list[str]] = []
    token: str | None = None
    i = 0
    while True:
        page = store.search_runs(filter_string, order, sizes[i % len(sizes)], token)
        out.append([run.run_id for run in page.runs])
        token = page.next_page_token
        i += 1
        if token is None:
            return out


def reference(
    runs: list[RunRecord], filter_string: str, order: list[str], sizes: list[int]
) -> list[list[str]]:
    node = parse_filter(filter_string)
    ordered = [
        r.run_id for r in sort_runs([r for r in runs if matches(node, r)], parse_order_by(order))
    ]
    out: list[list[str]] = []
    start, i = 0, 0
    while True:
        size = sizes[i % len(sizes)]
        out.append(ordered[start : start + size])
        start += size
        i += 1
        if start >= len(ordered):
            return out


@pytest.mark.parametrize("plan", ["probe", "set", "exact", None])
@pytest.mark.parametrize("filter_string", FILTERS)
def test_every_plan_pages_exactly_like_the_reference(
    generated: tuple[SqliteTrackerStore, list[RunRecord]],
    monkeypatch: pytest.MonkeyPatch,
    plan: str | None,
    filter_string: str,
) -> None:
    store, runs = generated
    monkeypatch.setattr(page_query, "PLAN", plan)
    rng = random.Random(f"{plan}/{filter_string}")
    for order in ORDERS:
        sizes = [rng.randint(1, 40) for _ in range(3)]
        expected = reference(runs, filter_string, order, sizes)
        got = pages(store, filter_string, order, sizes)
        assert got == expected, (filter_string, order, sizes)


def test_the_walk_is_chosen_for_broad_filters_and_the_set_for_narrow_ones(
    generated: tuple[SqliteTrackerStore, list[RunRecord]],
) -> None:
    store, runs = generated
    conn = store._conn()
    # Given 160 runs: a page of 10 out of 150 matches walks ~11 index entries; out of 5
    # matches it would walk ~320, far more than building the 5-run set
    assert page_query.choose_plan(conn, parse_filter("metrics.accuracy >= 0"), 150, 10) == "probe"
    assert page_query.choose_plan(conn, parse_filter("metrics.accuracy >= 0"), 5, 10) == "set"
    assert page_query.choose_plan(conn, None, len(runs), 1000) == "probe"


def test_a_tie_across_the_page_edge_falls_back_to_the_exact_query(tmp_path: Path) -> None:
    # Given 5 runs with the same AUC, started in the order r0..r4 (newest first: r4..r0)
    from datetime import timedelta

    from tests.unit.tracking.sqlite_runs import T0

    store = SqliteTrackerStore(tmp_path / "t.db")
    ids = []
    for i in range(5):
        run_id = store.create_run("e", f"r{i}", user="u", start_time=T0 + timedelta(seconds=i))
        store.log_metrics(run_id, {"auc_roc": 0.5})
        ids.append(run_id)
    conn = store._conn()
    key = parse_order_by(["metrics.auc_roc DESC"])
    # When a page of 2 is asked for, the walk alone cannot tell which two of the five come first
    assert page_query._sort_index_page(conn, key[0], None, 5, 2, 0) is None
    # Then the search answers newest first all the same, page after page
    first = store.search_runs("", ["metrics.auc_roc DESC"], 2)
    second = store.search_runs("", ["metrics.auc_roc DESC"], 2, first.next_page_token)
    assert [r.run_id for r in first.runs + second.runs] == ids[::-1][:4]
    # And a page that holds the whole tie is re-ordered newest first without the fallback
    whole = page_query._sort_index_page(conn, key[0], None, 5, 5, 0)
    assert whole is not None and len(whole) == 5
    assert [r.run_id for r in store.search_runs("", ["metrics.auc_roc DESC"], 5).runs] == ids[::-1]
    store.close()
