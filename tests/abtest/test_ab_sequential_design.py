"""The group-sequential boundaries and the pre-test design (sample size and duration)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fraud_jlab.abtest.design import DEFAULT_LOOKS, design_drift, design_test
from fraud_jlab.abtest.sequential import (
    crossing_probabilities,
    efficacy_boundaries,
    obf_spending,
    proportion_z,
    sequential_look,
)
from fraud_jlab.errors import ValidationError


def test_one_look_is_the_fixed_horizon_test() -> None:
    assert efficacy_boundaries((1.0,), 0.05) == pytest.approx((1.6449,), abs=1e-3)


def test_four_looks_match_the_published_obrien_fleming_spending_boundaries() -> None:
    # Lan-DeMets O'Brien-Fleming type, one-sided 0.025 (two-sided 0.05): 4.33, 2.96, 2.36, 2.01
    bounds = efficacy_boundaries(DEFAULT_LOOKS, 0.025)

    assert bounds == pytest.approx((4.333, 2.963, 2.359, 2.014), abs=0.01)


def test_the_boundaries_spend_exactly_alpha_under_repeated_looks() -> None:
    rng = np.random.default_rng(7)
    t = np.asarray(DEFAULT_LOOKS)
    walks = np.cumsum(rng.normal(size=(200_000, t.size)) * np.sqrt(np.diff(t, prepend=0.0)), axis=1)
    crossed = (walks / np.sqrt(t) >= np.asarray(efficacy_boundaries(t, 0.05))).any(axis=1)

    assert crossed.mean() == pytest.approx(0.05, abs=0.002)
    assert crossing_probabilities(t, 0.05).sum() == pytest.approx(0.05, abs=1e-4)
    assert obf_spending(1.0, 0.05) == pytest.approx(0.05)


def test_naive_peeking_at_1_645_would_inflate_the_error() -> None:
    # the reason for the design: reading a fixed-horizon z at every stage exceeds alpha
    rng = np.random.default_rng(8)
    t = np.asarray(DEFAULT_LOOKS)
    walks = np.cumsum(rng.normal(size=(100_000, t.size)) * np.sqrt(np.diff(t, prepend=0.0)), axis=1)

    assert ((walks / np.sqrt(t)) >= 1.645).any(axis=1).mean() > 0.09


def test_proportion_z_with_no_data_is_zero_and_finite() -> None:
    diff, se, z = proportion_z(
        np.array([0, 30]), np.array([0, 50]), np.array([0, 40]), np.array([0, 50])
    )

    assert z[0] == 0.0 and z[1] > 0
    assert np.isfinite(se).all() and diff[1] == pytest.approx(0.2)


def test_a_look_past_the_plan_is_the_final_look() -> None:
    look = sequential_look(1.8, 7, DEFAULT_LOOKS)

    assert look.final and look.significant_improvement
    assert look.efficacy_boundary == pytest.approx(efficacy_boundaries(DEFAULT_LOOKS)[-1])
    assert json.dumps(look.to_dict())


@pytest.mark.parametrize("fractions", [(), (0.5, 0.5), (0.0, 1.0), (0.5, 1.2)])
def test_bad_information_fractions_are_rejected(fractions: tuple[float, ...]) -> None:
    with pytest.raises(ValidationError) as err:
        efficacy_boundaries(fractions)

    assert err.value.field == "information_fractions"


def test_design_at_a_fraud_rate_of_0_17_percent() -> None:
    design = design_test(
        baseline_rate=0.6,
        designed_improvement_pct=15,
        fraud_rate=0.0017,
        records_per_day=100_000,
        label_delay_days=30,
    )

    # the sequential design needs a little more than the fixed-horizon test
    fixed = (1.6449 + 0.8416) ** 2 * (0.69 * 0.31 / 0.5 + 0.6 * 0.4 / 0.5) / 0.09**2
    assert fixed < design.frauds_needed < 1.15 * fixed
    assert design.drift > 1.6449 + 0.8416
    assert design.records_needed == pytest.approx(design.frauds_needed / 0.0017, rel=1e-3)
    assert design.days_needed == pytest.approx(design.records_needed / 100_000 + 30)
    assert design.expected_days_if_effect < design.days_needed
    assert "0.170% fraud rate" in design.summary
    assert json.loads(json.dumps(design.to_dict()))["frauds_needed"] == design.frauds_needed


def test_design_drift_reaches_the_power() -> None:
    drift = design_drift(DEFAULT_LOOKS, 0.05, 0.8)

    assert crossing_probabilities(DEFAULT_LOOKS, 0.05, drift).sum() == pytest.approx(0.8, abs=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"baseline_rate": 1.2}, "baseline_rate"),
        ({"fraud_rate": 0.0}, "fraud_rate"),
        ({"records_per_day": 0}, "records_per_day"),
        ({"designed_improvement_pct": 1.0, "min_improvement_pct": 1.0}, "designed_improvement_pct"),
        ({"designed_improvement_pct": 90.0}, "designed_improvement_pct"),
        ({"challenger_share": 1.0}, "challenger_share"),
        ({"label_delay_days": -1}, "label_delay_days"),
    ],
)
def test_design_rejects_out_of_range_inputs(kwargs: dict[str, float], field: str) -> None:
    args: dict[str, float] = {
        "baseline_rate": 0.6,
        "designed_improvement_pct": 15.0,
        "records_per_day": 1000.0,
    }
    args.update(kwargs)
    with pytest.raises(ValidationError) as err:
        design_test(**args)  # type: ignore[arg-type]

    assert err.value.field == field
