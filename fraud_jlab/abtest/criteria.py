"""Does the challenger meet the test's success criteria? (design section 8, step 5)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

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
) -> CriteriaVerdict:
    """Check a ``compare_endpoints`` result against ``criteria``.

    * ``min_accuracy``: the challenger's accuracy (needs labels in the comparison);
    * ``max_latency_ms``: the challenger's ``latency`` statistic (p95 by default);
    * ``min_improvement_pct``: relative gain of ``metric`` over the champion, in percent.

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
        checks.append(
            CriterionCheck(
                "min_improvement_pct",
                gain >= criteria.min_improvement_pct,
                f"{metric} {old:.4f} -> {new:.4f} ({gain:+.2f}%) vs minimum "
                f"+{criteria.min_improvement_pct:.2f}%",
            )
        )
    return CriteriaVerdict(passed=all(c.passed for c in checks), checks=checks)
