"""Point metrics: agreement with scikit-learn, fraud metrics, cost threshold, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import (
    HEADLINE_METRICS,
    MetricWarning,
    average_precision,
    classification_metrics,
    confusion_counts,
    cost_optimal_threshold,
    recall_at_fpr,
    roc_auc,
    threshold_at_fpr,
    threshold_metrics,
)


@pytest.mark.parametrize("seed", range(12))
def test_metrics_match_scikit_learn_including_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    # Odd seeds: coarse scores with many ties, where AUC/AP definitions usually diverge.
    score = np.round(rng.random(n) * 10) / 10 if seed % 2 else rng.random(n)
    score[0] = 0.9  # at least one predicted positive at 0.5

    m = classification_metrics(y, score, threshold=0.5, target_fpr=0.05)

    pred = (score >= 0.5).astype(int)
    assert m["auc_roc"] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert m["average_precision"] == pytest.approx(average_precision_score(y, score), abs=1e-12)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert m["precision"] == pytest.approx(precision_score(y, pred), abs=1e-12)
    assert m["recall"] == pytest.approx(recall_score(y, pred), abs=1e-12)
    assert m["f1_score"] == pytest.approx(f1_score(y, pred), abs=1e-12)
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    assert m["recall_at_fpr"] == pytest.approx(tpr[fpr <= 0.05 + 1e-12].max(), abs=1e-12)
    assert set(HEADLINE_METRICS) | {"threshold"} == set(m)


def test_recall_at_fpr_takes_the_best_threshold_within_the_fpr_budget() -> None:
    # Given 1,000 negatives (one scoring 0.95, one 0.85) and 4 frauds at 0.99, 0.9, 0.8, 0.1
    y = np.r_[np.zeros(1000), np.ones(4)]
    score = np.r_[np.full(998, 0.05), 0.95, 0.85, 0.99, 0.9, 0.8, 0.1]
    # When at most 1 false positive is allowed (FPR 0.1%): threshold 0.9 catches 2 frauds
    assert recall_at_fpr(y, score, target_fpr=0.001) == 0.5
    assert threshold_at_fpr(y, score, target_fpr=0.001) == 0.9
    # With no false positive allowed only the 0.99 fraud is caught
    assert recall_at_fpr(y, score, target_fpr=0.0005) == 0.25
    # A 0.2% budget admits both high negatives; the next negative scores 0.05, so a threshold
    # just above it catches every fraud, even the one at 0.1
    assert recall_at_fpr(y, score, target_fpr=0.002) == 1.0


def test_recall_at_fpr_counts_tied_negatives_as_false_positives() -> None:
    # A fraud tied with a negative cannot be caught without flagging that negative.
    y = np.array([0, 0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.9, 0.9, 0.95])
    assert recall_at_fpr(y, score, target_fpr=0.1) == 0.5  # 0 false positives allowed
    assert recall_at_fpr(y, score, target_fpr=0.34) == 1.0  # 1 allowed


def test_standalone_ranking_metrics_accept_any_real_scores() -> None:
    y = [0, 0, 1, 1]
    logits = [-3.0, 1.0, 0.5, 7.0]
    assert roc_auc(y, logits) == pytest.approx(0.75)
    assert average_precision(y, logits) == pytest.approx(average_precision_score(y, logits))


def test_pandas_and_bool_inputs_are_accepted() -> None:
    y = pd.Series([False, True, False, True])
    score = pd.Series([0.1, 0.8, 0.6, 0.7])
    m = classification_metrics(y, score)
    assert m["precision"] == pytest.approx(2 / 3)


def test_no_predicted_positive_gives_precision_zero_with_a_warning() -> None:
    y = [0, 1, 0, 1]
    with pytest.warns(MetricWarning, match="no row is predicted positive"):
        m = classification_metrics(y, [0.1, 0.2, 0.3, 0.4], threshold=0.5)
    assert m["precision"] == 0.0
    assert m["f1_score"] == 0.0
    assert m["recall"] == 0.0
    with pytest.warns(MetricWarning):
        assert threshold_metrics(y, [0.1, 0.2, 0.3, 0.4])["precision"] == 0.0


@pytest.mark.parametrize(
    ("y", "score", "field", "message"),
    [
        ([], [], "y_true", "empty"),
        ([0, 1, 1], [0.1, 0.2], "y_score", "same length"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "y_score", "NaN"),
        ([0, 1, 1], [0.1, np.inf, 0.3], "y_score", "NaN or infinite"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "y_true", "no fraud"),
        ([1, 1], [0.1, 0.2], "y_true", "no legitimate"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "y_true", "only 0 and 1"),
        (["a", "b"], [0.1, 0.2], "y_true", "only 0 and 1"),
        ([0, 1], ["x", 0.2], "y_score", "numeric"),
        ([[0, 1]], [[0.1, 0.2]], "y_true", "one-dimensional"),
    ],
)
def test_degenerate_inputs_raise_validation_error_naming_the_field(
    y: list, score: list, field: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        classification_metrics(y, score)
    assert err.value.field == field


def test_probability_mode_rejects_scores_outside_unit_interval() -> None:
    with pytest.raises(ValidationError, match=r"\[0, 1\]") as err:
        classification_metrics([0, 1], [0.2, 1.5], probabilities=True)
    assert err.value.field == "y_score"


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, float("nan")])
def test_target_fpr_must_be_inside_zero_one(bad: float) -> None:
    with pytest.raises(ValidationError) as err:
        recall_at_fpr([0, 1], [0.1, 0.9], target_fpr=bad)
    assert err.value.field == "target_fpr"


def test_cost_optimal_threshold_with_constant_costs() -> None:
    # Given frauds at 0.9 and 0.4 and negatives at 0.8, 0.3, 0.2
    y = [1, 0, 1, 0, 0]
    score = [0.9, 0.8, 0.4, 0.3, 0.2]
    # A miss costs 10, an alarm 1: flag down to 0.4 (one alarm, no miss) = cost 1
    r = cost_optimal_threshold(y, score, fn_cost=10, fp_cost=1)
    assert r.threshold == 0.4
    assert r.total_cost == 1.0
    assert (r.false_negatives, r.false_positives) == (0, 1)
    assert r.expected_cost == pytest.approx(0.2)
    # Alarms cost more than a miss: flag only the 0.9 row (one miss = 10 < two alarms... cost 10)
    r2 = cost_optimal_threshold(y, score, fn_cost=10, fp_cost=50)
    assert r2.threshold == 0.9
    assert r2.total_cost == 10.0
    # The curve has one entry per distinct score plus "flag nothing" (+inf).
    assert r.thresholds[0] == np.inf
    assert len(r.costs) == 6


def test_cost_optimal_threshold_per_transaction_amounts() -> None:
    y = [1, 0, 1, 0]
    score = [0.9, 0.7, 0.5, 0.1]
    amounts = [1000.0, 5.0, 2.0, 1.0]
    # Missing the 2.00 fraud costs less than the 0.7 false alarm (fp_cost 3): stop at 0.9.
    r = cost_optimal_threshold(y, score, fn_cost=1.0, fp_cost=3.0, amounts=amounts)
    assert r.threshold == 0.9
    assert r.total_cost == pytest.approx(2.0)
    # Without amounts every miss costs fn_cost=1 too, and the answer is the same here...
    # ...but a 0.5 fp_cost makes flagging down to 0.5 worth it.
    assert (
        cost_optimal_threshold(y, score, fn_cost=1.0, fp_cost=0.5, amounts=amounts).threshold == 0.5
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fn_cost": -1, "fp_cost": 1}, "fn_cost"),
        ({"fn_cost": 1, "fp_cost": float("nan")}, "fp_cost"),
        ({"fn_cost": 1, "fp_cost": 1, "amounts": [1.0, -2.0]}, "amounts"),
        ({"fn_cost": 1, "fp_cost": 1, "amounts": [1.0]}, "amounts"),
    ],
)
def test_cost_threshold_rejects_bad_costs(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        cost_optimal_threshold([0, 1], [0.2, 0.8], **kwargs)
    assert err.value.field == field


def test_confusion_counts_layout() -> None:
    cm = confusion_counts([0, 0, 1, 1, 1], [0, 1, 0, 1, 1])
    assert cm.tolist() == [[1, 1], [1, 2]]
