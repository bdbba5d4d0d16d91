"""Tracking of a search: one parent run per search, one child run per trial.

Child runs hold the trial's canonical hyperparameters as params (the six
names a promotion writes), metrics ``fold_<i>_<metric>`` (``i`` from 0),
``mean_<metric>``, ``std_<metric>``, ``duration_seconds`` and tags
``trial_number``, ``trial_state`` (``complete`` or ``pruned``) and
``search_type``. The parent gets ``best_<metric>`` at every completed trial
(step = trials logged so far: the best-so-far curve), then the best trial's
params, the final ``best_<metric>`` and the tag ``best_trial_run_id``.

Children are written straight through the tracker with the code and
dependency versions captured once for the parent, so a trial costs four
tracker calls and no ``git`` process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from fraud_jlab.tracking import capture
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.run import Run
from fraud_jlab.tuning.engine import TrialOutcome
from fraud_jlab.tuning.space import ParamValue, format_param


def trial_metrics(outcome: TrialOutcome, scoring: str) -> dict[str, float]:
    """The metrics a trial logs (mean/std only when every fold was scored)."""
    metrics = {f"fold_{i}_{scoring}": s for i, s in enumerate(outcome.fold_scores)}
    if outcome.state == "complete" and outcome.fold_scores:
        metrics[f"mean_{scoring}"] = float(np.mean(outcome.fold_scores))
        metrics[f"std_{scoring}"] = float(np.std(outcome.fold_scores))
    for i, rounds in enumerate(outcome.best_num_rounds):
        metrics[f"fold_{i}_best_num_round"] = float(rounds)
    metrics["duration_seconds"] = outcome.duration_seconds
    return metrics


class SearchLog:
    """Writes a search's parent run and its trials; ``tracking_seconds`` sums the time spent."""

    def __init__(
        self,
        tracker: TrackerStore,
        *,
        experiment_name: str,
        run_name: str,
        search_type: str,
        scoring: str,
    ) -> None:
        self.tracker = tracker
        self.search_type = search_type
        self.scoring = scoring
        self.tracking_seconds = 0.0
        #: Time spent writing child runs only (``tracking_seconds`` also counts the parent).
        self.trial_seconds = 0.0
        self._parent = Run(
            experiment_name,
            run_name,
            tags={"search_type": search_type, "scoring": scoring},
            tracker=tracker,
        )
        self._user = capture.current_user()
        self._code_version: str | None = None
        self._dependencies: dict[str, str] = {}
        self._started = False
        self._logged = 0
        self._best_so_far: float | None = None

    @property
    def parent_run_id(self) -> str:
        return self._parent.run_id

    def start(self, settings: Mapping[str, Any], data: Any) -> str:
        """Create the parent run, record the search settings and the dataset hash."""
        started = time.perf_counter()
        self._parent.start()
        self._started = True
        self._parent.set_tags({k: str(v) for k, v in settings.items()})
        self._parent.log_dataset(data)
        self._code_version = capture.code_version()
        self._dependencies = capture.dependency_versions()
        self.tracking_seconds += time.perf_counter() - started
        return self._parent.run_id

    def log_trial(self, number: int, outcome: TrialOutcome) -> str:
        """Write one finished (or pruned) trial as a child run; return its run id."""
        started = time.perf_counter()
        end = datetime.now(timezone.utc)
        run_id = self.tracker.create_run(
            self._parent.experiment_name,
            f"{self._parent.run_name}-trial-{number:03d}",
            user=self._user,
            start_time=end - timedelta(seconds=outcome.duration_seconds),
            parent_run_id=self._parent.run_id,
            tags={
                "trial_number": str(number),
                "trial_state": outcome.state,
                "search_type": self.search_type,
                "shared_model": str(outcome.shared_model).lower(),
            },
            code_version=self._code_version,
            dependencies=self._dependencies,
        )
        self.tracker.log_params(run_id, {k: format_param(v) for k, v in outcome.params.items()})
        metrics = trial_metrics(outcome, self.scoring)
        self.tracker.log_metrics(run_id, metrics)
        self.tracker.end_run(run_id, "completed", end_time=end)
        self._logged += 1
        mean = metrics.get(f"mean_{self.scoring}")
        if mean is not None and (self._best_so_far is None or mean > self._best_so_far):
            self._best_so_far = mean
        if self._best_so_far is not None:
            self.tracker.log_metrics(
                self._parent.run_id, {f"best_{self.scoring}": self._best_so_far}, step=self._logged
            )
        spent = time.perf_counter() - started
        self.tracking_seconds += spent
        self.trial_seconds += spent
        return run_id

    def finish(
        self,
        best_params: Mapping[str, ParamValue] | None,
        best_score: float | None,
        best_run_id: str | None,
        *,
        n_trials: int,
    ) -> None:
        """Record the best trial on the parent and complete it."""
        started = time.perf_counter()
        if best_params is not None and best_score is not None:
            self._parent.log_parameters({k: format_param(v) for k, v in best_params.items()})
            if best_score != self._best_so_far:  # else the best-so-far curve ends on it already
                self._parent.log_metrics({f"best_{self.scoring}": best_score})
        tags = {"n_trials": str(n_trials)}
        if best_run_id is not None:
            tags["best_trial_run_id"] = best_run_id
        self._parent.set_tags(tags)
        self._parent.end("completed")
        self.tracking_seconds += time.perf_counter() - started

    def fail(self, exc: BaseException) -> None:
        """Mark the parent failed (the search raised); a no-op if it was never created."""
        if not self._started:
            return
        self._parent.set_tag("error", f"{type(exc).__name__}: {exc}"[:500])
        self._parent.end("failed")
