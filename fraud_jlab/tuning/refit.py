"""``refit_best``: from a tuning search to one promotable, honestly evaluated run.

A search (``grid_search``, ``random_search``, ``bayesian_search``) picks its best
trial on cross-validation folds of the training split only. ``refit_best`` then

1. takes that trial's configuration (the parent's ``best_trial_run_id``: chosen by
   mean CV score, nothing else);
2. checks that ``X_train`` is the very data the search cross-validated (its content
   hash) and that the holdout is not that data;
3. refits the configuration on the whole training split, weighted as the search
   was (``class_weight="balanced"``: ``scale_pos_weight`` = negatives / positives);
4. evaluates it ONCE on the untouched holdout with ``ModelEvaluator`` (all metrics,
   bootstrap CIs, holdout scores, figures);
5. logs a run, child of the tuning run, with the model's effective parameters, the
   model itself (``run.log_model``), both dataset hashes and the CV score it was
   selected on. That run is what gets promoted.

Example::

    result = grid_search(X_train, y_train, {"max_depth": [3, 6]}, n_splits=3)
    refit = refit_best(result.parent_run_id, X_train, y_train, X_test, y_test)
    refit.run_id, refit.metrics["average_precision"], refit.cv_score
"""

# ruff: noqa: N803 - X_train / X_holdout follow the scikit-learn naming the seed uses

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.evaluator import ModelEvaluator
from fraud_jlab.promotion.validation import normalise_hyperparameters
from fraud_jlab.tracking import capture
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.tracking.run import Run
from fraud_jlab.tuning.folds import balanced_scale_pos_weight, check_xy
from fraud_jlab.tuning.space import CANONICAL_NAMES


@dataclass
class RefitResult:
    """Outcome of :func:`refit_best`."""

    run_id: str
    tuning_run_id: str
    best_trial_run_id: str
    params: dict[str, Any]
    cv_score: float | None
    scoring: str
    metrics: dict[str, float]
    confidence_intervals: dict[str, dict[str, float]]
    model: Any
    notes: list[str] = field(default_factory=list)


def _row_hashes(X: Any) -> np.ndarray[Any, Any]:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def refit_best(
    tuning_run_id: str,
    X_train: Any,
    y_train: Any,
    X_holdout: Any,
    y_holdout: Any,
    *,
    tracker: TrackerStore | None = None,
    run_name: str | None = None,
    evaluator: ModelEvaluator | None = None,
    threshold: float = 0.5,
    n_jobs: int | None = None,
) -> RefitResult:
    """Refit the tuning run's best configuration on the training split; evaluate on the holdout.

    Raises NotFoundError (unknown run), ValidationError when the run is not a finished
    search with a best trial, when ``X_train`` is not the data the search used, when
    the holdout is the training data, or for bad data; nothing is logged then.
    """
    from xgboost import XGBClassifier

    from fraud_jlab.comparison.algorithms import plain_params

    store = tracker or get_tracker()
    parent = store.get_run(tuning_run_id)
    best_id = parent.tags.get("best_trial_run_id")
    if "search_type" not in parent.tags or parent.status != "completed" or not best_id:
        raise ValidationError(
            f"run {tuning_run_id} is not a completed tuning search with a best trial "
            "(tags search_type and best_trial_run_id)",
            field="tuning_run_id",
        )
    trial = store.get_run(best_id)
    # the six canonical names every trial logs, typed with the production ranges
    params = normalise_hyperparameters(
        {"objective": "binary:logistic"}
        | {n: trial.params[n] for n in CANONICAL_NAMES if n in trial.params}
    )
    scoring = parent.tags.get("scoring", "average_precision")
    cv_score = trial.metrics.get(f"mean_{scoring}")

    x_arr, y_arr, names = check_xy(X_train, y_train)
    searched = parent.datasets.get("training") or parent.dataset_version
    data = X_train if isinstance(X_train, (pd.DataFrame, np.ndarray)) else x_arr
    if searched is not None and capture.dataset_hash(data) != searched:
        raise ValidationError(
            f"X_train is not the data tuning run {tuning_run_id} cross-validated "
            f"(its hash {capture.dataset_hash(data)[:19]}... differs from {searched[:19]}...); "
            "refit on the training split the search saw",
            field="X_train",
        )
    xh_arr, yh_arr, _ = check_xy(X_holdout, y_holdout)
    if xh_arr.shape[1] != x_arr.shape[1]:
        raise ValidationError(
            f"X_holdout has {xh_arr.shape[1]} columns, X_train {x_arr.shape[1]}",
            field="X_holdout",
        )
    if (
        isinstance(X_holdout, pd.DataFrame)
        and isinstance(X_train, pd.DataFrame)
        and list(X_holdout.columns) != list(X_train.columns)
    ):
        raise ValidationError(
            "X_holdout must have X_train's columns in the same order", field="X_holdout"
        )
    overlap = int(np.isin(_row_hashes(xh_arr), _row_hashes(x_arr)).sum())
    if overlap == len(yh_arr):
        raise ValidationError(
            "every holdout row is also a training row: the holdout must be rows the "
            "search never saw",
            field="X_holdout",
        )

    class_weight = parent.tags.get("class_weight", "None")
    spw = balanced_scale_pos_weight(y_arr) if class_weight == "balanced" else None
    seed = int(parent.tags.get("seed", "0"))
    model = XGBClassifier(
        objective=params["objective"],
        n_estimators=params["num_round"],
        max_depth=params["max_depth"],
        learning_rate=params["eta"],
        subsample=params["subsample"],
        colsample_bytree=params["colsample_bytree"],
        scale_pos_weight=spw,
        tree_method=parent.tags.get("tree_method", "hist"),
        random_state=seed,
        n_jobs=n_jobs,
    )
    evaluator = evaluator or ModelEvaluator()
    notes: list[str] = []
    if overlap:
        notes.append(f"{overlap} holdout rows also occur in the training split (duplicates)")
    frame_train = X_train if isinstance(X_train, pd.DataFrame) else x_arr
    frame_holdout = X_holdout if isinstance(X_holdout, pd.DataFrame) else xh_arr
    tags = {
        "algorithm": "XGBoost",
        "refit.of_trial": best_id,
        "refit.selected_by": (
            f"mean_{scoring} over {parent.tags.get('n_splits', '?')} cross-validation folds "
            "of the training split"
        ),
        "refit.class_weight": class_weight,
        "refit.holdout_rows_in_training": str(overlap),
    }
    with Run(
        parent.experiment_name,
        run_name or f"{parent.run_name}-refit",
        parent=parent.run_id,
        tags=tags,
        tracker=store,
    ) as run:
        model.fit(frame_train, y_arr)
        run.log_parameters(plain_params(model))
        run.log_dataset(data, "training")
        run.log_dataset(frame_holdout, "holdout")
        if cv_score is not None:
            run.log_metric(f"cv_mean_{scoring}", cv_score)
        result = evaluator.evaluate_model(
            model, frame_holdout, yh_arr, run=run, threshold=threshold
        )
        run.log_model(model, frame_train, feature_names=None if names is None else names)
    return RefitResult(
        run_id=run.run_id,
        tuning_run_id=parent.run_id,
        best_trial_run_id=best_id,
        params=dict(params),
        cv_score=cv_score,
        scoring=scoring,
        metrics=dict(result["metrics"]),
        confidence_intervals=dict(result["confidence_intervals"]),
        model=model,
        notes=notes,
    )
