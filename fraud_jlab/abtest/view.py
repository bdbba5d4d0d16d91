"""What a user reads about an A/B test: ``ABTestView`` (``GET ab-tests/{id}``, ``%fraud ab status``).

:func:`build_view` is a pure function of the persisted state, the captured records
(:mod:`fraud_jlab.abtest.capture`) and the CloudWatch latency; nothing here writes.

- **Design** (``state.design``, frozen at start; computed from the START_* defaults for a
  test started before designs were recorded): labelled frauds, records and days needed to
  detect the designed improvement of the detection rate with the sequential test.
- **Data**: records scored, labelled and still unlabelled, the label cut-off.
- **Readout**: per variant on labelled records only, with 95% CIs
  (:func:`fraud_jlab.abtest.readout.variant_readout` at the alert threshold
  :data:`ALERT_THRESHOLD`), the CloudWatch latency, and for the shadow stage the agreement of
  the two variants' alerts on the same requests.
- **SRM**: the observed split against the split expected from the weights in force when
  each record was scored (the rollout changes them stage by stage).
- **Recommendation**: the look is how many of the design's looks the labelled frauds have
  reached (information fraction = labelled frauds / frauds needed). Before the first look the
  test is not read (``continue``); only the safety checks act: an SRM alarm -> ``stop``, a
  measured challenger p99 above ``max_latency_ms`` -> ``rollback``. From the first look on,
  :func:`fraud_jlab.abtest.decision.decide` applies the success criteria with the
  group-sequential test. The shadow stage is never promoted from (customers did not see the
  challenger): ``continue`` to the live split unless a guardrail fails. A finished test
  says ``none``.
- **Timeline**: the primary metric (detection rate at the threshold, Wilson 95% CI) per
  variant, cumulative, one point per day (at most :data:`MAX_TIMELINE_POINTS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.abtest.capture import CaptureData, LatencyStats
from fraud_jlab.abtest.decision import decide
from fraud_jlab.abtest.design import DEFAULT_LOOKS, design_test
from fraud_jlab.abtest.readout import (
    Readout,
    SampleRatioCheck,
    sample_ratio_check,
    variant_readout,
    wilson,
)
from fraud_jlab.abtest.state import ABTestState
from fraud_jlab.models.abtest import SuccessCriteria

#: The alert threshold on the endpoint's score (the decision rule's counts use it).
ALERT_THRESHOLD = 0.5
#: Design inputs at start: the champion's detection rate, the improvement the test is
#: designed to detect (relative, %), the fraud rate and the traffic (records per day).
START_BASELINE_RATE = 0.60
START_DESIGNED_IMPROVEMENT_PCT = 15.0
START_FRAUD_RATE = 0.0017
START_RECORDS_PER_DAY = 100_000.0
MAX_TIMELINE_POINTS = 60
CHAMPION = "Champion"
CHALLENGER = "Challenger"
Action = Literal["promote", "continue", "stop", "rollback", "none"]


class ABDataSummary(BaseModel):
    """How much the readout rests on."""

    model_config = ConfigDict(extra="forbid")

    records_scored: int
    records_labelled: int
    records_unlabelled: int
    malformed: int = Field(description="Capture or ground-truth lines that did not parse.")
    frauds_labelled: int
    label_cutoff: str | None = Field(description="ISO time of the newest label read.")
    information_fraction: float | None = Field(
        description="Labelled frauds over the frauds the design needs."
    )
    truncated: bool = Field(description="More capture existed than one read takes.")


class ABLatency(BaseModel):
    """A variant's model latency over the test (CloudWatch ModelLatency)."""

    model_config = ConfigDict(extra="forbid")

    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    invocations: int | None
    source: Literal["cloudwatch", "cloudwatch-max", "none"] = Field(
        description="cloudwatch (percentiles), cloudwatch-max (p99 is the maximum) or none."
    )


class ABRecommendation(BaseModel):
    """What to do now and why, in words."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: str
    look: int | None = None
    statistic: float | None = Field(default=None, description="The sequential test's z.")
    boundary: float | None = Field(default=None, description="Its efficacy boundary.")
    improvement: float | None = None


class ABTimelinePoint(BaseModel):
    """The primary metric of a variant on labelled records up to ``at``."""

    model_config = ConfigDict(extra="forbid")

    at: str
    variant: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    n_labelled: int


class ABTestView(BaseModel):
    """An A/B test as the sidebar, the magic and the widget show it."""

    model_config = ConfigDict(extra="forbid")

    state: ABTestState
    design: dict[str, Any] | None
    data: ABDataSummary
    readout: dict[str, Any] | None
    srm: dict[str, Any] | None
    latency: dict[str, ABLatency]
    recommendation: ABRecommendation
    timeline: list[ABTimelinePoint]


def start_design(
    criteria: SuccessCriteria, *, records_per_day: float = START_RECORDS_PER_DAY
) -> dict[str, Any]:
    """The design frozen at start (the START_* inputs, the criteria's margin)."""
    designed = max(START_DESIGNED_IMPROVEMENT_PCT, criteria.min_improvement_pct + 5.0)
    return design_test(
        baseline_rate=START_BASELINE_RATE,
        designed_improvement_pct=designed,
        fraud_rate=START_FRAUD_RATE,
        records_per_day=records_per_day,
        min_improvement_pct=criteria.min_improvement_pct,
    ).to_dict()


def _iso(moment: datetime | float | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(float(moment), tz=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _weights_at(state: ABTestState, times: np.ndarray) -> dict[str, np.ndarray]:
    """Per record, each variant's share of traffic when it was scored (from the history)."""
    steps = [(e.timestamp.timestamp(), e.weights) for e in state.history if e.weights]
    steps.sort(key=lambda s: s[0])
    if not steps:
        steps = [(state.started_at.timestamp(), state.weights)]
    starts = np.array([s[0] for s in steps])
    idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(steps) - 1)
    out: dict[str, np.ndarray] = {}
    for name in (CHAMPION, CHALLENGER):
        share = np.array(
            [float(w.get(name, 0.0)) / max(float(sum(w.values())), 1e-12) for _, w in steps]
        )
        out[name] = share[idx]
    return out


def srm_check(state: ABTestState, cols: Mapping[str, np.ndarray]) -> SampleRatioCheck | None:
    """The split check on live stages (None in the shadow stage or without records)."""
    if state.stage < 0 or cols["variant"].size == 0:
        return None
    # records scored while a shadow copy ran are not a split: only live-stage records count
    since_live = _live_since(state)
    mask = (cols["time"] >= since_live) & ~_changing(state, cols["time"])
    if not mask.any():
        return None
    shares = _weights_at(state, cols["time"][mask])
    expected = {name: float(shares[name].sum()) for name in (CHAMPION, CHALLENGER)}
    observed = {name: int((cols["variant"][mask] == name).sum()) for name in expected}
    if sum(observed.values()) == 0 or min(expected.values()) <= 0:
        return None
    return sample_ratio_check(observed, expected)


def _changing(state: ABTestState, times: np.ndarray) -> np.ndarray:
    """Records whose stage is not known: scored while weights were being changed.

    Capture times have one-second resolution (``inferenceTime``): a record stamped ``t`` was
    scored in ``[t, t + 1)``; it is ambiguous when that second meets the window from the
    change's start to its verified end.
    """
    out = np.zeros(times.shape, dtype=bool)
    for event in state.history:
        if not event.weights:
            continue
        began = (event.change_started_at or event.timestamp).timestamp()
        out |= (times + 1.0 > began) & (times <= event.timestamp.timestamp())
    return out


def _live_since(state: ABTestState) -> float:
    """When the two-variant split went live (the start, or the advance out of shadow)."""
    if state.shadow_config is None:
        return state.started_at.timestamp()
    advances = [e.timestamp.timestamp() for e in state.history if e.action == "advance"]
    return min(advances) if advances else math.inf


def _timeline(cols: Mapping[str, np.ndarray], start: float, now: float) -> list[ABTimelinePoint]:
    labelled = cols["label"] >= 0
    if not labelled.any():
        return []
    span_days = max(1, math.ceil((now - start) / 86400))
    step = max(1, math.ceil(span_days / MAX_TIMELINE_POINTS))
    edges = [start + 86400 * d for d in range(step, span_days + step, step)]
    flagged = cols["score"] >= ALERT_THRESHOLD
    fraud = labelled & (cols["label"] == 1)
    out: list[ABTimelinePoint] = []
    for name in (CHAMPION, CHALLENGER):
        mine = cols["variant"] == name
        if not mine.any():
            continue
        for edge in edges:
            upto = mine & (cols["time"] < min(edge, now + 1))
            frauds = int((upto & fraud).sum())
            est = wilson(int((upto & fraud & flagged).sum()), frauds)
            out.append(
                ABTimelinePoint(
                    at=str(_iso(min(edge, now))),
                    variant=name,
                    metric="detection_rate",
                    value=est.value,
                    low=est.low,
                    high=est.high,
                    n_labelled=int((upto & labelled).sum()),
                )
            )
    return out


def _with_latency(readout: Readout, latency: Mapping[str, LatencyStats]) -> Readout:
    variants = {
        name: replace(
            v,
            latency_ms={
                "p50": latency[name].p50_ms,
                "p95": latency[name].p95_ms,
                "p99": latency[name].p99_ms,
            }
            if name in latency
            else v.latency_ms,
        )
        for name, v in readout.variants.items()
    }
    return replace(readout, variants=variants)


def _recommend(
    state: ABTestState,
    readout: Readout | None,
    srm: SampleRatioCheck | None,
    latency: Mapping[str, LatencyStats],
    criteria: SuccessCriteria,
    design: Mapping[str, Any],
    info: float | None,
) -> ABRecommendation:
    if state.status != "running":
        return ABRecommendation(action="none", reason=f"The test is {state.status}: no action.")
    if srm is not None and srm.alarm:
        return ABRecommendation(action="stop", reason=srm.detail)
    p99 = latency.get(CHALLENGER, LatencyStats(None, None, None, None, "none")).p99_ms
    if p99 is not None and p99 > criteria.max_latency_ms:
        return ABRecommendation(
            action="rollback",
            reason=f"guardrail breached: challenger p99 latency {p99:.1f} ms > "
            f"{criteria.max_latency_ms:g} ms",
        )
    if state.stage < 0:
        return ABRecommendation(
            action="continue",
            reason="shadow stage: the challenger scores a copy of the traffic and no customer "
            "sees it; advance to the live split to test it (no promotion from a shadow stage)",
        )
    fractions: Sequence[float] = design.get("information_fractions") or DEFAULT_LOOKS
    needed = int(design.get("frauds_needed") or 0)
    have = 0 if readout is None else sum(v.frauds for v in readout.variants.values())
    look = sum(1 for f in fractions if info is not None and info + 1e-12 >= f)
    both = readout is not None and {CHAMPION, CHALLENGER} <= set(readout.variants)
    if look == 0 or not both or readout is None:
        first = math.ceil(fractions[0] * needed)
        return ABRecommendation(
            action="continue",
            reason=f"{have} of the {needed:,} labelled frauds the design needs; the first look "
            f"is at {first:,} (reading earlier would inflate the false-promotion rate)",
            look=None,
        )
    decision = decide(
        readout,
        criteria,
        look=look,
        champion=CHAMPION,
        challenger=CHALLENGER,
        information_fractions=fractions,
        alpha=float(design.get("alpha", 0.05)),
        srm=srm,
    )
    return ABRecommendation(
        action=decision.recommendation,
        reason=decision.reason,
        look=look,
        statistic=decision.look.z,
        boundary=decision.look.efficacy_boundary,
        improvement=decision.improvement,
    )


def build_view(
    state: ABTestState,
    capture: CaptureData,
    latency: Mapping[str, LatencyStats],
    criteria: SuccessCriteria,
    *,
    now: datetime,
    target_fpr: float,
) -> ABTestView:
    """The view of ``state`` given what production scored (pure: reads and writes nothing)."""
    design = getattr(state, "design", None) or start_design(criteria)
    cols = capture.arrays()
    labelled = cols["label"] >= 0
    frauds = int((cols["label"] == 1).sum())
    needed = int(design.get("frauds_needed") or 0)
    info = frauds / needed if needed > 0 else None
    readout: Readout | None = None
    if cols["variant"].size and labelled.any():
        readout = variant_readout(
            cols["variant"],
            cols["score"],
            np.where(labelled, cols["label"], -1),
            cols["time"],
            threshold=ALERT_THRESHOLD,
            record_id=cols["record_id"] if state.stage < 0 else None,
            target_fpr=target_fpr,
        )
        readout = _with_latency(readout, latency)
    srm = srm_check(state, cols)
    data = ABDataSummary(
        records_scored=int(cols["variant"].size),
        records_labelled=int(labelled.sum()),
        records_unlabelled=int((~labelled).sum()),
        malformed=capture.malformed,
        frauds_labelled=frauds,
        label_cutoff=_iso(capture.label_cutoff),
        information_fraction=info,
        truncated=capture.truncated,
    )
    return ABTestView(
        state=state,
        design=design,
        data=data,
        readout=None if readout is None else readout.to_dict(),
        srm=None if srm is None else srm.to_dict(),
        latency={name: ABLatency(**stats.to_dict()) for name, stats in latency.items()},
        recommendation=_recommend(state, readout, srm, latency, criteria, design, info),
        timeline=_timeline(cols, state.started_at.timestamp(), now.timestamp()),
    )


def view_window(state: ABTestState, now: datetime) -> tuple[datetime, datetime]:
    """The span the readout covers: the start to now (at least a minute)."""
    return state.started_at, max(now, state.started_at + timedelta(minutes=1))


__all__ = [
    "ALERT_THRESHOLD",
    "ABDataSummary",
    "ABLatency",
    "ABRecommendation",
    "ABTestView",
    "ABTimelinePoint",
    "build_view",
    "start_design",
    "view_window",
]
