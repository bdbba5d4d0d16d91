"""``search_runs_json`` (rendered by SQLite) writes what the pydantic path writes, field by field."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fraud_jlab.tracking.contract import RunsPage, TrackerStore
from fraud_jlab.tracking.sqlite.bulk import RunToLog
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

ODD_TEXT = ("plain", 'quote " and \\ back', "tab\tnew\nline", "ünïcödé ✓", "\x01ctl", "it's")
ODD_FLOATS = (0.0, -0.0, 1e16, 1e-7, 123456789.125, 0.1 + 0.2, -2.5e-300, 1.7976931348623157e308)
TIMES = (
    datetime(2026, 12, 4, 13, 9, 38, tzinfo=timezone.utc),  # whole second: no fraction
    datetime(2026, 12, 4, 13, 9, 38, 1000, tzinfo=timezone.utc),
    datetime(2026, 12, 4, 13, 9, 38, 999000, tzinfo=timezone.utc),
    datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc),  # before the epoch
    datetime(1, 1, 1, tzinfo=timezone.utc),
)


def pydantic_json(store: TrackerStore, *args: Any) -> Any:
    """What the server wrote before: the model dumped by pydantic, then json.dumps."""
    page = store.search_runs(*args)
    assert isinstance(page, RunsPage)
    return json.loads(json.dumps(page.model_dump(mode="json")))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SqliteTrackerStore:
    rng = random.Random(7)
    store = SqliteTrackerStore(tmp_path_factory.mktemp("json") / "t.db")
    runs = []
    for i in range(120):
        start = rng.choice(TIMES) + timedelta(milliseconds=rng.choice([0, 0, 5, 250]))
        status = rng.choice(["completed", "failed", "running"])
        runs.append(
            RunToLog(
                experiment_name=rng.choice(ODD_TEXT),
                run_name=f"{rng.choice(ODD_TEXT)}-{i}",
                user=rng.choice(ODD_TEXT),
                start_time=start,
                end_time=None
                if status == "running"
                else start + timedelta(seconds=rng.randrange(2), milliseconds=rng.randrange(3)),
                status=status,  # type: ignore[arg-type]
                params={rng.choice(ODD_TEXT): rng.choice(ODD_TEXT), "depth": rng.randrange(3, 9)},
                metrics={"auc_roc": rng.choice(ODD_FLOATS), "x": rng.random()},
                tags={"t": rng.choice(ODD_TEXT)} if rng.random() < 0.5 else {},
            )
        )
    ids = store.log_runs(runs)
    # runs with a parent, and runs logged step by step (metrics re-logged with steps)
    for i in range(20):
        child = store.create_run(
            "kids", f"c{i}", user="u", start_time=TIMES[i % 5], parent_run_id=ids[i]
        )
        store.log_metrics(child, {"auc_roc": rng.random()}, step=1)
        store.log_metrics(child, {"auc_roc": rng.choice(ODD_FLOATS)}, step=2)
        store.set_tags(child, {"t": rng.choice(ODD_TEXT)})
    return store


@pytest.mark.parametrize(
    ("filter_string", "order_by", "max_results"),
    [
        ("", [], 1000),
        ("", ["metrics.auc_roc DESC"], 37),
        ("metrics.x >= 0.5", ["metrics.auc_roc ASC"], 1000),
        ("params.depth = '7'", ["start_time ASC"], 5),
        ("parent_run_id IS NOT NULL", ["end_time DESC"], 1000),
        ("metrics.x < 0", [], 10),  # no match: an empty page
    ],
)
def test_sql_rendered_json_equals_the_pydantic_json_field_by_field(
    store: SqliteTrackerStore, filter_string: str, order_by: list[str], max_results: int
) -> None:
    token: str | None = None
    pages = 0
    while True:
        args = (filter_string, order_by, max_results, token)
        expected = pydantic_json(store, *args)
        got = json.loads(store.search_runs_json(*args))
        assert list(got) == list(expected)
        for name in ("next_page_token", "total", "total_is_exact", "client_side_filter"):
            assert got[name] == expected[name], name
        assert len(got["runs"]) == len(expected["runs"])
        for got_run, expected_run in zip(got["runs"], expected["runs"], strict=True):
            assert list(got_run) == list(expected_run)
            for field, value in expected_run.items():
                assert got_run[field] == value, (field, got_run[field], value)
                assert type(got_run[field]) is type(value), field
        pages += 1
        token = expected["next_page_token"]
        if token is None:
            break
    assert pages >= 1


def test_the_contract_default_is_the_pydantic_json(store: SqliteTrackerStore) -> None:
    # A backend without its own rendering answers with the default implementation
    from fraud_jlab.tracking.contract import TrackerStore as Contract

    text = Contract.search_runs_json(store, "", ["metrics.auc_roc DESC"], 50)
    assert json.loads(text) == json.loads(store.search_runs_json("", ["metrics.auc_roc DESC"], 50))


def test_whole_and_fractional_seconds_render_like_pydantic(tmp_path: Path) -> None:
    store = SqliteTrackerStore(tmp_path / "t.db")
    for moment in TIMES:
        store.create_run("e", "r", user="u", start_time=moment)
    starts = [
        r["start_time"] for r in json.loads(store.search_runs_json("", ["start_time ASC"]))["runs"]
    ]
    assert starts == [
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999000Z",
        "2026-12-04T13:09:38Z",
        "2026-12-04T13:09:38.001000Z",
        "2026-12-04T13:09:38.999000Z",
    ]
    store.close()
