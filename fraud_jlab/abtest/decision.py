"""The A/B decision: ``SuccessCriteria`` applied with the group-sequential test.

Promote only when the primary metric (detection rate) beats the champion's by
``min_improvement_pct`` significantly at the current look of the design in
:mod:`fraud_jlab.abtest.sequential` (valid under reading at every stage) and no guardrail is
breached; otherwise continue, stop or roll back, with the reason in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fraud_jlab.abtest.design import DEFAULT_LOOKS
from fraud_jlab.abtest.readout import Readout, SampleRatioCheck, _num
from fraud_jlab.abtest.sequential import SequentialLook, proportion_z, sequential_look
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import SuccessCriteria


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


Recommendation = Literal["promote", "continue", "stop", "rollback"]


@dataclass(frozen=True)
class Decision:
    """The recommendation, its reason in words, and the evidence behind it.

    ``improvement`` is the tested difference ``p_B - (1 + m) p_A`` of the detection rates
    (``m`` = ``min_improvement_pct`` / 100); ``guardrails`` maps each guardrail to whether
    it holds (is not breached).
    """

    recommendation: Recommendation
    reason: str
    look: SequentialLook
    improvement: float
    guardrails: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "reason": self.reason,
            "look": self.look.to_dict(),
            "improvement": _num(self.improvement),
            "guardrails": dict(self.guardrails),
        }


def decide(
    readout: Readout,
    criteria: SuccessCriteria,
    *,
    look: int,
    champion: str = "champion",
    challenger: str = "challenger",
    information_fractions: Sequence[float] = DEFAULT_LOOKS,
    alpha: float = 0.05,
    alert_rate_margin_pct: float = 20.0,
    srm: SampleRatioCheck | None = None,
) -> Decision:
    """Apply ``criteria`` with the sequential test at ``look`` (1-based stage).

    - ``rollback``: a guardrail is worse beyond its margin -- the challenger's observed p99
      latency above ``max_latency_ms`` (or none measured), its accuracy's 95% upper bound
      below ``min_accuracy``, its alert rate significantly above the champion's plus
      ``alert_rate_margin_pct`` percent (two-sample z at the sequential boundary) -- or the detection rate is significantly
      worse (harm boundary). Guardrails are judged on evidence, not point estimates: a
      better model flags more frauds and so raises the alert rate a little by design;
    - ``promote``: the detection rate beats the champion's by ``min_improvement_pct``
      significantly (efficacy boundary) and no guardrail is breached;
    - ``stop``: sample ratio mismatch, or the final look without a significant improvement;
    - ``continue`` otherwise.
    """
    if champion not in readout.variants or challenger not in readout.variants:
        raise ValidationError(
            f"readout must hold variants {champion!r} and {challenger!r}, has {sorted(readout.variants)}",
            field="readout",
        )
    a, b = readout.variants[champion], readout.variants[challenger]
    m = criteria.min_improvement_pct / 100.0
    diff, _, z = proportion_z(a.frauds_flagged, a.frauds, b.frauds_flagged, b.frauds, m)
    _, _, z_harm = proportion_z(a.frauds_flagged, a.frauds, b.frauds_flagged, b.frauds, 0.0)
    seq = sequential_look(float(z), look, information_fractions, alpha)
    harm = sequential_look(float(z_harm), look, information_fractions, alpha).significant_harm
    p99 = b.latency_ms.get("p99")
    acc, ar_a, ar_b = b.accuracy, a.alert_rate, b.alert_rate
    breached: dict[str, str] = {}
    if p99 is None:
        breached["latency_p99"] = "no latency measured for the challenger"
    elif p99 > criteria.max_latency_ms:
        breached["latency_p99"] = f"p99 latency {p99:.1f} ms > {criteria.max_latency_ms:g} ms"
    if acc.high is not None and acc.high < criteria.min_accuracy:
        breached["accuracy"] = (
            f"accuracy {acc.value:.4f} (95% upper bound {acc.high:.4f}) < {criteria.min_accuracy:g}"
        )
    # alert rate: challenger vs champion + margin, a two-sample test at the sequential boundary
    margin_ar = alert_rate_margin_pct / 100.0
    _, _, z_alert = proportion_z(a.alerts, a.n, b.alerts, b.n, margin_ar)
    if a.n > 0 and b.n > 0 and z_alert >= seq.efficacy_boundary:
        breached["alert_rate"] = (
            f"alert rate {_share(ar_b.value)} significantly above the champion's "
            f"{_share(ar_a.value)} +{alert_rate_margin_pct:g}% (z {float(z_alert):.2f})"
        )
    ok = {name: name not in breached for name in ("latency_p99", "accuracy", "alert_rate")}
    gain = (
        f"detection rate {_share(a.detection_rate.value)} -> {_share(b.detection_rate.value)} "
        f"({a.frauds_flagged}/{a.frauds} vs {b.frauds_flagged}/{b.frauds} frauds), "
        f"z {seq.z:.2f} vs boundary {seq.efficacy_boundary:.2f} at look {look} "
        f"(margin +{criteria.min_improvement_pct:g}%)"
    )

    def verdict(rec: Recommendation, reason: str) -> Decision:
        return Decision(rec, reason, seq, float(diff), ok)

    if srm is not None and srm.alarm:
        return verdict("stop", srm.detail)
    if breached:
        return verdict("rollback", "guardrail breached: " + "; ".join(breached.values()))
    if harm:
        return verdict("rollback", f"challenger significantly worse: {gain}")
    if seq.significant_improvement:
        return verdict("promote", f"significant improvement, no guardrail breached: {gain}")
    if seq.final:
        return verdict("stop", f"no significant improvement at the final look: {gain}")
    return verdict("continue", f"not significant yet: {gain}")


__all__ = ["Decision", "Recommendation", "decide"]
