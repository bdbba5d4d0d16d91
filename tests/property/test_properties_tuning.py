"""Properties 19 and 20 of the design: searches log exactly one child run per trial."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification

from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore
from fraud_jlab.tuning import grid_search, random_search

X, Y = make_classification(
    n_samples=400, n_features=6, n_informative=3, weights=[0.85], flip_y=0.02, random_state=11
)


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackerStore]:
    store = SqliteTrackerStore(Path(tmp_path_factory.mktemp("tuning-props")) / "runs.db")
    yield store
    store.close()


def count_children(tracker: TrackerStore, parent_run_id: str | None) -> int:
    assert parent_run_id is not None
    return tracker.search_runs(f"parent_run_id = '{parent_run_id}'", max_results=1).total


def distinct(values: st.SearchStrategy[object], max_size: int) -> st.SearchStrategy[list[object]]:
    return st.lists(values, min_size=1, max_size=max_size, unique=True)


grids = st.fixed_dictionaries(
    {
        "max_depth": distinct(st.integers(3, 10), 2),
        "n_estimators": distinct(st.integers(50, 80), 4),
    },
    optional={
        "learning_rate": distinct(st.sampled_from([0.05, 0.1, 0.3]), 2),
        "subsample": distinct(st.sampled_from([0.6, 0.8, 1.0]), 2),
    },
)


@settings(max_examples=100, deadline=None)
@given(param_grid=grids)
def test_property_19_grid_search_completeness(
    tracker: TrackerStore, param_grid: dict[str, list[object]]
) -> None:
    # Given a grid with any number of values per parameter
    expected = math.prod(len(v) for v in param_grid.values())
    # When it is searched
    result = grid_search(X, Y, param_grid, n_splits=2, n_jobs=1, tracker=tracker)
    # Then exactly one child run per combination is logged, each combination once
    assert count_children(tracker, result.parent_run_id) == expected
    combos = {
        tuple(row)
        for row in result.trials[["max_depth", "num_round", "eta", "subsample"]].to_numpy()
    }
    assert len(combos) == expected


distributions = st.fixed_dictionaries(
    {
        "eta": st.builds(
            lambda lo, width: ParameterRange(
                type="Continuous", min_value=lo, max_value=min(0.3, lo + width)
            ),
            st.floats(0.01, 0.2),
            st.floats(0.0, 0.1),
        ),
        "max_depth": st.one_of(
            distinct(st.integers(3, 10), 3),
            st.builds(
                lambda lo: ParameterRange(type="Integer", min_value=lo, max_value=lo + 2),
                st.integers(3, 8),
            ),
        ),
        "num_round": distinct(st.integers(50, 60), 2),
    }
)


@settings(max_examples=100, deadline=None)
@given(param_distributions=distributions, n_iter=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_property_20_random_search_sampling(
    tracker: TrackerStore, param_distributions: dict[str, object], n_iter: int, seed: int
) -> None:
    # When a random search runs n_iter trials
    result = random_search(
        X, Y, param_distributions, n_iter, n_splits=2, seed=seed, n_jobs=1, tracker=tracker
    )
    # Then exactly n_iter child runs are logged, all inside the given space
    assert count_children(tracker, result.parent_run_id) == n_iter
    assert len(result.trials) == n_iter
    eta = param_distributions["eta"]
    assert isinstance(eta, ParameterRange)
    assert np.all((result.trials["eta"] >= eta.min_value) & (result.trials["eta"] <= eta.max_value))
