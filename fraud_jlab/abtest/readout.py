"""The A/B readout per variant on labelled records, the sample-ratio check, and the decision.

Fraud labels arrive late (chargebacks): only records labelled by ``label_cutoff`` (label
known, i.e. not -1/None/NaN, and timestamp <= cut-off) are scored; the readout says how many
are still unlabelled. Per variant: average precision and recall at the fixed FPR (intervals
from :func:`fraud_jlab.evaluation.intervals.ranking_intervals`), alert rate, precision of
alerts, detection rate (recall at the alert threshold, the sequential test's primary) and
accuracy with Wilson intervals, latency p50/p95/p99. With record ids, records scored by both
variants (shadow mode) give the share of alert decisions the variants agree on.

:func:`fraud_jlab.abtest.decision.decide` turns a readout into a recommendation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.intervals import MIN_FRAUDS, ranking_intervals
from fraud_jlab.promotion.gates import DEFAULT_GATE_TARGET_FPR

#: Planned-split alarm level of the sample-ratio-mismatch check.
SRM_ALPHA = 0.001
_Z95 = NormalDist().inv_cdf(0.975)


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True)
class Estimate:
    """A value with its interval (None when not estimable)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _num(self.value),
            "low": _num(self.low),
            "high": _num(self.high),
            "method": self.method,
        }


def wilson(successes: int, n: int, level: float = 0.95) -> Estimate:
    """Share ``successes / n`` with its Wilson score interval (None when ``n`` is 0)."""
    if n <= 0:
        return Estimate(None, None, None, "wilson")
    z = NormalDist().inv_cdf((1 + level) / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), "wilson")


@dataclass(frozen=True)
class VariantReadout:
    """One variant's readout on its labelled records."""

    variant: str
    n: int
    n_labelled: int
    n_unlabelled: int
    frauds: int
    frauds_flagged: int
    alerts: int
    average_precision: Estimate
    recall_at_fpr: Estimate
    alert_rate: Estimate
    alert_precision: Estimate
    detection_rate: Estimate
    accuracy: Estimate
    latency_ms: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "variant",
                "n",
                "n_labelled",
                "n_unlabelled",
                "frauds",
                "frauds_flagged",
                "alerts",
            )
        }
        for name in (
            "average_precision",
            "recall_at_fpr",
            "alert_rate",
            "alert_precision",
            "detection_rate",
            "accuracy",
        ):
            out[name] = getattr(self, name).to_dict()
        out["latency_ms"] = {k: _num(v) for k, v in self.latency_ms.items()}
        return out


@dataclass(frozen=True)
class Readout:
    """Every variant's readout, the label cut-off, and the shadow agreement."""

    variants: dict[str, VariantReadout]
    threshold: float
    target_fpr: float
    label_cutoff: float | None
    agreement: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "variants": {k: v.to_dict() for k, v in self.variants.items()},
            "threshold": self.threshold,
            "target_fpr": self.target_fpr,
            "label_cutoff": _num(self.label_cutoff),
            "n_unlabelled": sum(v.n_unlabelled for v in self.variants.values()),
            "agreement": self.agreement.to_dict() if self.agreement else None,
        }


def _labels(label: Any, n: int) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in label], dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(f"label must have {n} entries, got {arr.shape}", field="label")
    known = np.isfinite(arr) & (arr != -1)
    if not np.isin(arr[known], (0.0, 1.0)).all():
        raise ValidationError("label values must be 0, 1, or -1/None (unlabelled)", field="label")
    return np.where(known, arr, -1.0)


def _column(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,) or not np.isfinite(arr).all():
        raise ValidationError(f"{name} must be {n} finite numbers", field=name)
    return arr


def _ranking(y: np.ndarray, s: np.ndarray, target_fpr: float) -> tuple[Estimate, Estimate]:
    if y.size == 0 or y.min() == y.max():
        return Estimate(None, method="needs both classes"), Estimate(
            None, method="needs both classes"
        )
    iv = ranking_intervals(y, s, target_fpr=target_fpr, n_bootstrap=1000)
    ap, rec = iv["average_precision"], iv["recall_at_fpr"]
    return (
        Estimate(ap.estimate, ap.low, ap.high, ap.method),
        Estimate(rec.estimate, rec.low, rec.high, rec.method),
    )


def variant_from_counts(
    variant: str,
    *,
    n: int,
    n_labelled: int,
    frauds: int,
    frauds_flagged: int,
    alerts: int,
    labelled_alerts: int,
    latency_ms: Mapping[str, float | None] | None = None,
) -> VariantReadout:
    """A variant's readout from aggregated counts (no scores: AP and recall at FPR are None).

    ``alerts`` are flagged records among all ``n``, ``labelled_alerts`` among the labelled.
    """
    if not 0 <= frauds_flagged <= frauds <= n_labelled <= n or not 0 <= alerts <= n:
        raise ValidationError(
            "counts must satisfy 0 <= frauds_flagged <= frauds <= n_labelled <= n and alerts <= n",
            field="counts",
        )
    false_alerts = labelled_alerts - frauds_flagged
    correct = n_labelled - frauds - false_alerts + frauds_flagged
    none = Estimate(None, method="needs scores")
    return VariantReadout(
        variant=variant,
        n=n,
        n_labelled=n_labelled,
        n_unlabelled=n - n_labelled,
        frauds=frauds,
        frauds_flagged=frauds_flagged,
        alerts=alerts,
        average_precision=none,
        recall_at_fpr=none,
        alert_rate=wilson(alerts, n),
        alert_precision=wilson(frauds_flagged, labelled_alerts),
        detection_rate=wilson(frauds_flagged, frauds),
        accuracy=wilson(correct, n_labelled),
        latency_ms=dict(latency_ms or {"p50": None, "p95": None, "p99": None}),
    )


def variant_readout(
    variant: Sequence[str] | Any,
    score: Any,
    label: Any,
    timestamp: Any,
    *,
    threshold: float,
    label_cutoff: float | None = None,
    latency_ms: Any = None,
    record_id: Any = None,
    target_fpr: float = DEFAULT_GATE_TARGET_FPR,
) -> Readout:
    """The readout of every variant (see the module docstring). Arrays have one entry per
    scored record; ``label`` -1/None/NaN means not yet labelled; records after
    ``label_cutoff`` count as unlabelled. Raises ValidationError naming the bad field."""
    names = np.asarray(variant).astype(str)
    n = names.size
    if n == 0:
        raise ValidationError("variant must name at least one scored record", field="variant")
    s = _column(score, n, "score")
    y = _labels(label, n)
    ts = _column(timestamp, n, "timestamp")
    lat = None if latency_ms is None else _column(latency_ms, n, "latency_ms")
    if label_cutoff is not None:
        y = np.where(ts <= float(label_cutoff), y, -1.0)
    flagged = s >= threshold
    out: dict[str, VariantReadout] = {}
    for name in sorted(set(names.tolist())):
        mine = names == name
        lab = mine & (y >= 0)
        yl, sl, fl = y[lab].astype(np.int8), s[lab], flagged[lab]
        frauds = int(yl.sum())
        tp = int((fl & (yl == 1)).sum())
        correct = int((fl == (yl == 1)).sum())
        ap, rec = _ranking(yl, sl, target_fpr)
        if 0 < frauds < MIN_FRAUDS:
            ap = Estimate(ap.value, None, None, "too few frauds to estimate")
        lq: dict[str, float | None] = {"p50": None, "p95": None, "p99": None}
        if lat is not None and mine.any():
            p50, p95, p99 = np.percentile(lat[mine], [50, 95, 99])
            lq = {"p50": float(p50), "p95": float(p95), "p99": float(p99)}
        out[name] = VariantReadout(
            variant=name,
            n=int(mine.sum()),
            n_labelled=int(lab.sum()),
            n_unlabelled=int(mine.sum() - lab.sum()),
            frauds=frauds,
            frauds_flagged=tp,
            alerts=int(flagged[mine].sum()),
            average_precision=ap,
            recall_at_fpr=rec,
            alert_rate=wilson(int(flagged[mine].sum()), int(mine.sum())),
            alert_precision=wilson(tp, int(fl.sum())),
            detection_rate=wilson(tp, frauds),
            accuracy=wilson(correct, int(lab.sum())),
            latency_ms=lq,
        )
    agreement = None
    if record_id is not None:
        ids = np.asarray(record_id).astype(str)
        if ids.shape != (n,):
            raise ValidationError(f"record_id must have {n} entries", field="record_id")
        vs = sorted(out)
        if len(vs) == 2:
            a, b = (names == vs[0]), (names == vs[1])
            fa = dict(zip(ids[a].tolist(), flagged[a].tolist(), strict=True))
            shared = [
                (fa[i], f)
                for i, f in zip(ids[b].tolist(), flagged[b].tolist(), strict=True)
                if i in fa
            ]
            agreement = wilson(sum(x == z for x, z in shared), len(shared))
    return Readout(out, float(threshold), float(target_fpr), label_cutoff, agreement)


@dataclass(frozen=True)
class SampleRatioCheck:
    """Chi-square test of the observed split against the planned weights."""

    observed: dict[str, int]
    expected: dict[str, float]
    chi_square: float
    p_value: float
    alarm: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": dict(self.observed),
            "expected": dict(self.expected),
            "chi_square": _num(self.chi_square),
            "p_value": _num(self.p_value),
            "alarm": self.alarm,
            "detail": self.detail,
        }


def sample_ratio_check(
    observed: Mapping[str, int], weights: Mapping[str, float], alpha: float = SRM_ALPHA
) -> SampleRatioCheck:
    """Sample-ratio mismatch: alarm when the chi-square p-value is below ``alpha`` (0.001)."""
    from scipy.stats import chi2

    if set(observed) != set(weights) or len(weights) < 2:
        raise ValidationError(
            "observed and weights must name the same two or more variants", field="weights"
        )
    total_w = float(sum(weights.values()))
    if total_w <= 0 or any(w < 0 for w in weights.values()):
        raise ValidationError("weights must be >= 0 with a positive sum", field="weights")
    names = sorted(weights)
    obs = np.array([int(observed[k]) for k in names], dtype=np.float64)
    if (obs < 0).any():
        raise ValidationError("observed counts must be >= 0", field="observed")
    exp = obs.sum() * np.array([weights[k] / total_w for k in names])
    if ((exp == 0) & (obs > 0)).any():
        stat, p = math.inf, 0.0
    else:
        pos = exp > 0
        stat = float((((obs - exp) ** 2)[pos] / exp[pos]).sum())
        p = float(chi2.sf(stat, int(pos.sum()) - 1)) if obs.sum() > 0 else 1.0
    alarm = p < alpha
    detail = (
        f"sample ratio mismatch: p = {p:.2g} < {alpha:g}; the split is not the planned one, "
        "the readout cannot be trusted"
        if alarm
        else f"split as planned (chi-square p = {p:.3g})"
    )
    return SampleRatioCheck(
        dict(zip(names, obs.astype(int).tolist(), strict=True)),
        dict(zip(names, exp.tolist(), strict=True)),
        stat,
        p,
        alarm,
        detail,
    )


__all__ = [
    "SRM_ALPHA",
    "Estimate",
    "Readout",
    "SampleRatioCheck",
    "VariantReadout",
    "sample_ratio_check",
    "variant_from_counts",
    "variant_readout",
    "wilson",
]
