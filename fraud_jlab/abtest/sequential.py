"""A group-sequential test of the A/B primary metric, valid when the readout is read at every stage.

Choice: a one-sided **group-sequential design with Lan-DeMets O'Brien-Fleming-type alpha
spending**, ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``, over the planned looks (the
rollout stages). At look ``k`` (information fraction ``t_k``) the challenger is declared
better only when ``Z_k >= c_k``; the boundaries ``c_k`` are computed exactly for the
Brownian-motion model of the accumulating z-statistic (numerical integration of the
continuation density, Armitage-McPherson-Rowe recursion), so the probability of ever
crossing under the null is ``alpha`` however many of the planned looks are read. Early looks
need overwhelming evidence (``c_1`` is large), the final one is close to the fixed-horizon
``z_{1-alpha}``; that is why peeking at every stage does not inflate the false-promotion rate.

The same spending gives a symmetric **harm boundary** ``Z_k <= -c_k`` (challenger worse),
which recommends a rollback.

The primary metric is a proportion per arm -- by default the **detection rate** (recall of
the alert threshold: share of labelled frauds the variant flags), whose standard error is
binomial and fast -- and the null hypothesis is "the challenger is not better than the
champion by ``min_improvement_pct``": ``Z = (p_B - (1 + m) p_A) / SE``.

Information fractions are the planned ones (from :mod:`fraud_jlab.abtest.design`); a look
beyond the last planned one is treated as the final look.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError

FloatArray = NDArray[np.float64]
_NORMAL = NormalDist()
_GRID = 1201


def obf_spending(t: float | FloatArray, alpha: float) -> FloatArray:
    """One-sided O'Brien-Fleming-type cumulative alpha spent at information fraction ``t``."""
    tt = np.clip(np.asarray(t, dtype=np.float64), 1e-12, 1.0)
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    from scipy.special import ndtr

    out: FloatArray = 2.0 - 2.0 * ndtr(z / np.sqrt(tt))
    return out


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    t = tuple(float(x) for x in fractions)
    if not t or any(not 0 < x <= 1 for x in t) or any(b <= a for a, b in itertools.pairwise(t)):
        raise ValidationError(
            f"information fractions must be increasing values in (0, 1], got {list(t)}",
            field="information_fractions",
        )
    return t


def _check_alpha(alpha: float) -> float:
    if not 0 < alpha < 0.5:
        raise ValidationError(f"alpha must be in (0, 0.5), got {alpha}", field="alpha")
    return float(alpha)


@lru_cache(maxsize=256)
def _boundaries(fractions: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    from scipy.optimize import brentq
    from scipy.special import ndtr

    spent = obf_spending(np.array(fractions), alpha)
    increments = np.diff(np.concatenate([[0.0], spent]))
    bounds: list[float] = []
    # subdensity of W(t) = Z sqrt(t) on the continuation region, on a grid
    grid: FloatArray = np.zeros(0)
    dens: FloatArray = np.zeros(0)
    prev_t = 0.0
    for k, (t, a_k) in enumerate(zip(fractions, increments, strict=True)):
        if k == 0:
            c = _NORMAL.inv_cdf(1 - max(float(a_k), 1e-15))
            bounds.append(c)
            hi = c * np.sqrt(t)
            grid = np.linspace(-10 * np.sqrt(t), hi, _GRID)
            dens = np.exp(-(grid**2) / (2 * t)) / np.sqrt(2 * np.pi * t)
            prev_t = t
            continue
        dt = t - prev_t
        weights = dens * np.gradient(grid)  # trapezoid-like quadrature weights
        sd = np.sqrt(dt)

        def crossing(
            c: float,
            t: float = t,
            sd: float = sd,
            weights: FloatArray = weights,
            grid: FloatArray = grid,
        ) -> float:
            return float((weights * ndtr((grid - c * np.sqrt(t)) / sd)).sum())

        target = max(float(a_k), 1e-15)
        if crossing(-10.0) < target:
            c = -10.0
        else:
            c = float(brentq(lambda x, target=target: crossing(x) - target, -10.0, 40.0, xtol=1e-7))
        bounds.append(c)
        hi = c * np.sqrt(t)
        new_grid = np.linspace(-10 * np.sqrt(t), hi, _GRID)
        kern = np.exp(-((new_grid[:, None] - grid[None, :]) ** 2) / (2 * dt)) / np.sqrt(
            2 * np.pi * dt
        )
        dens = kern @ weights
        grid = new_grid
        prev_t = t
    return tuple(bounds)


def crossing_probabilities(
    fractions: Sequence[float], alpha: float = 0.05, drift: float = 0.0
) -> FloatArray:
    """Probability of first crossing the efficacy boundary at each look when
    ``W(t) ~ N(drift * t, t)`` (``drift`` = the z-statistic's mean at the final look).

    ``drift = 0`` gives the alpha spent per look; the sum at the designed drift is the power.
    """
    from scipy.special import ndtr

    t_all = _check_fractions(fractions)
    bounds = efficacy_boundaries(t_all, alpha)
    out = np.zeros(len(t_all))
    grid: FloatArray = np.zeros(0)
    dens: FloatArray = np.zeros(0)
    prev_t = 0.0
    for k, (t, c) in enumerate(zip(t_all, bounds, strict=True)):
        hi = c * np.sqrt(t)
        new_grid = np.linspace(
            drift * t - 10 * np.sqrt(t), max(hi, drift * t - 9 * np.sqrt(t)), _GRID
        )
        if k == 0:
            out[k] = float(ndtr((drift * t - hi) / np.sqrt(t)))
            dens = np.exp(-((new_grid - drift * t) ** 2) / (2 * t)) / np.sqrt(2 * np.pi * t)
        else:
            dt = t - prev_t
            weights = dens * np.gradient(grid)
            out[k] = float((weights * ndtr((grid + drift * dt - hi) / np.sqrt(dt))).sum())
            kern = np.exp(
                -((new_grid[:, None] - grid[None, :] - drift * dt) ** 2) / (2 * dt)
            ) / np.sqrt(2 * np.pi * dt)
            dens = kern @ weights
        grid = new_grid
        prev_t = t
    return out


def efficacy_boundaries(fractions: Sequence[float], alpha: float = 0.05) -> tuple[float, ...]:
    """Z-scale boundaries ``c_k`` of the one-sided OBF-spending design at the planned looks."""
    return _boundaries(_check_fractions(fractions), _check_alpha(alpha))


def proportion_z(
    successes_a: FloatArray | float,
    n_a: FloatArray | float,
    successes_b: FloatArray | float,
    n_b: FloatArray | float,
    margin: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised ``(difference, se, z)`` for ``p_B - (1 + margin) p_A`` (0 where undefined).

    With margin 0 the standard error uses the pooled rate (the null's common rate), else
    each arm's rate; one success and one failure are added per arm (or pool), so a look with
    no detected frauds gives a finite ``z``, and ``z = 0`` when an arm has no frauds.
    """
    sa, na = np.asarray(successes_a, dtype=np.float64), np.asarray(n_a, dtype=np.float64)
    sb, nb = np.asarray(successes_b, dtype=np.float64), np.asarray(n_b, dtype=np.float64)
    pa = np.divide(sa, na, out=np.zeros(np.broadcast(sa, na).shape), where=na > 0)
    pb = np.divide(sb, nb, out=np.zeros(np.broadcast(sb, nb).shape), where=nb > 0)
    diff = pb - (1 + margin) * pa
    # Wilson-like shrinkage (add one success and one failure per arm) keeps the SE positive.
    qa = (sa + 1) / (na + 2)
    qb = (sb + 1) / (nb + 2)
    var = qb * (1 - qb) / np.maximum(nb, 1) + (1 + margin) ** 2 * qa * (1 - qa) / np.maximum(na, 1)
    if margin == 0:
        pooled = (sa + sb + 1) / (na + nb + 2)
        var = pooled * (1 - pooled) * (1 / np.maximum(na, 1) + 1 / np.maximum(nb, 1))
    se = np.sqrt(var)
    ok = (na > 0) & (nb > 0)
    z = np.where(ok, diff / se, 0.0)
    return diff, se, z


@dataclass(frozen=True)
class SequentialLook:
    """The sequential test at one look: statistic, boundary, and what it says."""

    look: int
    information_fraction: float
    z: float
    efficacy_boundary: float
    harm_boundary: float
    alpha_spent: float
    final: bool

    @property
    def significant_improvement(self) -> bool:
        return self.z >= self.efficacy_boundary

    @property
    def significant_harm(self) -> bool:
        return self.z <= self.harm_boundary

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "look": self.look,
            "information_fraction": self.information_fraction,
            "z": self.z,
            "efficacy_boundary": self.efficacy_boundary,
            "harm_boundary": self.harm_boundary,
            "alpha_spent": self.alpha_spent,
            "final": self.final,
            "significant_improvement": self.significant_improvement,
            "significant_harm": self.significant_harm,
        }


def sequential_look(
    z: float, look: int, fractions: Sequence[float], alpha: float = 0.05
) -> SequentialLook:
    """Compare ``z`` at ``look`` (1-based; past the plan counts as the final look) with the design."""
    bounds = efficacy_boundaries(fractions, alpha)
    if look < 1:
        raise ValidationError(f"look must be >= 1, got {look}", field="look")
    k = min(look, len(bounds)) - 1
    c = bounds[k]
    return SequentialLook(
        look=look,
        information_fraction=float(fractions[k]),
        z=float(z) if np.isfinite(z) else 0.0,
        efficacy_boundary=c,
        harm_boundary=-c,
        alpha_spent=float(obf_spending(fractions[k], alpha)),
        final=k == len(bounds) - 1,
    )


__all__ = [
    "SequentialLook",
    "crossing_probabilities",
    "efficacy_boundaries",
    "obf_spending",
    "proportion_z",
    "sequential_look",
]
