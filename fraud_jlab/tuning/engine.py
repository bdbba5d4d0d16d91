"""Cross-validated XGBoost evaluation of trial configurations.

Configurations that differ only in ``num_round`` share one model per fold:
it is trained once with the largest round count and each smaller count is
scored with ``predict(..., iteration_range=(0, k))``, which gives exactly the
predictions of a separately trained ``k``-round model (same seed, also with
``subsample``/``colsample_bytree`` < 1: round ``i`` draws the same rows and
columns whatever the total). Probabilities are predicted on the fold's
validation ``QuantileDMatrix``, quantised with the training cuts (``ref=``):
tree splits sit on those cuts, so this gives the very float32 probabilities
``XGBClassifier.predict_proba`` computes from raw rows (checked by the tests
and the benchmark), about twice as fast; scores therefore equal
scikit-learn's ``average_precision`` / ``roc_auc`` scorers.

With early stopping the booster fits on part of the fold's training rows and
stops on the rest (see ``fraud_jlab.tuning.folds.early_stopping_split``); the
chosen round is then scored on the fold's validation rows, which played no
part in choosing it (stopping on the scored rows would bias the score upwards).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import xgboost as xgb

from fraud_jlab.tuning.folds import SCORERS, Fold, early_stopping_split, score
from fraud_jlab.tuning.space import ParamValue, xgboost_params

TrialState = Literal["complete", "pruned"]
#: Called after each fold of a single-configuration group with (fold index, fold scores so
#: far); returning True stops the evaluation (the trial is pruned).
FoldHook = Callable[[int, list[float]], bool]


@dataclass
class TrialOutcome:
    """Scores of one configuration on the folds it was evaluated on."""

    params: dict[str, ParamValue]
    fold_scores: list[float] = field(default_factory=list)
    state: TrialState = "complete"
    duration_seconds: float = 0.0
    best_num_rounds: list[int] = field(default_factory=list)
    shared_model: bool = False


def round_free_key(params: dict[str, ParamValue]) -> tuple[tuple[str, ParamValue], ...]:
    """Everything but ``num_round``: configurations with equal keys can share one model."""
    return tuple(sorted((k, v) for k, v in params.items() if k != "num_round"))


def group_by_model(configs: Sequence[dict[str, ParamValue]]) -> list[list[int]]:
    """Indices of ``configs`` grouped by :func:`round_free_key`, in order of first appearance."""
    groups: dict[tuple[tuple[str, ParamValue], ...], list[int]] = {}
    for i, params in enumerate(configs):
        groups.setdefault(round_free_key(params), []).append(i)
    return list(groups.values())


def evaluate_group(
    configs: Sequence[dict[str, ParamValue]],
    folds: Sequence[Fold],
    *,
    scoring: str,
    seed: int,
    n_jobs: int | None,
    tree_method: str = "hist",
    early_stopping_rounds: int | None = None,
    on_fold: FoldHook | None = None,
) -> list[TrialOutcome]:
    """Cross-validate configurations that differ only in ``num_round``.

    With ``early_stopping_rounds`` (one configuration only) each fold trains on
    part of its training rows, stops when the metric on the held-out rest has not
    improved for that many rounds, and is scored at that best round on the fold's
    validation rows. ``on_fold`` (one configuration only) may prune.
    """
    if len({round_free_key(c) for c in configs}) != 1:
        raise ValueError("evaluate_group takes configurations that differ only in num_round")
    if (early_stopping_rounds is not None or on_fold is not None) and len(configs) != 1:
        raise ValueError("early stopping and pruning evaluate one configuration at a time")
    outcomes = [TrialOutcome(dict(c), shared_model=len(configs) > 1) for c in configs]
    rounds = [int(c["num_round"]) for c in configs]
    booster_params = xgboost_params(configs[0], seed=seed, n_jobs=n_jobs, tree_method=tree_method)
    for fold in folds:
        started = time.perf_counter()
        fold_params = dict(booster_params)
        if "scale_pos_weight" in fold.extra:
            fold_params["scale_pos_weight"] = fold.extra["scale_pos_weight"]
        if early_stopping_rounds is None:
            booster = xgb.train(fold_params, fold.dtrain, num_boost_round=max(rounds))
            limits = rounds
            dscore = fold.dvalid
        else:
            inner = early_stopping_split(fold, seed)
            dscore = inner.dscore
            params = {**fold_params, "eval_metric": SCORERS[scoring][1]}
            booster = xgb.train(
                params,
                inner.dfit,
                num_boost_round=rounds[0],
                evals=[(inner.dstop, "early_stopping")],
                early_stopping_rounds=early_stopping_rounds,
                verbose_eval=False,
            )
            limits = [int(booster.best_iteration) + 1]
            outcomes[0].best_num_rounds.append(limits[0])
        train_share = (time.perf_counter() - started) / len(configs)
        for outcome, k in zip(outcomes, limits, strict=True):
            scored = time.perf_counter()
            proba = booster.predict(dscore, iteration_range=(0, k))
            outcome.fold_scores.append(score(scoring, fold.y_valid, np.asarray(proba)))
            outcome.duration_seconds += train_share + time.perf_counter() - scored
        if on_fold is not None and on_fold(fold.index, list(outcomes[0].fold_scores)):
            if fold.index < len(folds) - 1:
                outcomes[0].state = "pruned"
            break
    return outcomes
