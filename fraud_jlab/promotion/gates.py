"""Promotion gates: the conditions a run must meet before it may reach production.

One module used by the REST API, the sidebar, ``%fraud`` and the A/B flow, so they never
disagree. Every gate is always evaluated; a metric the run does not carry FAILS its gate
(nothing is ever "skipped"), so ``min_accuracy`` alone can never let a run through.

- ``min_accuracy``: ``accuracy >= FraudJlab.min_accuracy`` (the seed's rule, kept; at 0.17%
  fraud a model that flags nothing has accuracy 0.998, hence the floors below).
- ``average_precision_floor``: ``average_precision >= max(FraudJlab.min_average_precision,
  FraudJlab.min_average_precision_lift x the fraud rate of the run's holdout)``. A model that
  ranks at random has AP equal to the fraud rate; the run must record that rate (metric
  ``holdout_fraud_rate``, or tags ``evaluation.n_positives`` / ``evaluation.n_rows``).
- ``recall_at_fpr_floor``: ``recall_at_fpr >= FraudJlab.min_recall_at_fpr``, measured at
  ``FraudJlab.gate_target_fpr`` (the run's ``evaluation.target_fpr`` tag must agree).
- ``average_precision_vs_production``: paired non-inferiority against the run in production
  (see :mod:`fraud_jlab.promotion.noninferiority`): both runs' stored holdout scores on the
  same rows, the gate passes when the one-sided 95% lower bound of the paired AP difference
  is above ``-FraudJlab.max_average_precision_drop``. Runs not scored on the same rows fail
  it (``force`` with a reason still overrides, and the ledger records the override). With no
  production run recorded it passes, saying so: there is nothing to be inferior to.
- ``run_status``: the run finished (status ``completed``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraud_jlab.evaluation.noninferiority import PairedApBound
from fraud_jlab.promotion.models import Gate
from fraud_jlab.promotion.noninferiority import Unpaired

#: The recall-at-FPR gate's default false-positive rate (0.1%).
DEFAULT_GATE_TARGET_FPR = 0.001


@dataclass(frozen=True)
class GatePolicy:
    """The thresholds of every gate (``GatePolicy.from_settings(settings)`` reads the traits)."""

    min_accuracy: float = 0.90
    min_average_precision_lift: float = 3.0
    min_average_precision: float = 0.0
    min_recall_at_fpr: float = 0.25
    gate_target_fpr: float = DEFAULT_GATE_TARGET_FPR
    max_average_precision_drop: float = 0.04

    @classmethod
    def from_settings(cls, settings: Any) -> GatePolicy:
        return cls(
            min_accuracy=float(settings.min_accuracy),
            min_average_precision_lift=float(settings.min_average_precision_lift),
            min_average_precision=float(settings.min_average_precision),
            min_recall_at_fpr=float(settings.min_recall_at_fpr),
            gate_target_fpr=float(settings.gate_target_fpr),
            max_average_precision_drop=float(settings.max_average_precision_drop),
        )


def _finite(metrics: Mapping[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def holdout_fraud_rate(
    metrics: Mapping[str, Any], tags: Mapping[str, str] | None = None
) -> tuple[float | None, int | None]:
    """(fraud rate, number of frauds) of the holdout a run was evaluated on, when recorded.

    From the metrics ``holdout_fraud_rate`` / ``holdout_n_pos`` (written by
    :class:`~fraud_jlab.evaluation.ModelEvaluator`), else the tags ``evaluation.n_positives``
    and ``evaluation.n_rows`` of older runs. (None, None) when neither is there.
    """
    rate = _finite(metrics, "holdout_fraud_rate")
    n_pos_value = _finite(metrics, "holdout_n_pos")
    n_pos = int(n_pos_value) if n_pos_value is not None else None
    tags = tags or {}
    try:
        tag_pos = int(tags["evaluation.n_positives"])
        tag_rows = int(tags["evaluation.n_rows"])
    except (KeyError, ValueError):
        tag_pos = tag_rows = -1
    if n_pos is None and tag_pos >= 0:
        n_pos = tag_pos
    if rate is None and tag_pos >= 0 and tag_rows > 0:
        rate = tag_pos / tag_rows
    if rate is not None and not 0 < rate < 1:
        rate = None
    return rate, n_pos


def _accuracy_gate(metrics: Mapping[str, Any], policy: GatePolicy) -> Gate:
    accuracy = _finite(metrics, "accuracy")
    if accuracy is None:
        return Gate(
            name="min_accuracy",
            passed=False,
            detail=f"the run has no accuracy metric; required accuracy >= {policy.min_accuracy:g}",
        )
    ok = accuracy >= policy.min_accuracy
    return Gate(
        name="min_accuracy",
        passed=ok,
        detail=f"accuracy {accuracy:.6g} {'>=' if ok else '<'} required {policy.min_accuracy:g}",
    )


def _ap_floor_gate(
    metrics: Mapping[str, Any], tags: Mapping[str, str] | None, policy: GatePolicy
) -> Gate:
    name = "average_precision_floor"
    ap = _finite(metrics, "average_precision")
    rate, n_pos = holdout_fraud_rate(metrics, tags)
    frauds = f", {n_pos} frauds" if n_pos is not None else ""
    if ap is None:
        return Gate(
            name=name,
            passed=False,
            detail="the run has no average_precision metric; evaluate it on a holdout first",
            n_pos=n_pos,
        )
    if rate is None:
        return Gate(
            name=name,
            passed=False,
            detail=(
                f"average_precision {ap:.4g}, but the run does not record its holdout's fraud "
                "rate (metric holdout_fraud_rate), so the floor "
                f"{policy.min_average_precision_lift:g} x fraud rate cannot be checked; "
                "evaluate it with ModelEvaluator"
            ),
            n_pos=n_pos,
        )
    floor = max(policy.min_average_precision, policy.min_average_precision_lift * rate)
    ok = ap >= floor
    return Gate(
        name=name,
        passed=ok,
        detail=(
            f"average_precision {ap:.4g} {'>=' if ok else '<'} floor {floor:.4g} "
            f"({policy.min_average_precision_lift:g} x the holdout's fraud rate {rate:.4g}"
            f"{frauds}; a model that ranks at random scores the fraud rate)"
        ),
        n_pos=n_pos,
    )


def _recall_gate(
    metrics: Mapping[str, Any], tags: Mapping[str, str] | None, policy: GatePolicy
) -> Gate:
    name = "recall_at_fpr_floor"
    fpr = policy.gate_target_fpr
    recall = _finite(metrics, "recall_at_fpr")
    _, n_pos = holdout_fraud_rate(metrics, tags)
    if recall is None:
        return Gate(
            name=name,
            passed=False,
            detail=(
                f"the run has no recall_at_fpr metric; required recall >= "
                f"{policy.min_recall_at_fpr:g} at FPR {fpr:g}"
            ),
            n_pos=n_pos,
        )
    measured_at = (tags or {}).get("evaluation.target_fpr")
    try:
        run_fpr = float(measured_at) if measured_at is not None else fpr
    except ValueError:
        run_fpr = math.nan
    if not math.isclose(run_fpr, fpr, rel_tol=1e-9):
        return Gate(
            name=name,
            passed=False,
            detail=(
                f"recall_at_fpr {recall:.4g} was measured at FPR {measured_at}, the gate needs "
                f"FPR {fpr:g}; re-evaluate with target_fpr={fpr:g}"
            ),
            n_pos=n_pos,
        )
    ok = recall >= policy.min_recall_at_fpr
    return Gate(
        name=name,
        passed=ok,
        detail=(
            f"recall {recall:.4g} at FPR {fpr:g} {'>=' if ok else '<'} required "
            f"{policy.min_recall_at_fpr:g}"
        ),
        n_pos=n_pos,
    )


def change_words(difference: float, allowed: float) -> str:
    """``"improves by 0.011"``, ``"is unchanged"`` or ``"drops by 0.011 (allowed 0.01)"``."""
    if abs(difference) < 5e-7:
        return "is unchanged"
    if difference > 0:
        return f"improves by {difference:.3g}"
    return f"drops by {-difference:.3g} (allowed {allowed:g})"


def _production_gate(
    production_run_id: str | None,
    paired: PairedApBound | Unpaired | None,
    policy: GatePolicy,
) -> Gate:
    name = "average_precision_vs_production"
    margin = policy.max_average_precision_drop
    if production_run_id is None:
        return Gate(
            name=name,
            passed=True,
            detail=(
                "no production run is recorded in the current config: nothing to compare with "
                "(the floors above still apply)"
            ),
            margin=margin,
        )
    if not isinstance(paired, PairedApBound):
        why = paired.reason if paired is not None else "no paired comparison was made"
        return Gate(
            name=name,
            passed=False,
            detail=(
                f"cannot show the run is not worse than production run {production_run_id}: {why}"
            ),
            margin=margin,
        )
    ok = paired.lower_bound > -margin
    return Gate(
        name=name,
        passed=ok,
        detail=(
            f"average_precision {paired.candidate:.4g} vs production run {production_run_id} "
            f"{paired.production:.4g} on the same {paired.n_rows} holdout rows "
            f"({paired.n_pos} frauds): {change_words(paired.difference, margin)}; one-sided "
            f"{paired.level:.0%} lower bound of the paired difference {paired.lower_bound:.4g} "
            f"{'>' if ok else '<='} -{margin:g} (margin {margin:g})"
        ),
        lower_bound=paired.lower_bound,
        margin=margin,
        n_pos=paired.n_pos,
    )


def evaluate_gates(
    metrics: Mapping[str, float],
    *,
    run_status: str | None = None,
    tags: Mapping[str, str] | None = None,
    policy: GatePolicy | None = None,
    production_run_id: str | None = None,
    paired: PairedApBound | Unpaired | None = None,
    min_accuracy: float | None = None,
    max_average_precision_drop: float | None = None,
) -> list[Gate]:
    """Every gate with its outcome and a sentence explaining it (see the module docstring).

    ``policy`` holds the thresholds (``min_accuracy`` / ``max_average_precision_drop``
    override its fields); ``paired`` is the paired comparison with production's scores
    (:func:`fraud_jlab.promotion.noninferiority.compare_with_production`), or why there is none.
    """
    policy = policy or GatePolicy()
    overrides: dict[str, float] = {}
    if min_accuracy is not None:
        overrides["min_accuracy"] = float(min_accuracy)
    if max_average_precision_drop is not None:
        overrides["max_average_precision_drop"] = float(max_average_precision_drop)
    if overrides:
        policy = GatePolicy(**{**policy.__dict__, **overrides})
    gates = [
        _accuracy_gate(metrics, policy),
        _ap_floor_gate(metrics, tags, policy),
        _recall_gate(metrics, tags, policy),
        _production_gate(production_run_id, paired, policy),
    ]
    if run_status is not None:
        done = run_status == "completed"
        gates.append(
            Gate(
                name="run_status",
                passed=done,
                detail=(
                    "the run is completed"
                    if done
                    else f"the run has status {run_status!r}; only a completed run may be promoted"
                ),
            )
        )
    return gates


__all__ = [
    "DEFAULT_GATE_TARGET_FPR",
    "GatePolicy",
    "change_words",
    "evaluate_gates",
    "holdout_fraud_rate",
]
