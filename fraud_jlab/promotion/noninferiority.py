"""The candidate and the production run scored on the same rows, for the non-inferiority gate.

Both runs' stored holdout scores (``evaluation/holdout_scores.npz``, written by
:class:`~fraud_jlab.evaluation.ModelEvaluator`) are read; they are paired only when both
carry the same ``holdout_identity`` (a hash of the holdout's rows, not just its labels).
Otherwise :class:`Unpaired` says why, and the gate fails with that sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, HoldoutScores, read_holdout_scores
from fraud_jlab.evaluation.noninferiority import PairedApBound, paired_ap_lower_bound
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

#: Bootstrap rounds of the gate's bound (seeded, so a plan and its promotion agree).
GATE_BOOTSTRAP = 2000


@dataclass(frozen=True)
class Unpaired:
    """Why the two runs could not be compared on the same rows."""

    reason: str


def _scores(tracker: TrackerStore, run: RunDetail, who: str) -> HoldoutScores | Unpaired:
    if not any(a.path == HOLDOUT_ARTIFACT for a in run.artifacts):
        return Unpaired(
            f"{who} run {run.run_id} has no stored holdout scores ({HOLDOUT_ARTIFACT}); "
            "evaluate it with ModelEvaluator(...).evaluate_model(..., run=run)"
        )
    try:
        return read_holdout_scores(tracker.read_artifact(run.run_id, HOLDOUT_ARTIFACT))
    except (ValidationError, NotFoundError) as exc:
        return Unpaired(f"{who} run {run.run_id}'s holdout scores are unreadable ({exc})")


def compare_with_production(
    tracker: TrackerStore, run: RunDetail, production_run_id: str, *, level: float = 0.95
) -> PairedApBound | Unpaired:
    """The paired AP comparison of ``run`` with the production run on the same rows."""
    try:
        production = tracker.get_run(production_run_id)
    except (NotFoundError, ValidationError):
        return Unpaired(
            f"production run {production_run_id} is not in this tracker, so its holdout "
            "scores cannot be read"
        )
    candidate_scores = _scores(tracker, run, "the candidate")
    if isinstance(candidate_scores, Unpaired):
        return candidate_scores
    production_scores = _scores(tracker, production, "production")
    if isinstance(production_scores, Unpaired):
        return production_scores
    ids = (candidate_scores.holdout_identity, production_scores.holdout_identity)
    if None in ids or ids[0] != ids[1]:
        detail = (
            "one of them predates holdout identities"
            if None in ids
            else "their holdout identities differ"
        )
        return Unpaired(
            f"the two runs were not scored on the same rows ({detail}); evaluate both on "
            "the same holdout to compare them"
        )
    return paired_ap_lower_bound(
        candidate_scores.y_true,
        candidate_scores.y_score,
        production_scores.y_score,
        level=level,
        n_bootstrap=GATE_BOOTSTRAP,
        random_state=0,
    )


__all__ = ["GATE_BOOTSTRAP", "PairedApBound", "Unpaired", "compare_with_production"]
