"""``GET runs`` / ``POST runs/search``: answered from the response cache until anything is written."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from fraud_jlab.server.base import FraudJlabContext, FraudJlabHandler
from fraud_jlab.tracking.contract import TrackerStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
PARAMS = {
    "filter": "metrics.auc_roc >= 0.5",
    "order_by": "metrics.auc_roc DESC",
    "max_results": "10",
}


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the blocking calls handlers send to worker threads."""
    hops: list[str] = []
    original = FraudJlabHandler.run_blocking

    async def counting(self: FraudJlabHandler, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(FraudJlabHandler, "run_blocking", counting)
    return hops


def _log(tracker: TrackerStore, name: str, auc: float) -> str:
    run_id = tracker.create_run("cache", name, user="u", start_time=T0)
    tracker.log_metrics(run_id, {"auc_roc": auc})
    return run_id


async def test_a_repeated_search_is_answered_without_a_thread_until_a_write(
    fj_api: Any, fj_tracker: TrackerStore, fj_context: FraudJlabContext, thread_hops: list[str]
) -> None:
    # Given two runs and a first search (a miss: searched in a worker thread)
    _log(fj_tracker, "a", 0.7)
    _log(fj_tracker, "b", 0.9)
    status, first = await fj_api("GET", "runs", params=PARAMS)
    assert status == 200 and [r["run_name"] for r in first["runs"]] == ["b", "a"]
    assert thread_hops == ["compute"]

    # When the same search comes again with nothing written
    status, again = await fj_api("GET", "runs", params=PARAMS)
    # Then it is the same page, served on the loop from the cache
    assert status == 200 and again == first
    assert thread_hops == ["compute"] and fj_context.search_cache().hits >= 1

    # When a run is logged, the next search sees it
    _log(fj_tracker, "c", 0.8)
    status, after = await fj_api("GET", "runs", params=PARAMS)
    assert [r["run_name"] for r in after["runs"]] == ["b", "c", "a"] and after["total"] == 3
    assert thread_hops == ["compute", "compute"]

    # And POST runs/search shares the cache and the answer
    body = {"filter": PARAMS["filter"], "order_by": [PARAMS["order_by"]], "max_results": 10}
    status, posted = await fj_api("POST", "runs", "search", body=body)
    assert status == 200 and posted == after


async def test_the_cached_page_is_what_the_models_say(
    fj_api: Any, fj_tracker: TrackerStore
) -> None:
    _log(fj_tracker, "a", 0.6)
    status, body = await fj_api("GET", "runs", params=PARAMS)
    page = fj_tracker.search_runs(PARAMS["filter"], [PARAMS["order_by"]], 10)
    assert status == 200 and body == json.loads(json.dumps(page.model_dump(mode="json")))


async def test_a_bad_filter_is_a_400_and_not_cached(
    fj_api: Any, fj_context: FraudJlabContext
) -> None:
    for _ in range(2):
        status, body = await fj_api("GET", "runs", params={"filter": "metrics.x >>= 1"})
        assert status == 400 and body["field"] == "filter"
    assert fj_context.search_cache().hits == 0
