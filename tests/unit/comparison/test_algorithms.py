"""compare_algorithms on a small imbalanced data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from fraud_jlab.comparison import ALGORITHMS, compare_algorithms
from fraud_jlab.comparison.algorithms import FIGURE_METRICS
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import HEADLINE_METRICS, HOLDOUT_ARTIFACT
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    X, y = make_classification(
        n_samples=3000, n_features=10, n_informative=5, weights=[0.95], flip_y=0.005, random_state=0
    )
    frame = pd.DataFrame(X, columns=[f"V{i}" for i in range(1, 11)])
    return frame.iloc[:2400], y[:2400], frame.iloc[2400:], y[2400:]


def test_four_algorithms_on_one_split_logged_as_four_runs(
    split: tuple, tracker: SqliteTrackerStore
) -> None:
    X_train, y_train, X_test, y_test = split
    result = compare_algorithms(
        X_train, y_train, X_test, y_test, tracker=tracker, n_bootstrap=50, n_jobs=1
    )

    # One row and one child-less run per algorithm, each evaluated on the same holdout
    assert result.table["algorithm"].tolist() == list(ALGORITHMS)
    assert set(result.runs) == set(ALGORITHMS)
    hashes = set()
    for name, run_id in result.runs.items():
        run = tracker.get_run(run_id)
        assert run.experiment_name == "algorithm-comparison"
        assert run.parent_run_id is None and run.children == []
        assert run.tags["algorithm"] == name
        assert run.metrics["training_time_seconds"] > 0
        for m in HEADLINE_METRICS:
            assert run.metrics[f"{m}_ci_low"] <= run.metrics[m] <= run.metrics[f"{m}_ci_high"]
        assert any(a.path == HOLDOUT_ARTIFACT for a in run.artifacts)
        hashes.add(run.tags["evaluation.holdout_hash"])
    assert len(hashes) == 1

    # The gradient-boosted models learn this easy problem well
    table = result.table.set_index("algorithm")
    assert (table["auc_roc"] > 0.8).all()
    for column in ("training_time_seconds", *[f"{m}_ci_low" for m in HEADLINE_METRICS]):
        assert column in table

    # Fair LightGBM settings are in effect and explained, in the result and on the run
    neg, pos = int((y_train == 0).sum()), int((y_train == 1).sum())
    lgbm = result.settings["LightGBM"]
    assert lgbm["params"]["min_child_weight"] == "1.0"
    assert lgbm["params"]["subsample_freq"] == "1"
    assert lgbm["params"]["verbose"] == "-1"
    assert float(lgbm["params"]["scale_pos_weight"]) == pytest.approx(neg / pos)
    assert "0.04" in lgbm["adjustments"]["min_child_weight"]
    lgbm_run = tracker.get_run(result.runs["LightGBM"])
    assert lgbm_run.params["min_child_weight"] == "1.0"
    assert "adjustment.subsample_freq" in lgbm_run.tags
    assert float(result.settings["XGBoost"]["params"]["scale_pos_weight"]) == pytest.approx(
        neg / pos
    )
    assert result.settings["RandomForest"]["params"]["class_weight"] == "balanced_subsample"
    assert result.settings["NeuralNetwork"]["params"]["mlp__early_stopping"] == "True"
    assert "class_weight" in result.settings["NeuralNetwork"]["adjustments"]

    # One figure with a panel per metric (the design's six plus AP and recall@FPR)
    assert len(result.figure.data) == len(FIGURE_METRICS) == 8
    assert result.figure.data[4].y == tuple(table["auc_roc"])


def test_custom_algorithms_and_subsets(split: tuple, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, X_test, y_test = split
    result = compare_algorithms(
        X_train,
        y_train,
        X_test,
        y_test,
        algorithms={"logreg": LogisticRegression(max_iter=500)},
        tracker=tracker,
        n_bootstrap=20,
        experiment_name="custom",
    )
    assert list(result.runs) == ["logreg"]
    assert result.settings["logreg"]["adjustments"] == {}
    subset = compare_algorithms(
        X_train,
        y_train,
        X_test,
        y_test,
        algorithms=["XGBoost"],
        tracker=tracker,
        n_bootstrap=20,
        n_jobs=1,
    )
    assert list(subset.runs) == ["XGBoost"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"algorithms": ["XGBoost", "CatBoost"]}, "algorithms"),
        ({"algorithms": []}, "algorithms"),
        ({"algorithms": {"bad": object()}}, "algorithms"),
        ({"y_test": np.zeros(600, dtype=int)}, "y_test"),
        ({"X_test": np.zeros((600, 3))}, "X_test"),
        ({"y_train": np.zeros(10, dtype=int)}, "y_train"),
    ],
)
def test_bad_input_is_rejected_before_any_run_is_logged(
    split: tuple, tracker: SqliteTrackerStore, change: dict, field: str
) -> None:
    X_train, y_train, X_test, y_test = split
    args = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test, **change}
    with pytest.raises(ValidationError) as err:
        compare_algorithms(**args, tracker=tracker, n_bootstrap=10)
    assert err.value.field == field
    assert tracker.search_runs().total == 0


def test_nan_features_are_rejected(split: tuple, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, X_test, y_test = split
    X_bad = X_train.copy()
    X_bad.iloc[0, 0] = np.nan
    with pytest.raises(ValidationError) as err:
        compare_algorithms(X_bad, y_train, X_test, y_test, tracker=tracker)
    assert err.value.field == "X_train"


def test_threshold_metrics_at_a_common_fpr_are_reported_and_respect_the_target(
    tracker: SqliteTrackerStore,
) -> None:
    # Given a small fraud-shaped split and a weighted and a differently weighted algorithm
    from sklearn.ensemble import RandomForestClassifier
    from xgboost import XGBClassifier

    from fraud_jlab.comparison.algorithms import AT_FPR_COLUMNS, operating_point_metrics
    from fraud_jlab.datasets import generate_fraud_dataset

    frame = generate_fraud_dataset(6000, fraud_rate=0.02, seed=3)
    X, y = frame.drop(columns="Class"), frame["Class"].to_numpy()
    X_train, X_test, y_train, y_test = X.iloc[:4500], X.iloc[4500:], y[:4500], y[4500:]
    ratio = float((y_train == 0).sum() / (y_train == 1).sum())
    algorithms = {
        "XGBoost": XGBClassifier(
            n_estimators=20, max_depth=3, scale_pos_weight=ratio, n_jobs=1, random_state=0
        ),
        "RandomForest": RandomForestClassifier(
            n_estimators=10, max_depth=5, n_jobs=1, random_state=0
        ),
    }
    # When they are compared
    result = compare_algorithms(
        X_train, y_train, X_test, y_test, algorithms=algorithms, tracker=tracker,
        n_bootstrap=20, n_jobs=1,
    )  # fmt: skip
    # Then every algorithm has the operating-point columns next to the 0.5-threshold ones
    table = result.table.set_index("algorithm")
    for column in (*AT_FPR_COLUMNS, "precision", "recall", "f1_score"):
        assert column in table
    target = 0.001
    for name, row in table.iterrows():
        # and its realised holdout FPR at its threshold_at_fpr is within the target
        proba = algorithms[str(name)].predict_proba(X_test.to_numpy())[:, 1]
        flagged = proba >= row["threshold_at_fpr"]
        assert (flagged & (y_test == 0)).sum() / (y_test == 0).sum() <= target
        assert row["alert_rate_at_fpr"] == pytest.approx(flagged.mean())
        assert row["precision_at_fpr"] == pytest.approx(
            (flagged & (y_test == 1)).sum() / max(flagged.sum(), 1)
        )
        assert row["recall_at_fpr"] == pytest.approx(
            operating_point_metrics(y_test, proba, target)["recall_at_fpr"]
        )
        # and the new metrics are logged on its run
        metrics = tracker.get_run(result.runs[str(name)]).metrics
        for m in ("threshold_at_fpr", "precision_at_fpr", "alert_rate_at_fpr"):
            assert metrics[m] == pytest.approx(row[m])
    # And the notes say which threshold metrics are comparable
    assert any("NOT comparable" in n and "_at_fpr" in n for n in result.notes)
