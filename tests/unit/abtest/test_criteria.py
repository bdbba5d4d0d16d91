"""Success criteria of an A/B test applied to a comparison result."""

from __future__ import annotations

from typing import Any

import pytest

from fraud_jlab.abtest import ABTestingManager, evaluate_success_criteria
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import SuccessCriteria

CRITERIA = SuccessCriteria(min_accuracy=0.9, max_latency_ms=100, min_improvement_pct=1.0)


def comparison(
    *,
    accuracy: float = 0.95,
    p95: float = 40.0,
    champion_ap: float = 0.80,
    challenger_ap: float = 0.82,
    champion_caught: int = 300,
    challenger_caught: int = 400,
    frauds: int = 500,
) -> dict[str, Any]:
    # detection counts (frauds flagged of labelled frauds) for the significance test
    def side(ap: float, acc: float, caught: int) -> dict[str, Any]:
        return {
            "frauds": frauds,
            "frauds_flagged": caught,
            "avg_latency_ms": p95 / 2,
            "p95_latency_ms": p95,
            "p99_latency_ms": p95 * 1.5,
            "accuracy": acc,
            "average_precision": ap,
        }

    return {
        "champion": side(champion_ap, 0.95, champion_caught),
        "challenger": side(challenger_ap, accuracy, challenger_caught),
    }


def test_better_faster_accurate_challenger_passes() -> None:
    verdict = evaluate_success_criteria(comparison(), CRITERIA)

    assert verdict.passed
    assert [c.name for c in verdict.checks] == [
        "min_accuracy",
        "max_latency_ms",
        "min_improvement_pct",
    ]
    assert "+2.50%" in verdict.checks[2].detail


@pytest.mark.parametrize(
    ("kwargs", "failing"),
    [
        ({"accuracy": 0.89}, "min_accuracy"),
        ({"p95": 100.5}, "max_latency_ms"),
        ({"challenger_ap": 0.805}, "min_improvement_pct"),  # +0.6%, below the 1% minimum
        ({"challenger_ap": 0.70}, "min_improvement_pct"),
    ],
)
def test_each_criterion_can_fail_on_its_own(kwargs: dict[str, float], failing: str) -> None:
    verdict = evaluate_success_criteria(comparison(**kwargs), CRITERIA)

    assert not verdict.passed
    assert [c.name for c in verdict.checks if not c.passed] == [failing]


def test_comparison_without_labels_cannot_pass() -> None:
    data = comparison()
    for side in ("champion", "challenger"):
        del data[side]["accuracy"], data[side]["average_precision"]

    verdict = evaluate_success_criteria(data, CRITERIA)

    assert not verdict.passed
    assert "labels" in verdict.checks[0].detail
    assert verdict.to_dict()["checks"][1]["passed"] is True


def test_manager_uses_the_configured_minimum_accuracy() -> None:
    manager = ABTestingManager(FraudJlab(min_accuracy=0.97), sagemaker_client=object())

    verdict = manager.challenger_meets_criteria(comparison(accuracy=0.95))

    assert [c.name for c in verdict.checks if not c.passed] == ["min_accuracy"]


@pytest.mark.parametrize("bad", [{}, {"champion": {}, "challenger": {}}, "text"])
def test_malformed_comparison_is_rejected(bad: Any) -> None:
    with pytest.raises(ValidationError) as err:
        evaluate_success_criteria(bad, CRITERIA)

    assert err.value.field == "comparison"


def test_an_observed_gain_that_is_not_significant_does_not_pass() -> None:
    # the case: a few frauds, the challenger "better" by chance (3/5 -> 4/5)
    verdict = evaluate_success_criteria(
        comparison(frauds=5, champion_caught=3, challenger_caught=4), CRITERIA
    )

    assert not verdict.passed
    check = verdict.checks[2]
    assert check.name == "min_improvement_pct" and not check.passed
    assert "+2.50%" in check.detail and "not significant" in check.detail


def test_early_looks_need_stronger_evidence() -> None:
    # z about 2.3: significant at the final look of the 4-look design, not at the first
    data = comparison(champion_caught=300, challenger_caught=336)

    assert evaluate_success_criteria(data, CRITERIA).passed
    early = evaluate_success_criteria(data, CRITERIA, look=1)
    assert not early.passed
    assert "look 1 of 4" in early.checks[2].detail


def test_comparison_without_counts_cannot_pass_the_improvement() -> None:
    data = comparison()
    for side in ("champion", "challenger"):
        del data[side]["frauds"]

    verdict = evaluate_success_criteria(data, CRITERIA)

    assert [c.name for c in verdict.checks if not c.passed] == ["min_improvement_pct"]
    assert "no significance test possible" in verdict.checks[2].detail
