"""Compare runs against the run in production when no baseline is named.

The REST handler, the ``%fraud compare`` magic and the compare view all go through
:func:`compare_with_production_default`, so they pick the same baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError

from fraud_jlab.comparison.runs import CompareResult, compare_runs
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import FraudJlabError
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import get_tracker


def compare_with_production_default(
    run_ids: Sequence[str],
    baseline_run_id: str | None = None,
    *,
    settings: FraudJlab | None = None,
    tracker: TrackerStore | None = None,
) -> CompareResult:
    """Compare ``run_ids`` against ``baseline_run_id``, else against the run in production.

    The production run is ``model.version`` of the live ``production-model-config.yaml``.
    When that cannot be read (no bucket, no credentials, AWS down) the runs are still
    compared, without a baseline, and ``notes`` says why. Raises ValidationError and
    NotFoundError like :func:`fraud_jlab.comparison.runs.compare_runs`.
    """
    from fraud_jlab.promotion import ProductionIntegrator

    settings = settings or get_settings()
    tracker = tracker or get_tracker()
    production_run_id = None
    notes: list[str] = []
    if baseline_run_id is None:
        try:
            production_run_id = ProductionIntegrator(
                settings=settings, tracker=tracker
            ).production_run_id()
        except (FraudJlabError, BotoCoreError) as exc:
            notes.append(
                f"No production baseline: the production config could not be read ({exc})."
            )
    result = compare_runs(
        run_ids,
        baseline_run_id,
        tracker=tracker,
        production_run_id=production_run_id,
        max_runs=settings.max_compare_runs,
    )
    if notes:
        result = result.model_copy(update={"notes": [*result.notes, *notes]})
    return result
