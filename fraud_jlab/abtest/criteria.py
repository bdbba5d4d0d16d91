"""Does the challenger meet the test's success criteria? (design section 8, step 5).

The improvement criterion is a test, not a point estimate: the challenger must beat the
champion's detection rate (share of labelled frauds flagged at the alert threshold) by
``min_improvement_pct`` significantly under the group-sequential design of
:mod:`fraud_jlab.abtest.sequential` (valid when read at every rollout stage), and the
relative gain of ``metric`` must reach ``min_improvement_pct`` as before. Both sides scored
the same records here, so the independent-arms standard error used is conservative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from fraud_jlab.abtest.design import DEFAULT_LOOKS
from fraud_jlab.abtest.sequential import proportion_z, sequential_look
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import SuccessCriteria

LATENCY_STATISTICS = ("avg_latency_ms", "p95_latency_ms", "p99_latency_ms")


@dataclass(frozen=True)
class CriterionCheck:
    """One criterion: its name, whether the challenger passed it, and why."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class CriteriaVerdict:
    """All criteria checked; ``passed`` only when every check passed."""

    passed: bool
    checks: list[CriterionCheck] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return asdict(self)


def evaluate_success_criteria(
    comparison: Mapping[str, Any] | tuple[Any, ...],
    criteria: SuccessCriteria,
    *,
    metric: str = "average_precision",
    latency: str = "p95_latency_ms",
    look: int | None = None,
    information_fractions: Sequence[float] = DEFAULT_LOOKS,
    alpha: float = 0.05,
) -> CriteriaVerdict:
    """Check a ``compare_endpoints`` result against ``criteria``.

    * ``min_accuracy``: the challenger's accuracy (needs labels in the comparison);
    * ``max_latency_ms``: the challenger's ``latency`` statistic (p95 by default);
    * ``min_improvement_pct``: relative gain of ``metric`` over the champion, in percent,
      **and** a significant detection-rate improvement by that margin at ``look`` (1-based
      rollout stage; None: the final look) of the sequential design over
      ``information_fractions`` at one-sided ``alpha``. Needs each side's ``frauds`` and
      ``frauds_flagged`` counts (``compare_endpoints`` with labels gives them).

    Accepts the comparison dict or the whole ``EndpointComparison``. Raises
    ValidationError naming ``comparison`` or ``latency`` for a malformed input.
    """
    if isinstance(comparison, tuple):  # an EndpointComparison
        comparison = comparison[0]
    if not isinstance(comparison, Mapping):
        raise ValidationError("comparison must be a compare_endpoints result", field="comparison")
    if latency not in LATENCY_STATISTICS:
        raise ValidationError(
            f"latency must be one of {', '.join(LATENCY_STATISTICS)}, got {latency!r}",
            field="latency",
        )
    try:
        champion, challenger = comparison["champion"], comparison["challenger"]
        challenger_latency = float(challenger[latency])
    except (KeyError, TypeError) as exc:
        raise ValidationError(
            f"comparison must be a compare_endpoints result with champion/challenger {latency}",
            field="comparison",
        ) from exc

    checks = []
    accuracy = challenger.get("accuracy")
    if accuracy is None:
        checks.append(
            CriterionCheck("min_accuracy", False, "no accuracy: compare the endpoints with labels")
        )
    else:
        checks.append(
            CriterionCheck(
                "min_accuracy",
                accuracy >= criteria.min_accuracy,
                f"challenger accuracy {accuracy:.4f} vs minimum {criteria.min_accuracy:.4f}",
            )
        )
    checks.append(
        CriterionCheck(
            "max_latency_ms",
            challenger_latency <= criteria.max_latency_ms,
            f"challenger {latency} {challenger_latency:.1f} ms vs maximum {criteria.max_latency_ms:.1f} ms",
        )
    )
    new, old = challenger.get(metric), champion.get(metric)
    if new is None or old is None:
        checks.append(
            CriterionCheck(
                "min_improvement_pct", False, f"no {metric}: compare the endpoints with labels"
            )
        )
    else:
        # A champion scoring 0 makes any positive challenger an unbounded improvement.
        gain = (new - old) / old * 100.0 if old > 0 else (math.inf if new > 0 else 0.0)
        shown = (
            f"{metric} {old:.4f} -> {new:.4f} ({gain:+.2f}%) vs minimum "
            f"+{criteria.min_improvement_pct:.2f}%"
        )
        significant, evidence = _significant(
            champion, challenger, criteria, look, information_fractions, alpha
        )
        checks.append(
            CriterionCheck(
                "min_improvement_pct",
                gain >= criteria.min_improvement_pct and significant,
                f"{shown}; {evidence}",
            )
        )
    return CriteriaVerdict(passed=all(c.passed for c in checks), checks=checks)


def _significant(
    champion: Mapping[str, Any],
    challenger: Mapping[str, Any],
    criteria: SuccessCriteria,
    look: int | None,
    fractions: Sequence[float],
    alpha: float,
) -> tuple[bool, str]:
    """The sequential test of the detection rate: (significant, the evidence in words)."""
    try:
        counts = [
            int(side[key])
            for side in (champion, challenger)
            for key in ("frauds_flagged", "frauds")
        ]
    except (KeyError, TypeError, ValueError):
        return False, (
            "no significance test possible: the comparison lacks frauds/frauds_flagged "
            "counts (compare the endpoints with labels)"
        )
    caught_a, frauds_a, caught_b, frauds_b = counts
    _, _, z = proportion_z(
        caught_a, frauds_a, caught_b, frauds_b, criteria.min_improvement_pct / 100.0
    )
    seq = sequential_look(float(z), look or len(fractions), fractions, alpha)
    words = (
        f"detection rate {caught_a}/{frauds_a} -> {caught_b}/{frauds_b} frauds, z {seq.z:.2f} vs "
        f"sequential boundary {seq.efficacy_boundary:.2f} (look {seq.look} of "
        f"{len(fractions)}, alpha {alpha:g})"
    )
    if seq.significant_improvement:
        return True, f"significant: {words}"
    return False, f"not significant: {words}"
