"""Before an A/B test starts: how many records, frauds and days it needs to be worth running.

The test is the group-sequential design of :mod:`fraud_jlab.abtest.sequential` (one-sided
O'Brien-Fleming-type alpha spending over the planned looks) on the primary metric, the
detection rate (share of frauds the variant's alert threshold flags). The drift ``theta``
the z-statistic must have at the final look for the design to reach ``power`` is found
exactly (it is a little above the fixed-horizon ``z_{1-alpha} + z_{power}``: the price of
being allowed to read every stage); the frauds needed follow from the binomial variance of
both arms at the designed rates with the Fleiss-Tytun-Ury continuity correction, the
records from the fraud rate, the days from the traffic.

At a 0.17% fraud rate the frauds, not the records, are scarce: the result says so in words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fraud_jlab.abtest.sequential import crossing_probabilities, efficacy_boundaries
from fraud_jlab.errors import ValidationError

#: Four equally spaced looks (the rollout stages of the default plan).
DEFAULT_LOOKS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class ABTestDesign:
    """The sample size and duration of the sequential A/B test; ``to_dict`` is JSON-ready."""

    baseline_rate: float
    designed_rate: float
    min_improvement_pct: float
    alpha: float
    power: float
    information_fractions: tuple[float, ...]
    efficacy_boundaries: tuple[float, ...]
    drift: float
    challenger_share: float
    frauds_needed: int
    frauds_champion: int
    frauds_challenger: int
    records_needed: int
    fraud_rate: float
    records_per_day: float
    label_delay_days: float
    days_needed: float
    expected_days_if_effect: float
    summary: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["information_fractions"] = list(self.information_fractions)
        out["efficacy_boundaries"] = list(self.efficacy_boundaries)
        return out


def _unit(value: float, field: str, *, closed_low: bool = False) -> float:
    v = float(value)
    if not (0 <= v < 1 if closed_low else 0 < v < 1) or math.isnan(v):
        raise ValidationError(f"{field} must be in ({0}, 1), got {value}", field=field)
    return v


def design_drift(
    fractions: Sequence[float] = DEFAULT_LOOKS, alpha: float = 0.05, power: float = 0.8
) -> float:
    """The final-look mean of the z-statistic at which the sequential test has ``power``."""
    from scipy.optimize import brentq

    _unit(power, "power")
    return float(
        brentq(
            lambda d: float(crossing_probabilities(fractions, alpha, d).sum()) - power,
            0.0,
            20.0,
            xtol=1e-6,
        )
    )


def design_test(
    *,
    baseline_rate: float,
    designed_improvement_pct: float,
    fraud_rate: float = 0.0017,
    records_per_day: float,
    min_improvement_pct: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    challenger_share: float = 0.5,
    looks: Sequence[float] = DEFAULT_LOOKS,
    label_delay_days: float = 0.0,
) -> ABTestDesign:
    """Sample size and duration to detect ``designed_improvement_pct`` (relative gain of the
    detection rate over ``baseline_rate``) with the sequential test.

    ``min_improvement_pct`` is the tested margin (the null is "not better by that much"), so
    the designed improvement must exceed it. ``challenger_share`` is the challenger's share
    of the traffic, ``label_delay_days`` how long labels (chargebacks) take to arrive.
    Raises ValidationError naming the field for an out-of-range input.
    """
    p_a = _unit(baseline_rate, "baseline_rate")
    rate = _unit(fraud_rate, "fraud_rate")
    share = _unit(challenger_share, "challenger_share")
    if not records_per_day > 0:
        raise ValidationError(
            f"records_per_day must be > 0, got {records_per_day}", field="records_per_day"
        )
    if label_delay_days < 0:
        raise ValidationError(
            f"label_delay_days must be >= 0, got {label_delay_days}", field="label_delay_days"
        )
    if min_improvement_pct < 0:
        raise ValidationError(
            f"min_improvement_pct must be >= 0, got {min_improvement_pct}",
            field="min_improvement_pct",
        )
    if not designed_improvement_pct > min_improvement_pct:
        raise ValidationError(
            f"designed_improvement_pct must exceed min_improvement_pct ({min_improvement_pct}), "
            f"got {designed_improvement_pct}",
            field="designed_improvement_pct",
        )
    p_b = p_a * (1 + designed_improvement_pct / 100.0)
    if not p_b < 1:
        raise ValidationError(
            f"designed_improvement_pct takes the detection rate {p_a} to {p_b:.4g}; it must stay "
            "below 1",
            field="designed_improvement_pct",
        )
    m = min_improvement_pct / 100.0
    fractions = tuple(float(x) for x in looks)
    bounds = efficacy_boundaries(fractions, alpha)
    drift = design_drift(fractions, alpha, power)
    delta = p_b - (1 + m) * p_a
    per_fraud_var = p_b * (1 - p_b) / share + (1 + m) ** 2 * p_a * (1 - p_a) / (1 - share)
    # normal approximation, then the Fleiss-Tytun-Ury continuity correction for two binomial
    # proportions (r = challenger / champion frauds): the normal approximation alone falls
    # short of the power with a few hundred frauds per arm.
    n_champion = (drift / delta) ** 2 * per_fraud_var * (1 - share)
    r = share / (1 - share)
    n_champion *= (1 + math.sqrt(1 + 2 * (r + 1) / (r * n_champion * delta))) ** 2 / 4
    frauds = math.ceil(n_champion / (1 - share))
    records = math.ceil(frauds / rate)
    days = records / records_per_day + label_delay_days
    stop = crossing_probabilities(fractions, alpha, drift)
    # expected stopping fraction if the designed effect is real (no crossing: the full test)
    expected_t = float((stop * fractions).sum() + (1 - stop.sum()) * fractions[-1])
    expected_days = records * expected_t / records_per_day + label_delay_days
    summary = (
        f"to detect a detection rate of {p_b:.3g} vs {p_a:.3g} (+{designed_improvement_pct:g}%) "
        f"at alpha {alpha:g} with power {power:g} over {len(fractions)} looks: {frauds:,} labelled "
        f"frauds ({records:,} records at a {rate:.3%} fraud rate), {days:.1f} days at "
        f"{records_per_day:,.0f} records/day"
        + (f" incl. {label_delay_days:g} days label delay" if label_delay_days else "")
        + f"; {expected_days:.1f} days expected if the effect is real"
    )
    return ABTestDesign(
        baseline_rate=p_a,
        designed_rate=p_b,
        min_improvement_pct=float(min_improvement_pct),
        alpha=float(alpha),
        power=float(power),
        information_fractions=fractions,
        efficacy_boundaries=bounds,
        drift=drift,
        challenger_share=share,
        frauds_needed=frauds,
        frauds_champion=math.ceil(frauds * (1 - share)),
        frauds_challenger=math.ceil(frauds * share),
        records_needed=records,
        fraud_rate=rate,
        records_per_day=float(records_per_day),
        label_delay_days=float(label_delay_days),
        days_needed=days,
        expected_days_if_effect=expected_days,
        summary=summary,
    )


__all__ = ["DEFAULT_LOOKS", "ABTestDesign", "design_drift", "design_test"]
