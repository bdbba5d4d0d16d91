"""TuningMonitor as the searches' ``on_trial`` callback, from one thread or many."""

from __future__ import annotations

import threading

import numpy as np
from sklearn.datasets import make_classification

from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tuning import TrialInfo, grid_search
from fraud_jlab.widgets import TuningMonitor


def _info(number: int, completed: int, total: int, state: str = "complete") -> TrialInfo:
    score = None if state == "pruned" else 0.5 + number / 1000
    return TrialInfo(
        number=number,
        completed=completed,
        total=total,
        params={"max_depth": number % 7 + 3},
        state=state,
        score=score,
        fold_scores=[0.4 + number / 1000],
        best_score=0.5 + number / 1000,
    )


def test_grid_search_updates_the_monitor_after_every_trial(tracker: TrackerStore) -> None:
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=3, weights=[0.85], random_state=3
    )
    monitor = TuningMonitor("grid")
    seen: list[int] = []
    original = monitor._redraw

    def counting() -> None:
        original()
        seen.append(monitor.progress.value)

    monitor._redraw = counting  # type: ignore[method-assign]

    # When the monitor is the search's on_trial callback
    result = grid_search(
        X, y, {"max_depth": [3, 5], "eta": [0.3]}, n_splits=2, n_jobs=1,
        tracker=tracker, on_trial=monitor,
    )  # fmt: skip

    # Then it was redrawn once per trial, and shows what the search returned
    assert seen == [1, 2]
    assert monitor.progress.value == monitor.progress.max == 2
    scores = result.trials["mean_average_precision"].tolist()
    assert list(monitor.chart.data[0].y) == scores
    assert list(monitor.chart.data[2].y) == [scores[0], max(scores)]
    assert monitor.chart.data[2].y[-1] == result.best_score
    for run_id in result.trials["run_id"]:
        assert run_id in monitor.table.value
    assert "2/2 trials done · 0 pruned" in monitor.status.value
    assert np.isclose(monitor.trials[0].score or 0.0, scores[0])


def test_pruned_trials_are_marked() -> None:
    monitor = TuningMonitor()
    for n, state in enumerate(["complete", "pruned", "complete", "pruned"]):
        monitor(_info(n, n + 1, 4, state))
    assert monitor.pruned == [1, 3]
    assert list(monitor.chart.data[1].x) == [1, 3]
    assert list(monitor.chart.data[1].y) == [0.401, 0.403]  # the last fold each scored
    assert list(monitor.chart.data[0].x) == [0, 2]
    assert monitor.table.value.count('class="pruned"') == 2
    assert "2 pruned" in monitor.status.value


def test_trials_reported_from_many_threads_are_all_kept() -> None:
    monitor = TuningMonitor(max_rows=10)
    total = 8 * 25
    counter = iter(range(1, total + 1))
    lock = threading.Lock()

    def worker(offset: int) -> None:
        for i in range(25):
            with lock:
                completed = next(counter)
            monitor(_info(offset * 25 + i, completed, total))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(monitor.trials) == list(range(total))
    assert monitor.progress.value == total
    assert list(monitor.chart.data[0].x) == list(range(total))
    assert monitor.table.value.count("<tr") == 10 + 1  # the 10 most recent, plus the header


def test_run_in_background_reports_from_the_search_thread() -> None:
    monitor = TuningMonitor()
    caller = threading.get_ident()
    threads: set[int] = set()

    def search(n: int, *, on_trial: object) -> str:
        for i in range(n):
            threads.add(threading.get_ident())
            on_trial(_info(i, i + 1, n))  # type: ignore[operator]
        return "done"

    monitor.run_in_background(search, 3).join(10)
    assert monitor.result == "done" and monitor.error is None
    assert caller not in threads and monitor.progress.value == 3
    assert monitor.status.value.endswith("finished")


def test_run_in_background_shows_a_failed_search() -> None:
    from fraud_jlab.errors import ValidationError

    def search(*, on_trial: object) -> None:
        raise ValidationError("n_trials must be >= 1", field="n_trials")

    monitor = TuningMonitor()
    monitor.run_in_background(search).join(10)
    assert isinstance(monitor.error, ValidationError) and monitor.result is None
    assert "The search failed" in monitor.status.value and "n_trials" in monitor.status.value
