"""Correctness properties of model evaluation and feature selection (seed properties 14-18)."""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fraud_jlab import Run
from fraud_jlab.abtest import ABTestingManager, challenger_endpoint_name
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import (
    REQUIRED_METRICS,
    LowAccuracyWarning,
    MetricWarning,
    ModelEvaluator,
)
from fraud_jlab.features import FeatureEngineer, FeatureSelectionWarning
from fraud_jlab.promotion.validation import (
    ALLOWED_OBJECTIVES,
    normalise_hyperparameters,
    validate_hyperparameters,
)
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


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


# --- Property 2: hyperparameter validation reports every problem with name, value and range. ---

# name -> (integer?, low, low inclusive?, high, range text the message must show)
SPEC = {
    "max_depth": (True, 1, True, 20, "[1, 20]"),
    "num_round": (True, 1, True, 1000, "[1, 1000]"),
    "eta": (False, 0.0, False, 1.0, "(0, 1]"),
    "subsample": (False, 0.0, False, 1.0, "(0, 1]"),
    "colsample_bytree": (False, 0.0, False, 1.0, "(0, 1]"),
}
REQUIRED = ("objective", *SPEC)

# A candidate value and the number it denotes (None: not a number at all).
numeric_values = st.one_of(
    st.integers(-50, 1500).map(lambda v: (v, float(v))),
    st.floats(-2.0, 30.0).map(lambda v: (v, v)),
    st.sampled_from([float("nan"), float("inf"), 0.0, 1.0, 1.0000001, 20.0, 20.5]).map(
        lambda v: (v, v)
    ),
    st.integers(-5, 1200).map(lambda v: (str(v), float(v))),
    st.floats(0.0, 1.5, allow_nan=False).map(lambda v: (repr(v), v)),
    st.sampled_from([True, False, None, "abc", "", [1], {"a": 1}]).map(lambda v: (v, None)),
)
objective_values = st.one_of(
    st.sampled_from(ALLOWED_OBJECTIVES), st.text(max_size=12), st.sampled_from([None, 3, True])
)


def _number_ok(name: str, number: float | None, raw: Any) -> bool:
    is_int, low, low_inclusive, high, _ = SPEC[name]
    if number is None or isinstance(raw, bool) or not math.isfinite(number):
        return False
    if is_int and not float(number).is_integer():
        return False
    above = number >= low if low_inclusive else number > low
    return above and number <= high


@settings(max_examples=100, deadline=None)
@given(
    present=st.sets(st.sampled_from(REQUIRED)),
    numbers=st.fixed_dictionaries({n: numeric_values for n in SPEC}),
    objective=objective_values,
    extras=st.sets(st.sampled_from(["gamma", "alpha", "learning_rate", "eval_metric"]), max_size=2),
)
def test_property_2_hyperparameter_validation(
    present: set[str],
    numbers: dict[str, tuple[Any, float | None]],
    objective: Any,
    extras: set[str],
) -> None:
    hp: dict[str, Any] = {n: numbers[n][0] for n in SPEC if n in present}
    if "objective" in present:
        hp["objective"] = objective
    hp.update({e: 1 for e in extras})
    bad_values = {
        n for n in SPEC if n in present and not _number_ok(n, numbers[n][1], numbers[n][0])
    }
    objective_bad = "objective" in present and not (
        isinstance(objective, str) and objective.strip() in ALLOWED_OBJECTIVES
    )
    missing = [n for n in REQUIRED if n not in present]
    if not bad_values and not objective_bad and not missing and not extras:
        assert validate_hyperparameters(hp) is True
        clean = normalise_hyperparameters(hp)
        assert set(clean) == set(REQUIRED)
        for n in SPEC:
            assert clean[n] == numbers[n][1]
        return
    with pytest.raises(ValueError) as info:
        validate_hyperparameters(hp)
    err = info.value
    assert isinstance(err, ValidationError)
    text = str(err)
    # every problem is reported at once, each naming the parameter, its value and the range
    for name in bad_values:
        [message] = [m for m in err.errors if f"'{name}'" in m]
        assert repr(hp[name]) in message and SPEC[name][4] in message
    if objective_bad:
        [message] = [m for m in err.errors if "'objective'" in m]
        assert repr(objective) in message and "binary:logistic" in message
    for name in missing:
        assert name in text
    for name in extras:
        assert name in text
    assert len(err.errors) == len(bad_values) + objective_bad + bool(missing) + bool(extras)


# --- Property 21: Challenger Endpoint Naming (Validates: Requirements 11.2). ---

VALID_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
REGION = "us-east-1"

experiment_ids = st.one_of(
    st.from_regex(r"exp-20[0-9]{6}-[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9A-HJKMNP-TV-Z]{26}", fullmatch=True),  # ULIDs
    # Lengths around the 20/30-character boundaries where the name format changes.
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=18, max_size=34),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=120),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
    ),
)


def expected_slug(experiment_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", experiment_id.lower()).strip("-")


def check_name(name: str, experiment_id: str, moment: datetime) -> None:
    timestamp = moment.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    slug = expected_slug(experiment_id)
    assert len(name) <= 63
    assert VALID_NAME.fullmatch(name), name
    assert name.endswith(f"-{timestamp}")
    if len(slug) <= 30:
        assert f"-{slug}-{timestamp}" in name
    else:
        # Documented truncated form: first 21 slug characters + 8 hex digits of the id's hash.
        digest = hashlib.sha256(experiment_id.encode("utf-8")).hexdigest()[:8]
        assert f"-{slug[:21].rstrip('-')}-{digest}-{timestamp}" in name


@pytest.fixture(scope="module")
def deployed(moto_env_module: None) -> tuple[str, str, datetime, list[str]]:
    """ONE real deployment (under moto) with a long id: its name, id, moment, endpoints."""
    experiment_id = "Fraud XGBoost sweep #42 / 01HMBX9ZQK4W8V2T6R3N5P7Y0A"
    moment = datetime(2025, 3, 1, 12, 0, 7, tzinfo=timezone.utc)
    session = boto3.session.Session(region_name=REGION)
    s3, sagemaker = session.client("s3"), session.client("sagemaker")
    s3.create_bucket(Bucket="fraud-detection-models")
    s3.put_object(Bucket="fraud-detection-models", Key="m/model.tar.gz", Body=b"x")
    manager = ABTestingManager(
        FraudJlab(region=REGION),
        sagemaker_client=sagemaker,
        s3_client=s3,
        clock=lambda: moment,
    )
    name = manager.deploy_challenger_endpoint(
        experiment_id, "s3://fraud-detection-models/m/model.tar.gz"
    )
    endpoints = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    return name, experiment_id, moment, endpoints


MOMENT = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)


@settings(max_examples=100, deadline=None)
# Slugs of 20/21 and 30/31 characters: where the prefix changes and where truncation starts.
@example(experiment_id="e" * 20, moment=MOMENT, later=1)
@example(experiment_id="E_" * 10 + "x", moment=MOMENT, later=1)
@example(experiment_id="u" * 30, moment=MOMENT, later=1)
@example(experiment_id="U" * 31, moment=MOMENT, later=1)
@example(experiment_id="##", moment=MOMENT, later=1)
@given(experiment_id=experiment_ids, moment=moments, later=st.integers(1, 10**8))
def test_property_21_challenger_endpoint_naming(
    deployed: tuple[str, str, datetime, list[str]],
    experiment_id: str,
    moment: datetime,
    later: int,
) -> None:
    # The deployment really created an endpoint with such a name.
    deployed_name, deployed_id, deployed_moment, endpoints = deployed
    assert endpoints == [deployed_name]
    check_name(deployed_name, deployed_id, deployed_moment)

    if not expected_slug(experiment_id):
        with pytest.raises(ValidationError) as err:
            challenger_endpoint_name(experiment_id, moment)
        assert err.value.field == "experiment_id"
        return
    name = challenger_endpoint_name(experiment_id, moment)
    check_name(name, experiment_id, moment)
    # Deterministic, and a different second gives a different name.
    assert challenger_endpoint_name(experiment_id, moment) == name
    other = moment + timedelta(seconds=later)
    if other.year <= 9999:
        assert challenger_endpoint_name(experiment_id, other) != name
