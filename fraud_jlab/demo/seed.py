"""Seed a tracker with real XGBoost runs on the synthetic fraud data (for the demo and tests).

Every metric is computed on a stratified holdout; nothing is made up. The
first default configuration is the production pipeline's (the Parameter
Store values the emulator provisions) and is tagged ``role=production-baseline``
so the demo can point ``production-model-config.yaml`` at it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fraud_jlab.datasets import generate_fraud_dataset, load_dataset
from fraud_jlab.errors import ValidationError
from fraud_jlab.hyperparameters import DEFAULT_OBJECTIVE, HYPERPARAMETERS
from fraud_jlab.tracking import Run, TrackerStore, get_tracker

if TYPE_CHECKING:
    from fraud_jlab.tuning.refit import RefitResult

EXPERIMENT_NAME = "fraud-detection-optimization"
BASELINE_TAG = ("role", "production-baseline")
#: Seed hyperparameter names (as the SageMaker XGBoost container and Parameter Store spell them).
HYPERPARAMETER_NAMES: tuple[str, ...] = HYPERPARAMETERS
DEFAULT_CONFIGS: tuple[dict[str, Any], ...] = (
    {"run_name": "production-baseline", "max_depth": 5, "eta": 0.2, "num_round": 100,
     "subsample": 0.8, "colsample_bytree": 0.8},
    {"run_name": "xgb-shallow-fast", "max_depth": 3, "eta": 0.3, "num_round": 100,
     "subsample": 1.0, "colsample_bytree": 1.0},
    {"run_name": "xgb-deep", "max_depth": 7, "eta": 0.15, "num_round": 150,
     "subsample": 0.8, "colsample_bytree": 0.8},
    {"run_name": "xgb-slow-learner", "max_depth": 6, "eta": 0.05, "num_round": 200,
     "subsample": 0.9, "colsample_bytree": 0.7},
    {"run_name": "xgb-small-steps", "max_depth": 4, "eta": 0.1, "num_round": 150,
     "subsample": 0.7, "colsample_bytree": 0.9},
    {"run_name": "xgb-aggressive", "max_depth": 8, "eta": 0.3, "num_round": 50,
     "subsample": 0.6, "colsample_bytree": 0.6},
)  # fmt: skip
#: The tuning parent's grid (max_depth x eta, 100 rounds each).
TUNING_GRID: tuple[tuple[int, float], ...] = ((4, 0.1), (4, 0.3), (6, 0.1), (6, 0.3))
TARGET_FPR = 0.001
#: Training rows of the seeded runs (a stratified sample of the training part): the
#: 284,807-row default leaves ~98 frauds in the 20% holdout, and ten fits on 48,000 rows
#: keep seeding about as quick as the former 60,000-row default.
DEFAULT_TRAIN_ROWS = 48_000


def holdout_metrics(
    y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """accuracy, precision, recall, f1_score, auc_roc, average_precision, recall_at_fpr (0.1 % FPR).

    The same :mod:`fraud_jlab.evaluation.metrics` functions the evaluator uses, so a seeded
    run's numbers mean exactly what a user's evaluated run's numbers mean.
    """
    import warnings

    from fraud_jlab.evaluation.metrics import (
        MetricWarning,
        average_precision,
        recall_at_fpr,
        roc_auc,
        threshold_metrics,
    )

    with warnings.catch_warnings():
        # a small seeded model may flag nothing at 0.5: precision 0.0, as the evaluator logs it
        warnings.simplefilter("ignore", MetricWarning)
        at_threshold = threshold_metrics(y_true, y_score, threshold)
    return {
        **{k: v for k, v in at_threshold.items() if k != "threshold"},
        "auc_roc": roc_auc(y_true, y_score),
        "average_precision": average_precision(y_true, y_score),
        "recall_at_fpr": recall_at_fpr(y_true, y_score, TARGET_FPR),
    }


def _hyperparameters(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config's six production hyperparameters, checked and typed as promotion checks them
    (:func:`fraud_jlab.promotion.validation.normalise_hyperparameters`); ``objective``
    defaults to :data:`~fraud_jlab.hyperparameters.DEFAULT_OBJECTIVE`."""
    from fraud_jlab.promotion.validation import normalise_hyperparameters

    params = {
        "objective": DEFAULT_OBJECTIVE,
        **{k: v for k, v in config.items() if k != "run_name"},
    }
    try:
        return dict(normalise_hyperparameters(params))
    except ValidationError as exc:
        raise ValidationError(f"configs: {exc}", field="configs") from exc


class _Holdout:
    """The stratified split shared by every seeded run (same rows, same order)."""

    def __init__(self, frame: pd.DataFrame, seed: int, train_rows: int | None = None) -> None:
        from sklearn.model_selection import train_test_split

        if "Class" not in frame.columns:
            raise ValidationError("the data set needs a 'Class' label column", field="data_uri")
        train, test = train_test_split(
            frame, test_size=0.2, stratify=frame["Class"], random_state=seed
        )
        if train_rows is not None and len(train) > train_rows:
            # The holdout keeps every row (its frauds set how precise every number is);
            # training on a stratified sample keeps the demo's ten fits quick.
            train, _ = train_test_split(
                train, train_size=train_rows, stratify=train["Class"], random_state=seed
            )
        self.train = train
        self.test = test
        self.features = [c for c in frame.columns if c != "Class"]
        self.y_test = test["Class"].to_numpy()

    def fit(self, params: Mapping[str, Any], seed: int) -> tuple[Any, np.ndarray]:
        import xgboost as xgb

        booster_params = {
            "objective": params["objective"],
            "max_depth": int(params["max_depth"]),
            "eta": float(params["eta"]),
            "subsample": float(params["subsample"]),
            "colsample_bytree": float(params["colsample_bytree"]),
            "tree_method": "hist",
            # One thread: on a shared 2-core machine OpenMP's spinning threads make
            # nthread=2 several times slower than 1 when other processes compete.
            "nthread": 1,
            "seed": seed,
        }
        dtrain = xgb.DMatrix(self.train[self.features], label=self.train["Class"])
        booster = xgb.train(booster_params, dtrain, num_boost_round=int(params["num_round"]))
        scores = booster.predict(xgb.DMatrix(self.test[self.features]))
        return booster, np.asarray(scores, dtype=np.float64)


def _log_trial(run: Run, split: _Holdout, params: Mapping[str, Any], seed: int) -> dict[str, float]:
    from fraud_jlab.evaluation.holdout import (
        HOLDOUT_ARTIFACT,
        holdout_identity,
        holdout_scores_npz,
    )
    from fraud_jlab.evaluation.intervals import ranking_intervals

    run.log_parameters(params)
    run.log_dataset(split.train, "training")
    run.log_dataset(split.test, "holdout")
    booster, scores = split.fit(params, seed)
    metrics = holdout_metrics(split.y_test, scores)
    n_pos = int(split.y_test.sum())
    # What the promotion gates judge average precision against (the holdout's fraud rate).
    run.log_metrics(
        {
            **metrics,
            "holdout_n_pos": float(n_pos),
            "holdout_n_rows": float(split.y_test.size),
            "holdout_fraud_rate": n_pos / split.y_test.size,
        }
    )
    intervals = ranking_intervals(split.y_test, scores, target_fpr=TARGET_FPR, random_state=seed)
    bounds = {
        f"{name}_ci_{side}": value
        for name, ci in intervals.items()
        for side, value in (("low", ci.low), ("high", ci.high))
        if value is not None
    }
    if bounds:
        run.log_metrics(bounds)
    else:
        run.set_tag("evaluation.ci_too_few_frauds", ",".join(intervals))
    run.set_tags(
        {
            "evaluation.target_fpr": repr(TARGET_FPR),
            "evaluation.n_positives": str(n_pos),
            "evaluation.n_rows": str(int(split.y_test.size)),
        }
    )
    run.log_artifact("model.json", bytes(booster.save_raw("json")))
    run.log_model(booster, split.train[split.features])
    identity = holdout_identity(split.test[split.features], split.y_test)
    run.log_artifact(HOLDOUT_ARTIFACT, holdout_scores_npz(split.y_test, scores, identity=identity))
    return metrics


def _tune_and_refit(store: TrackerStore, split: _Holdout, seed: int) -> RefitResult:
    """Grid-search :data:`TUNING_GRID` by cross-validation on the training rows only, then
    refit the best configuration and evaluate it once on the holdout (its reported score)."""
    from fraud_jlab.evaluation.evaluator import ModelEvaluator
    from fraud_jlab.evaluation.metrics import MetricWarning
    from fraud_jlab.tuning import grid_search, refit_best

    X_train = split.train[split.features]  # noqa: N806 - scikit-learn's name
    y_train = split.train["Class"].to_numpy()
    depths, etas = sorted({d for d, _ in TUNING_GRID}), sorted({e for _, e in TUNING_GRID})
    # TUNING_GRID is the full depth x eta product, so the grid search runs exactly its points
    assert len(depths) * len(etas) == len(TUNING_GRID)
    result = grid_search(
        X_train,
        y_train,
        {
            "max_depth": depths,
            "eta": etas,
            "num_round": [100],
            "subsample": [0.8],
            "colsample_bytree": [0.8],
        },
        n_splits=3,
        seed=seed,
        n_jobs=1,
        experiment_name=EXPERIMENT_NAME,
        run_name="xgboost-tuning",
        tracker=store,
    )
    assert result.parent_run_id is not None
    with warnings.catch_warnings():
        # a small demo set may flag no holdout row at 0.5 (precision is then recorded as 0)
        warnings.simplefilter("ignore", MetricWarning)
        return refit_best(
            result.parent_run_id,
            X_train,
            y_train,
            split.test[split.features],
            split.y_test,
            tracker=store,
            run_name="xgboost-tuning-refit",
            evaluator=ModelEvaluator(n_bootstrap=200, random_state=seed),
            n_jobs=1,
        )


def seed_tracker(
    tracker: TrackerStore | None = None,
    *,
    n_rows: int = 284_807,
    train_rows: int | None = DEFAULT_TRAIN_ROWS,
    seed: int = 0,
    configs: Sequence[Mapping[str, Any]] | None = None,
    data_uri: str | None = None,
    frame: pd.DataFrame | None = None,
    tune: bool = True,
) -> list[str]:
    """Train XGBoost configurations on a holdout split and log them as runs; returns the run ids.

    Data: ``frame``, else ``data_uri`` (local or S3, via
    :func:`fraud_jlab.datasets.load_dataset`), else ``generate_fraud_dataset(n_rows, seed=seed)``
    (default 284,807 rows: the 20% holdout holds ~98 frauds; models train on a stratified
    sample of ``train_rows`` training rows). Logs one run per entry of ``configs``
    (default :data:`DEFAULT_CONFIGS`; dicts of seed hyperparameter names plus an optional
    ``run_name``) in the ``fraud-detection-optimization`` experiment, then an
    ``xgboost-tuning`` grid search over :data:`TUNING_GRID`, cross-validated on the
    training rows only (one child per point, CV scores only), and its refit
    (:func:`fraud_jlab.tuning.refit_best`): the best configuration refitted on the
    training rows and evaluated once on the holdout, which no selection step saw;
    the parent's ``best_run_id`` tag names it. Each configuration run has the
    hyperparameters, holdout metrics, the training data set hash, ``model.json``,
    the saved model (``run.log_model``) and ``evaluation/holdout_scores.npz``.
    Returned ids: the configuration runs, the tuning parent, its trials, the refit.
    ``tune=False`` logs the configuration runs only (no grid search, no refit).

    Raises :class:`~fraud_jlab.errors.ValidationError` (bad ``configs`` or data, before
    anything is logged) and the loader's errors for ``data_uri``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {seed!r}", field="seed")
    chosen = list(DEFAULT_CONFIGS if configs is None else configs)
    if not chosen:
        raise ValidationError("configs must name at least one configuration", field="configs")
    trials = [(dict(c), _hyperparameters(c)) for c in chosen]
    if frame is not None:
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(
                f"frame must be a DataFrame, got {type(frame).__name__}", field="frame"
            )
        source = f"in-memory frame ({len(frame)} rows)"
    elif data_uri:
        frame, source = load_dataset(data_uri), data_uri
    else:
        frame = generate_fraud_dataset(n_rows, seed=seed)
        source = f"generate_fraud_dataset(n_rows={n_rows}, seed={seed})"
    if train_rows is not None and (
        isinstance(train_rows, bool) or not isinstance(train_rows, int) or train_rows < 100
    ):
        raise ValidationError(
            f"train_rows must be an integer >= 100 or None, got {train_rows!r}",
            field="train_rows",
        )
    split = _Holdout(frame, seed, train_rows)
    if split.y_test.sum() == 0 or split.y_test.sum() == split.y_test.size:
        raise ValidationError("the holdout needs both classes; use more rows", field="n_rows")
    store = tracker or get_tracker()

    run_ids: list[str] = []
    for index, (config, params) in enumerate(trials):
        name = str(config.get("run_name") or f"xgb-config-{index + 1}")
        tags = {"source": "fraud-jlab-seed", "data": source, "algorithm": "xgboost"}
        if name == BASELINE_TAG[1]:
            tags[BASELINE_TAG[0]] = BASELINE_TAG[1]
        with Run(EXPERIMENT_NAME, name, tags=tags, tracker=store) as run:
            _log_trial(run, split, params, seed)
        run_ids.append(run.run_id)

    if not tune:
        return run_ids
    parent_tags = {"source": "fraud-jlab-seed", "data": source, "algorithm": "xgboost"}
    refit = _tune_and_refit(store, split, seed)
    parent_id = refit.tuning_run_id
    store.set_tags(
        parent_id,
        {**parent_tags, "best_run_id": refit.run_id, "reported_score": "refit holdout"},
    )
    child_ids = [c for c in store.get_run(parent_id).children if c != refit.run_id]
    return [*run_ids, parent_id, *child_ids, refit.run_id]


def holdout_rows(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The rows :func:`seed_tracker` (same ``seed``) holds out: no seeded model trained on them."""
    return _Holdout(frame, seed).test


def find_baseline_run(tracker: TrackerStore | None = None) -> Any:
    """The newest seeded production-baseline run (a ``RunSummary``), or None."""
    store = tracker or get_tracker()
    page = store.search_runs(
        f"tags.{BASELINE_TAG[0]} = '{BASELINE_TAG[1]}' and status = 'completed'",
        order_by=["start_time DESC"],
        max_results=1,
    )
    return page.runs[0] if page.runs else None
