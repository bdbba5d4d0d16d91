"""Local hyperparameter searches over the XGBoost space: grid, random and Bayesian (Optuna TPE).

Each search cross-validates on seeded stratified K-fold splits, logs a parent
run with one child run per trial (see ``fraud_jlab.tuning.trial_log``) and
returns a :class:`TuningResult`. Trial params are logged under the canonical
SageMaker names (``objective``, ``num_round``, ``max_depth``, ``eta``,
``subsample``, ``colsample_bytree``); ``learning_rate``/``n_estimators`` are
accepted as input.

Example::

    from fraud_jlab.tuning import grid_search, text_progress
    result = grid_search(X, y, {"max_depth": [3, 6], "learning_rate": [0.1, 0.3]},
                         n_splits=3, on_trial=text_progress())
    result.best_params, result.best_score, result.trials
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.tuning.engine import FoldHook, TrialOutcome, evaluate_group, group_by_model
from fraud_jlab.tuning.folds import (
    EARLY_STOPPING_FRACTION,
    Fold,
    build_folds,
    check_class_weight,
    check_folds,
    check_positive_int,
    check_scoring,
    check_seed,
    check_xy,
    make_folds,
)
from fraud_jlab.tuning.parallel import evaluate_groups_in_parallel
from fraud_jlab.tuning.progress import TrialCallback, TrialInfo
from fraud_jlab.tuning.sampling import expand_grid, sample_configs
from fraud_jlab.tuning.space import CANONICAL_NAMES, ParamValue
from fraud_jlab.tuning.trial_log import SearchLog, trial_metrics

DEFAULT_EXPERIMENT = "fraud-detection-tuning"


@dataclass
class TuningResult:
    """Outcome of a search; ``trials`` has one row per trial, ordered by trial number."""

    search_type: str
    scoring: str
    best_params: dict[str, ParamValue] | None
    best_score: float | None
    trials: pd.DataFrame
    parent_run_id: str | None
    best_run_id: str | None = None
    elapsed_seconds: float = 0.0
    tracking_seconds: float = 0.0
    trial_tracking_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchContext:
    """Validated inputs and the state a running search accumulates."""

    search_type: str
    scoring: str
    folds: list[Fold]
    seed: int
    n_jobs: int | None
    tree_method: str
    total: int
    log: SearchLog | None
    on_trial: TrialCallback | None
    #: Builds another copy of the fold matrices (for a parallel worker).
    rebuild_folds: Callable[[], list[Fold]] | None = None
    outcomes: dict[int, TrialOutcome] = field(default_factory=dict)
    run_ids: dict[int, str] = field(default_factory=dict)
    best: tuple[float, int] | None = None

    def evaluate_all(
        self,
        groups: Sequence[Sequence[int]],
        configs: Sequence[dict[str, ParamValue]],
        *,
        early_stopping_rounds: int | None = None,
    ) -> None:
        """Evaluate every group (trial numbers sharing a model); record trials in order.

        With several cores and several models, models train side by side with fewer
        threads each (see ``fraud_jlab.tuning.parallel``); results are identical.
        """
        cores = self.n_jobs or os.cpu_count() or 1
        workers = min(cores, len(groups))
        if workers < 2 or early_stopping_rounds is not None or self.rebuild_folds is None:
            for group in groups:
                self.evaluate(
                    group, [configs[i] for i in group], early_stopping_rounds=early_stopping_rounds
                )
            return
        results = evaluate_groups_in_parallel(
            [[configs[i] for i in group] for group in groups],
            self.folds,
            self.rebuild_folds,
            workers=workers,
            threads_per_model=max(1, cores // workers),
            scoring=self.scoring,
            seed=self.seed,
            tree_method=self.tree_method,
        )
        for index, outcomes in results:
            for number, outcome in zip(groups[index], outcomes, strict=True):
                self.record(number, outcome)

    def evaluate(
        self,
        numbers: Sequence[int],
        configs: Sequence[dict[str, ParamValue]],
        *,
        early_stopping_rounds: int | None = None,
        on_fold: FoldHook | None = None,
    ) -> list[TrialOutcome]:
        outcomes = evaluate_group(
            configs,
            self.folds,
            scoring=self.scoring,
            seed=self.seed,
            n_jobs=self.n_jobs,
            tree_method=self.tree_method,
            early_stopping_rounds=early_stopping_rounds,
            on_fold=on_fold,
        )
        for number, outcome in zip(numbers, outcomes, strict=True):
            self.record(number, outcome)
        return outcomes

    def record(self, number: int, outcome: TrialOutcome) -> None:
        self.outcomes[number] = outcome
        mean = float(np.mean(outcome.fold_scores)) if outcome.state == "complete" else None
        # ties keep the lower trial number, as scikit-learn's search does
        if mean is not None and (
            self.best is None
            or mean > self.best[0]
            or (mean == self.best[0] and number < self.best[1])
        ):
            self.best = (mean, number)
        if self.log is not None:
            self.run_ids[number] = self.log.log_trial(number, outcome)
        if self.on_trial is not None:
            self.on_trial(
                TrialInfo(
                    number=number,
                    completed=len(self.outcomes),
                    total=self.total,
                    params=dict(outcome.params),
                    state=outcome.state,
                    score=mean,
                    fold_scores=list(outcome.fold_scores),
                    best_score=None if self.best is None else self.best[0],
                    duration_seconds=outcome.duration_seconds,
                    run_id=self.run_ids.get(number),
                    scoring=self.scoring,
                )
            )

    def result(self, started: float, extra: dict[str, Any] | None = None) -> TuningResult:
        rows = []
        for number in sorted(self.outcomes):
            outcome = self.outcomes[number]
            rows.append(
                {
                    "trial_number": number,
                    "state": outcome.state,
                    "run_id": self.run_ids.get(number),
                    "shared_model": outcome.shared_model,
                    **outcome.params,
                    **trial_metrics(outcome, self.scoring),
                }
            )
        best_params = best_score = best_run = None
        if self.best is not None:
            best_score, number = self.best
            best_params = dict(self.outcomes[number].params)
            best_run = self.run_ids.get(number)
        if self.log is not None:
            self.log.finish(best_params, best_score, best_run, n_trials=len(self.outcomes))
        return TuningResult(
            search_type=self.search_type,
            scoring=self.scoring,
            best_params=best_params,
            best_score=best_score,
            trials=pd.DataFrame(rows),
            parent_run_id=self.log.parent_run_id if self.log is not None else None,
            best_run_id=best_run,
            elapsed_seconds=time.perf_counter() - started,
            tracking_seconds=self.log.tracking_seconds if self.log is not None else 0.0,
            trial_tracking_seconds=self.log.trial_seconds if self.log is not None else 0.0,
            extra=extra or {},
        )


def prepare(
    search_type: str,
    X: Any,  # noqa: N803 - scikit-learn's name for the feature matrix
    y: Any,
    *,
    total: int,
    n_splits: int,
    cv: Any,
    scoring: str,
    seed: int,
    n_jobs: int | None,
    tree_method: str,
    track: bool,
    tracker: TrackerStore | None,
    experiment_name: str,
    run_name: str | None,
    on_trial: TrialCallback | None,
    settings: dict[str, Any],
    class_weight: str | None = "balanced",
) -> SearchContext:
    """Validate the common inputs, build the folds, then (only then) open the parent run."""
    scoring = check_scoring(scoring)
    seed = check_seed(seed)
    if n_jobs is not None:
        n_jobs = check_positive_int(n_jobs, "n_jobs")
    if tree_method not in ("hist", "approx"):
        raise ValidationError(
            f"tree_method must be 'hist' or 'approx', got {tree_method!r}", field="tree_method"
        )
    if not isinstance(experiment_name, str) or not experiment_name.strip():
        raise ValidationError("experiment_name must be a non-empty string", field="experiment_name")
    class_weight = check_class_weight(class_weight)
    x_arr, y_arr, names = check_xy(X, y)
    splits = make_folds(y_arr, n_splits, int(seed)) if cv is None else check_folds(cv, len(y_arr))
    folds = build_folds(
        x_arr, y_arr, splits, n_jobs=n_jobs, feature_names=names, class_weight=class_weight
    )
    log = None
    if track:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        log = SearchLog(
            tracker or get_tracker(),
            experiment_name=experiment_name,
            run_name=run_name or f"{search_type}-search-{stamp}",
            search_type=search_type,
            scoring=scoring,
        )
        try:
            log.start(
                {
                    **settings,
                    "n_splits": len(folds),
                    "seed": seed,
                    "n_trials_planned": total,
                    "class_weight": str(class_weight),
                    "tree_method": tree_method,
                },
                X if isinstance(X, (pd.DataFrame, np.ndarray)) else x_arr,
            )
        except BaseException as exc:
            log.fail(exc)
            raise
    return SearchContext(
        search_type,
        scoring,
        folds,
        seed,
        n_jobs,
        tree_method,
        total,
        log,
        on_trial,
        rebuild_folds=lambda: build_folds(
            x_arr, y_arr, splits, n_jobs=n_jobs, feature_names=names, class_weight=class_weight
        ),
    )


def run_logged(ctx: SearchContext, body: Callable[[], dict[str, Any] | None]) -> TuningResult:
    """Run the search body; a failure marks the parent run failed and propagates."""
    started = time.perf_counter()
    try:
        extra = body()
    except BaseException as exc:
        if ctx.log is not None:
            ctx.log.fail(exc)
        raise
    return ctx.result(started, extra)


def grid_search(
    X: Any,  # noqa: N803 - scikit-learn's name for the feature matrix
    y: Any,
    param_grid: Any,
    *,
    n_splits: int = 5,
    cv: Any = None,
    scoring: str = "average_precision",
    seed: int = 0,
    n_jobs: int | None = None,
    tree_method: str = "hist",
    experiment_name: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    tracker: TrackerStore | None = None,
    track: bool = True,
    on_trial: TrialCallback | None = None,
    class_weight: str | None = "balanced",
) -> TuningResult:
    """Cross-validate every combination of ``param_grid`` (name -> list of values).

    Names may be canonical or scikit-learn aliases; unspecified parameters take
    XGBoost's defaults. Combinations that differ only in ``num_round`` share
    one model per fold. ``cv`` may give explicit ``(train, valid)`` index
    pairs instead of ``n_splits`` seeded stratified folds. Logs exactly one
    child run per combination. ``class_weight="balanced"`` (the default) weights fraud by
    each fold's negatives/positives (``scale_pos_weight``), as ``compare_algorithms`` weights
    XGBoost; None trains unweighted. Raises ValidationError (nothing written) for an
    empty grid, unknown names, values outside :data:`SEARCH_SPACE`, an
    unsupported ``scoring``, non-binary ``y`` or an X/y length mismatch.
    """
    configs = expand_grid(param_grid)
    ctx = prepare(
        "grid", X, y, total=len(configs), n_splits=n_splits, cv=cv, scoring=scoring, seed=seed,
        n_jobs=n_jobs, tree_method=tree_method, track=track, tracker=tracker,
        experiment_name=experiment_name, run_name=run_name, on_trial=on_trial,
        settings={"param_grid": _describe(param_grid)}, class_weight=class_weight,
    )  # fmt: skip

    def body() -> None:
        ctx.evaluate_all(group_by_model(configs), configs)

    return run_logged(ctx, body)


def random_search(
    X: Any,  # noqa: N803 - scikit-learn's name for the feature matrix
    y: Any,
    param_distributions: Any,
    n_iter: int,
    *,
    n_splits: int = 5,
    cv: Any = None,
    scoring: str = "average_precision",
    seed: int = 0,
    n_jobs: int | None = None,
    tree_method: str = "hist",
    early_stopping_rounds: int | None = None,
    experiment_name: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    tracker: TrackerStore | None = None,
    track: bool = True,
    on_trial: TrialCallback | None = None,
    class_weight: str | None = "balanced",
) -> TuningResult:
    """Cross-validate ``n_iter`` configurations sampled (seeded) from ``param_distributions``.

    Values are lists, ``ParameterRange`` models or scipy.stats distributions.
    A finite space is sampled without replacement: ``n_iter`` larger than it is
    a ValidationError. ``early_stopping_rounds`` stops each fold when the
    validation metric stalls (``num_round`` becomes the upper bound; the
    best round per fold is logged as ``fold_<i>_best_num_round``). Logs
    exactly ``n_iter`` child runs.
    """
    n_iter = check_positive_int(n_iter, "n_iter")
    es = _check_early_stopping(early_stopping_rounds)
    configs = sample_configs(param_distributions, n_iter, check_seed(seed))
    ctx = prepare(
        "random", X, y, total=n_iter, n_splits=n_splits, cv=cv, scoring=scoring, seed=seed,
        n_jobs=n_jobs, tree_method=tree_method, track=track, tracker=tracker,
        experiment_name=experiment_name, run_name=run_name, on_trial=on_trial,
        settings={"param_distributions": _describe(param_distributions), "n_iter": n_iter,
                  "early_stopping_rounds": es, **early_stopping_settings(es)},
        class_weight=class_weight,
    )  # fmt: skip

    def body() -> None:
        groups = [[i] for i in range(n_iter)] if es is not None else group_by_model(configs)
        ctx.evaluate_all(groups, configs, early_stopping_rounds=es)

    return run_logged(ctx, body)


def early_stopping_settings(es: int | None) -> dict[str, Any]:
    """Parent-run settings describing the inner early-stopping split (empty without it)."""
    if es is None:
        return {}
    return {"early_stopping_holdout_fraction": EARLY_STOPPING_FRACTION}


def _check_early_stopping(value: object) -> int | None:
    if value is None:
        return None
    return check_positive_int(value, "early_stopping_rounds")


def _describe(space: Any) -> str:
    """A short, stable text of a user's space for the parent run's tags."""
    try:
        text = repr({k: space[k] for k in sorted(space)})
    except Exception:
        text = repr(space)
    return text[:2000]


__all__ = ["CANONICAL_NAMES", "DEFAULT_EXPERIMENT", "TuningResult", "grid_search", "random_search"]
