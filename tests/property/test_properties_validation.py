"""Correctness properties of model evaluation and feature selection (seed properties 14-18)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraud_jlab import Run
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import (
    REQUIRED_METRICS,
    LowAccuracyWarning,
    MetricWarning,
    ModelEvaluator,
)
from fraud_jlab.features import FeatureEngineer, FeatureSelectionWarning
from fraud_jlab.tracking.sqlite_store import SqliteTrackerStore


class FixedScoreModel:
    """Returns scores[i] as the fraud probability of row i (X holds row indices)."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.scores[np.asarray(X, dtype=int).ravel()]
        return np.column_stack([1 - p, p])


@st.composite
def labelled_scores(
    draw: st.DrawFn, min_size: int = 2, max_size: int = 120
) -> tuple[list[int], list[float]]:
    """Binary labels with both classes present, and a probability per row."""
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    labels[0], labels[-1] = 0, 1
    scores = draw(
        st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=n, max_size=n)
        | st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=n, max_size=n)
    )
    return labels, scores


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteTrackerStore]:
    store = SqliteTrackerStore(Path(tmp_path_factory.mktemp("props")) / "runs.db")
    yield store
    store.close()


@given(data=labelled_scores(), threshold=st.floats(0.05, 0.95))
@settings(max_examples=100, deadline=None)
def test_property_14_model_evaluation_metrics_completeness(
    data: tuple[list[int], list[float]], threshold: float
) -> None:
    """Feature: ml-experimentation-workflow, Property 14: Model Evaluation Metrics Completeness.

    For any model evaluation, the results contain accuracy, precision, recall, f1_score, auc_roc.
    Validates: Requirements 6.1
    """
    labels, scores = data
    y = np.array(labels)
    evaluator = ModelEvaluator(n_bootstrap=10, warn_accuracy=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricWarning)  # e.g. no predicted positive: precision 0.0
        result = evaluator.evaluate_model(
            FixedScoreModel(np.array(scores)),
            np.arange(y.size).reshape(-1, 1),
            y,
            threshold=threshold,
        )
        direct = evaluator.calculate_metrics(y, None, scores, threshold=threshold)
    for metrics in (result["metrics"], direct):
        for name in REQUIRED_METRICS:
            assert name in metrics
            assert 0.0 <= metrics[name] <= 1.0
    assert set(REQUIRED_METRICS) <= set(result["confidence_intervals"])


@given(
    accuracy=st.floats(0.0, 1.0, allow_nan=False),
    threshold=st.one_of(st.just(0.90), st.floats(0.5, 1.0)),
)
@settings(max_examples=100, deadline=None)
def test_property_15_production_threshold_detection(accuracy: float, threshold: float) -> None:
    """Feature: ml-experimentation-workflow, Property 15: Production Threshold Detection.

    accuracy >= threshold (default 0.90) -> meets_production_threshold True, otherwise False.
    Validates: Requirements 6.5
    """
    evaluator = ModelEvaluator(threshold_accuracy=threshold, warn_accuracy=0.0)
    metrics = {"accuracy": accuracy, "precision": 0.5}
    assert evaluator.meets_production_threshold(metrics) is (accuracy >= threshold)
    assert ModelEvaluator().meets_production_threshold(metrics) is (accuracy >= 0.90)


_METRIC_NAMES = st.sampled_from(
    ["accuracy", "precision", "recall", "f1_score", "auc_roc", "average_precision", "latency_ms"]
)
_VALUES = st.one_of(st.just(0.0), st.floats(-1e6, 1e6, allow_nan=False))


@given(
    current=st.dictionaries(_METRIC_NAMES, _VALUES, max_size=7),
    baseline=st.dictionaries(_METRIC_NAMES, _VALUES, max_size=7),
)
@settings(max_examples=100, deadline=None)
def test_property_16_baseline_comparison_completeness(
    current: dict[str, float], baseline: dict[str, float]
) -> None:
    """Feature: ml-experimentation-workflow, Property 16: Baseline Comparison Completeness.

    With baseline metrics, the comparison has difference and percent_change for each metric
    present in both current and baseline.
    Validates: Requirements 6.4
    """
    comparison = ModelEvaluator().compare_to_baseline(current, baseline)
    assert set(comparison) == set(current) & set(baseline)
    for name, entry in comparison.items():
        assert {"current", "baseline", "difference", "percent_change", "improved"} <= set(entry)
        assert entry["difference"] == current[name] - baseline[name]
        if baseline[name] == 0:
            assert entry["percent_change"] is None
            assert "note" in entry
        else:
            expected = (current[name] - baseline[name]) / abs(baseline[name]) * 100
            assert math.isclose(entry["percent_change"], expected, rel_tol=1e-12, abs_tol=1e-12)
        assert entry["improved"] is (entry["difference"] > 0)


@given(n_wrong=st.integers(0, 40), n_rows=st.integers(40, 80))
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_property_17_low_accuracy_warning(
    tracker: SqliteTrackerStore, n_wrong: int, n_rows: int
) -> None:
    """Feature: ml-experimentation-workflow, Property 17: Low Accuracy Warning.

    For any experiment with accuracy < 0.80, a warning says the results are below the
    production threshold (and the run is tagged); at or above 0.80 there is none.
    Validates: Requirements 14.5
    """
    y = np.array([0, 1] * (n_rows // 2))
    pred = y.copy()
    pred[:n_wrong] = 1 - pred[:n_wrong]  # exactly n_wrong mistakes
    accuracy = 1 - n_wrong / y.size
    model = FixedScoreModel(np.where(pred == 1, 0.9, 0.1))
    evaluator = ModelEvaluator(n_bootstrap=10)
    with Run("property-17", tracker=tracker) as run, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluator.evaluate_model(model, np.arange(y.size).reshape(-1, 1), y, run=run)
    low = [w for w in caught if issubclass(w.category, LowAccuracyWarning)]
    tags = tracker.get_run(run.run_id).tags
    if accuracy < 0.80:
        assert len(low) == 1
        assert "below production threshold" in str(low[0].message)
        assert tags.get("warning.low_accuracy") == "true"
    else:
        assert low == []
        assert "warning.low_accuracy" not in tags


@given(
    n_features=st.integers(1, 12),
    n_rows=st.integers(10, 60),
    k=st.integers(-2, 16),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=100, deadline=None)
def test_property_18_feature_selection_subset(
    n_features: int, n_rows: int, k: int, seed: int
) -> None:
    """Feature: ml-experimentation-workflow, Property 18: Feature Selection Subset.

    For k features requested, the selection has length <= k and only original features.
    Validates: Requirements 5.2
    """
    rng = np.random.default_rng(seed)
    columns = [f"V{i}" for i in rng.permutation(40)[:n_features]]
    X = pd.DataFrame(
        rng.normal(size=(n_rows, n_features)).round(rng.integers(0, 3)), columns=columns
    )
    y = pd.Series(np.r_[0, 1, rng.integers(0, 2, n_rows - 2)])
    engineer = FeatureEngineer()
    if k < 1:
        with pytest.raises(ValidationError):
            engineer.select_features_univariate(X, y, k=k)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selected, _scores = engineer.select_features_univariate(X, y, k=k)
    assert len(selected) <= k
    assert set(selected) <= set(columns)
    assert len(set(selected)) == len(selected)
    assert len(selected) == min(k, n_features)
    noted = any(issubclass(w.category, FeatureSelectionWarning) for w in caught)
    assert noted is (k > n_features)
