"""RunBrowser driven like a user: type a filter, sort, page, select rows, click the buttons."""

from __future__ import annotations

from typing import Any

import pytest

from fraud_jlab.tracking.contract import RunsPage, TrackerStore
from fraud_jlab.widgets import ComparisonDashboard, RunBrowser

from .conftest import make_run, text


def _ids(browser: RunBrowser) -> list[str]:
    return [run_id for _label, run_id in browser.table.options]


@pytest.fixture
def calls(tracker: TrackerStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every ``search_runs`` call the tracker receives (the widget's only read of runs)."""
    seen: list[dict[str, Any]] = []
    real = tracker.search_runs

    def spy(*args: Any, **kwargs: Any) -> RunsPage:
        page = real(*args, **kwargs)
        seen.append({**kwargs, "returned": len(page.runs)})
        return page

    monkeypatch.setattr(tracker, "search_runs", spy)
    return seen


def test_each_view_fetches_exactly_one_page(
    tracker: TrackerStore, calls: list[dict[str, Any]]
) -> None:
    # Given a few hundred runs
    made = [make_run(tracker, f"run-{i:03d}", minutes=i) for i in range(260)]

    # When the browser opens with pages of 25, newest first
    browser = RunBrowser(order_by="start_time DESC", page_size=25, tracker=tracker)

    # Then one call fetched one page of 25: the table never holds all 260 runs
    assert [(c["max_results"], c["returned"]) for c in calls] == [(25, 25)]
    assert _ids(browser) == made[::-1][:25]
    assert browser.page_label.value == "Page 1 of 11 · 260 matching runs"
    assert browser.prev_button.disabled and not browser.next_button.disabled

    # When paging forward twice and back once: one page fetched per view
    browser.next_button.click()
    assert _ids(browser) == made[::-1][25:50]
    browser.next_button.click()
    browser.prev_button.click()
    assert _ids(browser) == made[::-1][25:50]
    assert len(calls) == 4 and all(c["returned"] == 25 for c in calls)
    assert calls[1]["page_token"] and calls[3]["page_token"] == calls[1]["page_token"]
    assert browser.page_label.value.startswith("Page 2 of 11")

    # When the filter changes: back to page 1 of the new result, one more call
    browser.filter_box.value = "attributes.run_name LIKE 'run-00%'"
    assert len(calls) == 5 and _ids(browser) == made[:10][::-1]
    assert browser.next_button.disabled and browser.page_label.value.endswith("10 matching runs")


def test_bad_filter_shows_the_validation_error_inline(tracker: TrackerStore) -> None:
    run_id = make_run(tracker)
    browser = RunBrowser(tracker=tracker)
    assert _ids(browser) == [run_id] and browser.error.value == ""

    # When the user types a filter with a syntax error
    browser.filter_box.value = "metrics.accuracy >> 0.9"

    # Then the core's message, naming the field and the position, shows under the box
    assert 'role="alert"' in browser.error.value
    assert "filter: Unexpected token '>' at position 18" in text(browser.error.value)
    assert "<b>filter</b>" in browser.error.value
    assert _ids(browser) == [] and browser.page is None
    assert browser.next_button.disabled and browser.prev_button.disabled

    # When it is fixed, the error goes and the rows come back
    browser.filter_box.value = "metrics.accuracy > 0.9"
    assert browser.error.value == "" and _ids(browser) == [run_id]


def test_bad_sort_key_and_page_size_name_their_field(tracker: TrackerStore) -> None:
    make_run(tracker)
    browser = RunBrowser(tracker=tracker)
    browser.order_box.value = "nope.x DESC"
    assert "order_by: Unknown key prefix 'nope'" in text(browser.error.value)
    small = RunBrowser(page_size=0, tracker=tracker)
    assert "<b>max_results</b>" in small.error.value and "1 and 1000" in small.error.value


def test_filter_and_order_by_sort_the_table(tracker: TrackerStore) -> None:
    low = make_run(tracker, "low", accuracy=0.80)
    mid = make_run(tracker, "mid", accuracy=0.95)
    high = make_run(tracker, "high", accuracy=0.99)
    browser = RunBrowser(
        filter="metrics.accuracy >= 0.9", order_by="metrics.accuracy DESC", tracker=tracker
    )
    assert _ids(browser) == [high, mid] and low not in _ids(browser)
    browser.order_box.value = "metrics.accuracy ASC"
    assert _ids(browser) == [mid, high]
    label = browser.table.options[0][0]
    assert label.startswith("mid") and "0.9500" in label and label.endswith(mid)
    assert "acc" in browser.header.value and "AP" in browser.header.value


def test_selection_survives_paging_and_compare_opens_a_dashboard(
    tracker: TrackerStore, s3: Any
) -> None:
    first = make_run(tracker, "first", average_precision=0.70, minutes=0)
    second = make_run(tracker, "second", average_precision=0.80, minutes=1)
    browser = RunBrowser(order_by="start_time ASC", page_size=1, tracker=tracker)

    # Given one run selected on each page
    browser.select([first])
    browser.next_button.click()
    browser.select([second])
    browser.prev_button.click()
    assert browser.table.value == (first,)
    assert browser.selected == [first, second]
    assert browser.selection_label.value == "2 selected"

    # When Compare is clicked
    browser.compare_button.click()

    # Then a ComparisonDashboard of both runs is shown under the table
    dashboard = browser.dashboard
    assert isinstance(dashboard, ComparisonDashboard)
    assert browser.detail.children == (dashboard,)
    assert {r.run_id for r in dashboard.result.runs} == {first, second}
    assert browser.message.value == ""


def test_compare_of_one_run_shows_the_core_error(tracker: TrackerStore, s3: Any) -> None:
    only = make_run(tracker)
    browser = RunBrowser(tracker=tracker)
    browser.select([only])
    browser.compare_button.click()
    assert browser.dashboard is None and browser.detail.children == ()
    assert "<b>run_ids</b>: run_ids must name between 2 and" in browser.message.value


def test_promote_needs_exactly_one_selected_run(tracker: TrackerStore, s3: Any) -> None:
    a, b = make_run(tracker, "a"), make_run(tracker, "b")
    browser = RunBrowser(tracker=tracker)
    browser.promote_button.click()
    assert "Select exactly one run to promote (0 selected)" in browser.message.value
    browser.select([a, b])
    browser.promote_button.click()
    assert "(2 selected)" in browser.message.value and browser.promote_panel is None


def test_a_lower_bound_total_is_shown_as_such(
    tracker: TrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a remote-style tracker that pages without counting every run
    made = [make_run(tracker, f"run-{i}", minutes=i) for i in range(3)]
    real = tracker.search_runs

    def paged(*args: Any, **kwargs: Any) -> RunsPage:
        page = real(*args, **kwargs)
        return page.model_copy(update={"total": len(page.runs) + 1, "total_is_exact": False})

    monkeypatch.setattr(tracker, "search_runs", paged)
    # When
    browser = RunBrowser(order_by="start_time DESC", page_size=2, tracker=tracker)
    # Then the label says "at least"
    assert _ids(browser) == made[::-1][:2]
    assert browser.page_label.value == "Page 1 of 2+ · 3+ matching runs"
