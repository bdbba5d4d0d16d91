"""Promotion gates: the thresholds a run must meet before it may reach production.

- ``min_accuracy``: the run's ``accuracy`` is at least ``FraudJlab.min_accuracy``.
- ``average_precision_vs_production``: the run's ``average_precision`` is not
  below the production run's by more than ``FraudJlab.max_average_precision_drop``
  (skipped, and passed, when either value is unknown).
- ``run_status``: the run finished (status ``completed``); a ``running`` or
  ``failed`` run is only promotable with ``force`` (recorded in the ledger).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from fraud_jlab.promotion.models import Gate


def evaluate_gates(
    metrics: Mapping[str, float],
    *,
    run_status: str | None = None,
    min_accuracy: float,
    max_average_precision_drop: float,
    production_run_id: str | None,
    production_metrics: Mapping[str, float] | None,
) -> list[Gate]:
    """Every gate with its outcome and a sentence explaining it."""
    gates: list[Gate] = []
    accuracy = metrics.get("accuracy")
    if accuracy is None or not math.isfinite(accuracy):
        gates.append(
            Gate(
                name="min_accuracy",
                passed=False,
                detail=f"the run has no accuracy metric; required accuracy >= {min_accuracy:g}",
            )
        )
    else:
        ok = accuracy >= min_accuracy
        gates.append(
            Gate(
                name="min_accuracy",
                passed=ok,
                detail=f"accuracy {accuracy:.6g} {'>=' if ok else '<'} required {min_accuracy:g}",
            )
        )
    candidate = metrics.get("average_precision")
    baseline = (production_metrics or {}).get("average_precision")
    if production_run_id is None:
        gates.append(
            Gate(
                name="average_precision_vs_production",
                passed=True,
                detail="skipped: no production run is recorded in the current config",
            )
        )
    elif candidate is None or baseline is None:
        which = "the candidate run" if candidate is None else f"production run {production_run_id}"
        gates.append(
            Gate(
                name="average_precision_vs_production",
                passed=True,
                detail=f"skipped: {which} has no average_precision metric",
            )
        )
    else:
        drop = baseline - candidate
        ok = drop <= max_average_precision_drop + 1e-12
        gates.append(
            Gate(
                name="average_precision_vs_production",
                passed=ok,
                detail=(
                    f"average_precision {candidate:.6g} vs production run {production_run_id} "
                    f"{baseline:.6g}: drop {drop:.6g} {'<=' if ok else '>'} allowed "
                    f"{max_average_precision_drop:g}"
                ),
            )
        )
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
