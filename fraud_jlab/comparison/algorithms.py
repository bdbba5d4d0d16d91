"""Train and compare XGBoost, LightGBM, RandomForest and an MLP on one identical split.

Each algorithm is trained on the same rows, scored on the same holdout with the same
metrics (with bootstrap CIs) and logged as one run (no children) carrying its EFFECTIVE
parameters, the fitted model (``run.log_model``: load it with
:func:`fraud_jlab.tracking.saved_models.load_model`), the reasons for every change from the design's sample settings
(``adjustment.<param>`` tags) and the holdout scores, so any two of these runs can later be
compared pairwise with :func:`fraud_jlab.comparison.runs.compare_runs`.

Class imbalance: XGBoost and LightGBM weight fraud by ``scale_pos_weight = neg / pos``;
RandomForest uses ``class_weight="balanced_subsample"``; scikit-learn's MLP has no class
weights, so it is trained unweighted and judged mainly by the ranking metrics
(average_precision, auc_roc, recall_at_fpr), which do not depend on a 0.5 threshold. Note that
reweighting inflates predicted probabilities, so the 0.5-threshold metrics of the weighted
models flag more rows than an unweighted model would: they are NOT comparable across
algorithms. The table therefore also scores every algorithm at a common operating point, the
threshold where its own holdout false-positive rate is at most the evaluator's ``target_fpr``
(:data:`AT_FPR_COLUMNS`: ``threshold_at_fpr``, ``precision_at_fpr``, ``recall_at_fpr``,
``alert_rate_at_fpr``, also logged as run metrics); those columns are comparable.
"""

# ruff: noqa: N803 - X_train / X_test follow the scikit-learn naming the seed uses

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fraud_jlab.comparison.estimators import ALGORITHMS, AlgorithmSpec, default_algorithms
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.evaluator import ModelEvaluator
from fraud_jlab.evaluation.metrics import (
    HEADLINE_METRICS,
    as_labels,
    require_both_classes,
    threshold_at_fpr,
)

if TYPE_CHECKING:
    from fraud_jlab.tracking.contract import TrackerStore

FIGURE_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f1_score",
    "auc_roc",
    "training_time_seconds",
    "average_precision",
    "recall_at_fpr",
)

#: Columns scoring every algorithm at the threshold giving the same (target) false-positive rate.
AT_FPR_COLUMNS: tuple[str, ...] = (
    "threshold_at_fpr",
    "precision_at_fpr",
    "recall_at_fpr",
    "alert_rate_at_fpr",
)


@dataclass
class ComparisonResult:
    """Outcome of :func:`compare_algorithms`."""

    table: pd.DataFrame  # one row per algorithm: metrics, CI bounds, training_time_seconds
    figure: go.Figure  # 2x4 bar panels with CI error bars
    runs: dict[str, str]  # algorithm -> run id
    settings: dict[str, dict[str, Any]]  # algorithm -> {"params": ..., "adjustments": ...}
    notes: list[str] = field(default_factory=list)


def _plain_params(estimator: Any) -> dict[str, str]:
    """Scalar constructor parameters (nested ones as ``step__param``), as strings."""
    params = estimator.get_params(deep=True)
    return {
        k: str(v)
        for k, v in sorted(params.items())
        if v is None or isinstance(v, (str, int, float, bool, tuple))
    }


#: The public name: ``refit_best`` logs its model's parameters exactly as the comparison does.
plain_params = _plain_params


def _as_matrix(X: Any, field_name: str) -> tuple[np.ndarray[Any, Any], list[str]]:
    if isinstance(X, pd.DataFrame):
        non_numeric = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise ValidationError(
                f"{field_name} has non-numeric columns {non_numeric}", field=field_name
            )
        return X.to_numpy(dtype=np.float64), [str(c) for c in X.columns]
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{field_name} must be numeric: {exc}", field=field_name) from exc
    if arr.ndim != 2:
        raise ValidationError(f"{field_name} must be 2-D, got shape {arr.shape}", field=field_name)
    return arr, [f"x{i}" for i in range(arr.shape[1])]


def _validate(
    X_train: Any, y_train: Any, X_test: Any, y_test: Any
) -> tuple[
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    np.ndarray[Any, Any],
    list[str],
]:
    xtr, names = _as_matrix(X_train, "X_train")
    xte, names_te = _as_matrix(X_test, "X_test")
    if xtr.shape[1] != xte.shape[1] or (isinstance(X_test, pd.DataFrame) and names != names_te):
        raise ValidationError(
            "X_test must have the same columns as X_train, in the same order", field="X_test"
        )
    ytr = as_labels(y_train, field="y_train")
    yte = as_labels(y_test, field="y_test")
    for x, y, fx, fy in ((xtr, ytr, "X_train", "y_train"), (xte, yte, "X_test", "y_test")):
        if x.shape[0] != y.size:
            raise ValidationError(f"{fy} has {y.size} rows but {fx} has {x.shape[0]}", field=fy)
        if not np.isfinite(x).all():
            raise ValidationError(f"{fx} contains NaN or infinite values", field=fx)
        require_both_classes(y, field=fy)
    return xtr, ytr, xte, yte, names


def _select(
    algorithms: Sequence[str] | Mapping[str, Any] | None,
    y_train: Any,
    random_state: int,
    n_jobs: int,
) -> list[AlgorithmSpec]:
    defaults = default_algorithms(y_train, random_state=random_state, n_jobs=n_jobs)
    if algorithms is None:
        return list(defaults.values())
    if isinstance(algorithms, Mapping):
        if not algorithms:
            raise ValidationError("algorithms must not be empty", field="algorithms")
        specs = []
        for name, est in algorithms.items():
            if not (
                callable(getattr(est, "fit", None))
                and callable(getattr(est, "predict_proba", None))
            ):
                raise ValidationError(
                    f"algorithms[{name!r}] must be an estimator with fit and predict_proba",
                    field="algorithms",
                )
            specs.append(AlgorithmSpec(str(name), est))
        return specs
    names = list(dict.fromkeys(algorithms))
    unknown = [n for n in names if n not in defaults]
    if unknown or not names:
        raise ValidationError(
            f"algorithms must be a non-empty subset of {list(ALGORITHMS)}, got {unknown or names}",
            field="algorithms",
        )
    return [defaults[n] for n in names]


def operating_point_metrics(y_true: Any, y_score: Any, target_fpr: float) -> dict[str, float]:
    """Precision, recall, alert rate and false-positive rate at ``threshold_at_fpr``.

    Rows with ``score >= threshold`` are flagged; the threshold is +inf (nothing flagged)
    when no threshold keeps the FPR within ``target_fpr``; precision is 0.0 then.
    """
    y = as_labels(y_true)
    score = np.asarray(y_score, dtype=np.float64)
    threshold = threshold_at_fpr(y, score, target_fpr)
    flagged = score >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    return {
        "threshold_at_fpr": threshold,
        "precision_at_fpr": tp / (tp + fp) if tp + fp else 0.0,
        "recall_at_fpr": tp / n_pos,
        "alert_rate_at_fpr": (tp + fp) / y.size,
        "fpr_at_threshold": fp / n_neg,
    }


def compare_algorithms(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    algorithms: Sequence[str] | Mapping[str, Any] | None = None,
    experiment_name: str = "algorithm-comparison",
    tracker: TrackerStore | None = None,
    n_bootstrap: int = 200,
    random_state: int = 0,
    n_jobs: int = -1,
    threshold: float = 0.5,
) -> ComparisonResult:
    """Train each algorithm on the same split, evaluate on the same holdout, log one run each.

    ``algorithms``: None (all four), a subset of ``ALGORITHMS`` by name, or a mapping
    name -> unfitted estimator. Besides the ``threshold`` metrics the table holds
    :data:`AT_FPR_COLUMNS`, every algorithm scored where its holdout FPR is at most the
    evaluator's ``target_fpr`` (0.1%), the comparable operating point. Raises ValidationError for mismatched shapes, NaN features,
    single-class labels or unknown algorithm names, before anything is logged.
    """
    from fraud_jlab.tracking.run import Run

    xtr, ytr, xte, yte, feature_names = _validate(X_train, y_train, X_test, y_test)
    specs = _select(algorithms, ytr, random_state, n_jobs)
    evaluator = ModelEvaluator(n_bootstrap=n_bootstrap, random_state=random_state)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    rows: list[dict[str, Any]] = []
    runs: dict[str, str] = {}
    settings: dict[str, dict[str, Any]] = {}
    notes: list[str] = [
        f"precision / recall / f1_score / accuracy are at threshold {threshold:g}; class "
        "weighting moves each model's calibration, so they are NOT comparable across weighted "
        "and unweighted models. Compare the *_at_fpr columns instead: each algorithm at the "
        f"threshold where its holdout false-positive rate is <= {evaluator.target_fpr:g}."
    ]
    for spec in specs:
        with Run(
            experiment_name,
            f"{spec.name}-{stamp}",
            tags={"algorithm": spec.name, "comparison": stamp},
            tracker=tracker,
        ) as run:
            params = _plain_params(spec.estimator)
            run.log_parameters(params)
            run.set_tags({f"adjustment.{k}": v[:500] for k, v in spec.adjustments.items()})
            run.log_dataset(xtr, "training")
            run.log_dataset(xte, "holdout")
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                spec.estimator.fit(xtr, ytr)
            elapsed = time.perf_counter() - start
            for w in caught:
                notes.append(f"{spec.name}: {w.category.__name__}: {w.message}")
            result = evaluator.evaluate_model(
                spec.estimator, xte, yte, run=run, threshold=threshold
            )
            proba = np.asarray(spec.estimator.predict_proba(xte))[:, 1]
            at_fpr = operating_point_metrics(yte, proba, evaluator.target_fpr)
            logged = {
                k: v
                for k, v in at_fpr.items()
                if k in ("threshold_at_fpr", "precision_at_fpr", "alert_rate_at_fpr")
                and np.isfinite(v)
            }
            run.log_metrics(logged)
            if not np.isfinite(at_fpr["threshold_at_fpr"]):
                notes.append(
                    f"{spec.name}: no threshold keeps the holdout FPR <= "
                    f"{evaluator.target_fpr:g}; nothing is flagged at that operating point"
                )
            run.log_metric("training_time_seconds", elapsed)
            run.set_tag("feature_names", ",".join(feature_names)[:5000])
            # the very model just evaluated, so it can be promoted, packaged and deployed
            run.log_model(spec.estimator, xtr, feature_names=feature_names)
            runs[spec.name] = run.run_id
        settings[spec.name] = {"params": params, "adjustments": dict(spec.adjustments)}
        row: dict[str, Any] = {
            "algorithm": spec.name,
            **{m: result["metrics"][m] for m in HEADLINE_METRICS},
        }
        row["training_time_seconds"] = elapsed
        # recall_at_fpr stays the evaluator's (a headline metric, logged with its CI)
        for m in ("threshold_at_fpr", "precision_at_fpr", "alert_rate_at_fpr"):
            row[m] = at_fpr[m]
        for m in HEADLINE_METRICS:
            row[f"{m}_ci_low"] = result["confidence_intervals"][m]["low"]
            row[f"{m}_ci_high"] = result["confidence_intervals"][m]["high"]
        row["run_id"] = run.run_id
        rows.append(row)
    table = pd.DataFrame(rows)
    return ComparisonResult(
        table=table, figure=comparison_figure(table), runs=runs, settings=settings, notes=notes
    )


def comparison_figure(table: pd.DataFrame) -> go.Figure:
    """One figure, 2x4 bar panels (the design's six metrics, then AP and recall@FPR), CI error bars."""
    titles = [m.replace("_", " ").title().replace("Auc Roc", "AUC ROC") for m in FIGURE_METRICS]
    fig = make_subplots(rows=2, cols=4, subplot_titles=titles)
    names = table["algorithm"].tolist()
    for i, metric in enumerate(FIGURE_METRICS):
        values = table[metric].to_numpy(dtype=np.float64)
        error: dict[str, Any] | None = None
        if f"{metric}_ci_low" in table:
            low = table[f"{metric}_ci_low"].to_numpy(dtype=np.float64)
            high = table[f"{metric}_ci_high"].to_numpy(dtype=np.float64)
            error = {
                "type": "data",
                "symmetric": False,
                "array": _gaps((high - values).clip(min=0)),
                "arrayminus": _gaps((values - low).clip(min=0)),
            }
        fig.add_trace(
            go.Bar(x=names, y=_gaps(values), name=metric, error_y=error, showlegend=False),
            row=i // 4 + 1,
            col=i % 4 + 1,
        )
    fig.update_layout(title="Algorithm comparison (95% bootstrap CIs)", height=650)
    return fig


def _gaps(values: np.ndarray) -> list[float | None]:
    """``values`` as a list with None (a gap plotly draws as no bar) for a metric not logged.

    NaN is not JSON: a FigureWidget's message would fail to serialize it.
    """
    return [None if np.isnan(v) else float(v) for v in values]


__all__ = [
    "ALGORITHMS",
    "AT_FPR_COLUMNS",
    "FIGURE_METRICS",
    "AlgorithmSpec",
    "ComparisonResult",
    "compare_algorithms",
    "comparison_figure",
    "default_algorithms",
    "operating_point_metrics",
    "plain_params",
]
