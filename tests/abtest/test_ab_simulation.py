"""False-promotion rate and power of the A/B decision rule, measured by seeded simulation.

Generative model (binormal): a legitimate record's score is N(0, 1), a fraud's N(mu, 1); the
alert threshold is the score with a 0.1% false-positive rate, so a variant's detection rate
(the primary metric) is ``Phi(mu - threshold)``. Per look, each record goes to the challenger
with the planned share; frauds arrive at 0.17%. The counts per look are drawn exactly
(binomial) with numpy for every simulated test at once; :func:`decide` -- the production rule
-- reads every look of every test (peeking at every stage) until it stops recommending
"continue".
"""

from __future__ import annotations

import numpy as np
import pytest

from fraud_jlab.abtest.decision import decide
from fraud_jlab.abtest.design import DEFAULT_LOOKS, ABTestDesign, design_test
from fraud_jlab.abtest.readout import Readout, variant_from_counts
from fraud_jlab.abtest.traffic import default_success_criteria
from fraud_jlab.models.abtest import SuccessCriteria

N_TESTS = 2000
FRAUD_RATE = 0.0017
FPR = 0.001
BASELINE = 0.60  # the champion's detection rate at the alert threshold
DESIGNED_PCT = 15.0  # the designed improvement: 0.60 -> 0.69
CRITERIA = default_success_criteria(0.9)  # >= 1% better, p99 <= 100 ms, accuracy >= 0.9
LATENCY = {"p50": 20.0, "p95": 40.0, "p99": 60.0}


def _design(criteria: SuccessCriteria = CRITERIA) -> ABTestDesign:
    return design_test(
        baseline_rate=BASELINE,
        designed_improvement_pct=DESIGNED_PCT,
        min_improvement_pct=criteria.min_improvement_pct,
        fraud_rate=FRAUD_RATE,
        records_per_day=100_000,
    )


def _simulate(
    challenger_rate: float,
    design: ABTestDesign,
    seed: int,
    criteria: SuccessCriteria = CRITERIA,
) -> tuple[float, list[int]]:
    """Share of ``N_TESTS`` tests in which the rule recommended "promote" at some look."""
    rng = np.random.default_rng(seed)
    looks = np.asarray(design.information_fractions)
    per_look = np.diff(np.concatenate([[0.0], looks])) * design.records_needed
    shape = (N_TESTS, looks.size)
    records = np.broadcast_to(np.round(per_look).astype(np.int64), shape)
    chal_n = rng.binomial(records, design.challenger_share)
    alpha_fp = FPR
    counts = {}
    for arm, n, rate in (
        ("champion", records - chal_n, BASELINE),
        ("challenger", chal_n, challenger_rate),
    ):
        frauds = rng.binomial(n, FRAUD_RATE)
        caught = rng.binomial(frauds, rate)
        false_alerts = rng.binomial(n - frauds, alpha_fp)
        counts[arm] = {
            k: np.cumsum(v, axis=1)
            for k, v in {"n": n, "frauds": frauds, "caught": caught, "fa": false_alerts}.items()
        }
    promoted = 0
    stopped_at = [0] * (looks.size + 1)
    for i in range(N_TESTS):
        for k in range(looks.size):
            variants = {
                arm: variant_from_counts(
                    arm,
                    n=int(c["n"][i, k]),
                    n_labelled=int(c["n"][i, k]),
                    frauds=int(c["frauds"][i, k]),
                    frauds_flagged=int(c["caught"][i, k]),
                    alerts=int(c["caught"][i, k] + c["fa"][i, k]),
                    labelled_alerts=int(c["caught"][i, k] + c["fa"][i, k]),
                    latency_ms=LATENCY,
                )
                for arm, c in counts.items()
            }
            readout = Readout(variants, threshold=0.0, target_fpr=FPR, label_cutoff=None)
            decision = decide(
                readout, criteria, look=k + 1, information_fractions=design.information_fractions
            )
            if decision.recommendation != "continue":
                promoted += decision.recommendation == "promote"
                stopped_at[k + 1] += 1
                break
        else:
            stopped_at[0] += 1
    return promoted / N_TESTS, stopped_at


@pytest.fixture(scope="module")
def design() -> ABTestDesign:
    return _design()


def _report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    print(text)
    with capsys.disabled():  # shown in the test log even without -s
        print(f"\n{text}")


@pytest.mark.parametrize(("criteria", "seed"), [(CRITERIA, 20240901)])
def test_same_model_in_both_arms_is_promoted_at_most_5_percent(
    criteria: SuccessCriteria, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    design = _design(criteria)
    rate, stopped = _simulate(BASELINE, design, seed=seed, criteria=criteria)

    _report(
        capsys,
        f"A/B simulation, same model in both arms (margin +{criteria.min_improvement_pct:g}%): "
        f"promotion recommended in {rate:.1%} of {N_TESTS} tests (read at each of "
        f"{len(DEFAULT_LOOKS)} looks; decided per look {stopped[1:]}); design "
        f"{design.frauds_needed} frauds, {design.records_needed} records",
    )
    assert rate <= 0.05


def test_the_strict_null_spends_exactly_alpha(capsys: pytest.CaptureFixture[str]) -> None:
    # margin 0: equal models sit on the null's boundary, where the design spends exactly
    # alpha = 5% over the four looks; the measured rate must be within 3 standard errors.
    strict = SuccessCriteria(min_accuracy=0.9, max_latency_ms=100, min_improvement_pct=0.0)
    design = _design(strict)
    rate, stopped = _simulate(BASELINE, design, seed=20240903, criteria=strict)

    _report(
        capsys,
        f"A/B simulation, same model in both arms (margin +0%, the null's boundary): promotion "
        f"recommended in {rate:.1%} of {N_TESTS} tests (decided per look {stopped[1:]})",
    )
    assert abs(rate - 0.05) <= 3 * (0.05 * 0.95 / N_TESTS) ** 0.5


def test_designed_improvement_is_promoted_at_least_80_percent(
    design: ABTestDesign, capsys: pytest.CaptureFixture[str]
) -> None:
    rate, stopped = _simulate(design.designed_rate, design, seed=20240902)

    _report(
        capsys,
        f"A/B simulation, designed improvement {BASELINE:.2f} -> {design.designed_rate:.2f}: "
        f"promotion recommended in {rate:.1%} of {N_TESTS} tests (decided per look "
        f"{stopped[1:]})",
    )
    assert rate >= 0.80
