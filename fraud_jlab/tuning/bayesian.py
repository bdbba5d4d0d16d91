"""Bayesian search: Optuna's TPE sampler (seeded) with a median pruner over the folds.

After each fold a trial reports the mean score of its folds so far as an
intermediate value; Optuna's ``MedianPruner`` stops a trial whose running
mean is below the median of earlier trials at the same fold. A pruned trial
is still logged as a child run (tag ``trial_state=pruned``, only the folds it
ran), so a search always logs exactly ``n_trials`` children.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna

from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tuning.folds import check_positive_int, check_seed
from fraud_jlab.tuning.progress import TrialCallback
from fraud_jlab.tuning.sampling import bayesian_space
from fraud_jlab.tuning.search import (
    DEFAULT_EXPERIMENT,
    TuningResult,
    early_stopping_settings,
    prepare,
    run_logged,
)
from fraud_jlab.tuning.space import ParamValue, canonicalize


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; fraud_jlab reports progress through ``on_trial`` instead."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _suggest(trial: optuna.Trial, name: str, rng: ParameterRange) -> Any:
    log = rng.scaling_type == "Logarithmic"
    if rng.type == "Integer":
        return trial.suggest_int(name, int(rng.min_value or 0), int(rng.max_value or 0), log=log)
    if rng.type == "Continuous":
        return trial.suggest_float(
            name, float(rng.min_value or 0), float(rng.max_value or 0), log=log
        )
    return trial.suggest_categorical(name, list(rng.values or []))


def bayesian_search(
    X: Any,  # noqa: N803 - scikit-learn's name for the feature matrix
    y: Any,
    search_space: Any = None,
    n_trials: int = 20,
    *,
    n_splits: int = 5,
    cv: Any = None,
    scoring: str = "average_precision",
    seed: int = 0,
    n_jobs: int | None = None,
    tree_method: str = "hist",
    early_stopping_rounds: int | None = None,
    prune: bool = True,
    n_startup_trials: int = 5,
    experiment_name: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    tracker: TrackerStore | None = None,
    track: bool = True,
    on_trial: TrialCallback | None = None,
    class_weight: str | None = "balanced",
) -> TuningResult:
    """Optimise the objective metric with Optuna TPE over ``search_space`` for ``n_trials`` trials.

    ``search_space`` maps names to ``ParameterRange`` models, ``(low, high)``
    tuples or lists (default: the design's whole space). With ``prune`` a
    ``MedianPruner`` (after ``n_startup_trials`` complete trials) stops
    unpromising trials between folds. Logs exactly ``n_trials`` child runs.
    ``result.extra["study"]`` is the Optuna study. Raises ValidationError for
    bad input before anything is written.
    """
    n_trials = check_positive_int(n_trials, "n_trials")
    n_startup_trials = check_positive_int(n_startup_trials, "n_startup_trials", minimum=0)
    es = (
        None
        if early_stopping_rounds is None
        else check_positive_int(early_stopping_rounds, "early_stopping_rounds")
    )
    seed = check_seed(seed)
    space = bayesian_space(search_space)
    ctx = prepare(
        "bayesian", X, y, total=n_trials, n_splits=n_splits, cv=cv, scoring=scoring, seed=seed,
        n_jobs=n_jobs, tree_method=tree_method, track=track, tracker=tracker,
        experiment_name=experiment_name, run_name=run_name, on_trial=on_trial,
        settings={"search_space": repr({k: v.model_dump() for k, v in sorted(space.items())})[:2000],
                  "sampler": f"TPESampler(seed={seed})",
                  "pruner": f"MedianPruner(n_startup_trials={n_startup_trials})" if prune else "none",
                  "early_stopping_rounds": es, **early_stopping_settings(es)},
        class_weight=class_weight,
    )  # fmt: skip
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=0)
        if prune
        else optuna.pruners.NopPruner()
    )
    with _quiet_optuna():
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner
        )

    def body() -> dict[str, Any]:
        with _quiet_optuna():
            for number in range(n_trials):
                trial = study.ask()
                params: dict[str, ParamValue] = canonicalize(
                    {name: _suggest(trial, name, rng) for name, rng in space.items()},
                    field="search_space",
                )

                def on_fold(step: int, scores: list[float], trial: optuna.Trial = trial) -> bool:
                    trial.report(float(np.mean(scores)), step)
                    return bool(trial.should_prune())

                (outcome,) = ctx.evaluate(
                    [number], [params], early_stopping_rounds=es, on_fold=on_fold
                )
                if outcome.state == "pruned":
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                else:
                    study.tell(trial, float(np.mean(outcome.fold_scores)))
        return {"study": study}

    return run_logged(ctx, body)
