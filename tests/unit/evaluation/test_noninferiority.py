"""Paired AP non-inferiority: agreement with the full bootstrap, and its error rates simulated."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.bootstrap import paired_bootstrap
from fraud_jlab.evaluation.metrics import average_precision
from fraud_jlab.evaluation.noninferiority import paired_ap_lower_bound

N_POS, N_NEG = 100, 20_000
MU = 4.0  # production's separation: AP about 0.8 at 0.5% fraud
SHARED, OWN = 1.0, 0.25  # a retrained model shares most of its errors with production
MARGIN = 0.04
#: Separation whose population AP is 2 x MARGIN below production's (found by bisection on
#: _true_ap; the test re-checks it).
MU_WORSE = 3.658


def _scores(rng: np.random.Generator, sims: int, mu_candidate: float) -> tuple[np.ndarray, ...]:
    y = np.r_[np.ones(N_POS, dtype=np.int8), np.zeros(N_NEG, dtype=np.int8)]
    shared = rng.normal(size=(sims, y.size)) * SHARED
    production = MU * y + shared + rng.normal(size=(sims, y.size)) * OWN
    candidate = mu_candidate * y + shared + rng.normal(size=(sims, y.size)) * OWN
    return y, candidate, production


def _true_ap(mu: float) -> float:
    """AP of a model with separation ``mu`` on a very large sample (the population value)."""
    rng = np.random.default_rng(12345)
    n = 2_000_000
    y = (rng.random(n) < N_POS / (N_POS + N_NEG)).astype(np.int8)
    return average_precision(y, mu * y + rng.normal(size=n) * np.hypot(SHARED, OWN))


def _bounds(mu_candidate: float, sims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, cand, prod = _scores(rng, sims, mu_candidate)
    return np.array(
        [
            paired_ap_lower_bound(y, cand[i], prod[i], n_bootstrap=200, random_state=i).lower_bound
            for i in range(sims)
        ]
    )


def test_point_estimates_and_bound_agree_with_the_full_paired_bootstrap() -> None:
    rng = np.random.default_rng(7)
    y, cand, prod = _scores(rng, 1, MU - 0.3)
    cand[0, :40] = cand[0, 40:80]  # ties
    bound = paired_ap_lower_bound(y, cand[0], prod[0], n_bootstrap=4000, random_state=1)
    assert bound.candidate == pytest.approx(average_precision(y, cand[0]), abs=1e-12)
    assert bound.production == pytest.approx(average_precision(y, prod[0]), abs=1e-12)
    assert bound.n_pos == N_POS and bound.n_rows == N_POS + N_NEG
    # The 90% two-sided lower end of the full (every negative resampled) bootstrap is the
    # one-sided 95% bound: the two resamplings are the same distribution.
    full = paired_bootstrap(y, cand[0], prod[0], n_bootstrap=4000, ci_level=0.90, random_state=2)
    assert bound.lower_bound == pytest.approx(full["average_precision"].low, abs=0.006)


def test_identical_scores_have_a_zero_bound() -> None:
    rng = np.random.default_rng(3)
    y, cand, _ = _scores(rng, 1, MU)
    bound = paired_ap_lower_bound(y, cand[0], cand[0].copy(), n_bootstrap=200)
    assert bound.difference == 0.0 and bound.lower_bound == 0.0


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        paired_ap_lower_bound([0, 1], [0.1, 0.9], [0.2, 0.8], level=1.5)
    assert info.value.field == "level"
    with pytest.raises(ValidationError) as info:
        paired_ap_lower_bound([0, 1], [0.1, 0.9], [0.2], n_bootstrap=200)
    assert info.value.field == "production_scores"


def test_simulated_pass_rates_of_the_non_inferiority_bound() -> None:
    """~100 frauds: an equal candidate passes >= 80%; one worse by 2x the margin <= 5%."""
    # Given a worse candidate whose population AP is 2x the margin below production's
    base = _true_ap(MU)
    assert base - _true_ap(MU_WORSE) == pytest.approx(2 * MARGIN, abs=0.002)
    started = time.perf_counter()
    # When the gate's bound is computed on 200 simulated holdouts of each
    equal_bounds = _bounds(MU, 200, seed=1)
    equal = float(np.mean(equal_bounds > -MARGIN))
    worse = float(np.mean(_bounds(MU_WORSE, 200, seed=2) > -MARGIN))
    print(
        f"\nnon-inferiority (margin {MARGIN}, {N_POS} frauds, production AP {base:.3f}): "
        f"equal candidate passes {equal:.1%}, candidate worse by {2 * MARGIN} passes "
        f"{worse:.1%}; with a margin of 0.01 the equal candidate would pass "
        f"{np.mean(equal_bounds > -0.01):.1%} ({time.perf_counter() - started:.1f}s)"
    )
    # Then the targets hold
    assert equal >= 0.80
    assert worse <= 0.05
