"""``ModelEvaluator``: the seed's evaluation framework with fraud metrics and bootstrap CIs.

Example::

    evaluator = ModelEvaluator()
    with Run(experiment_name="fraud-detection-optimization") as run:
        result = evaluator.evaluate_model(model, X_test, y_test, baseline_metrics, run=run)
    result["metrics"]["average_precision"], result["confidence_intervals"]["average_precision"]
"""

# ruff: noqa: N803 - X_test follows the scikit-learn naming the seed uses

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import plots
from fraud_jlab.evaluation.bootstrap import (
    ConfidenceInterval,
    bootstrap_ci,
    check_bootstrap_args,
)
from fraud_jlab.evaluation.delong import paired_deltas
from fraud_jlab.evaluation.holdout import (
    holdout_identity,
)
from fraud_jlab.evaluation.intervals import ranking_intervals
from fraud_jlab.evaluation.metrics import (
    as_labels,
    as_scores,
    check_target_fpr,
    check_threshold,
    classification_metrics,
    confusion_counts,
    cost_optimal_threshold,
)
from fraud_jlab.evaluation.run_logging import log_evaluation, log_threshold
from fraud_jlab.evaluation.threshold_choice import choose_threshold, column_amounts
from fraud_jlab.evaluation.thresholds import (
    DEFAULT_RULE,
    SplitKind,
    ThresholdRule,
)

if TYPE_CHECKING:
    from fraud_jlab.tracking.run import Run


class LowAccuracyWarning(UserWarning):
    """An evaluated model's accuracy is below the warning threshold."""


def _unit_interval(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError(f"{field} must be a number in [0, 1], got {value!r}", field=field)
    return float(value)


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a number (e.g. a threshold of None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


class ModelEvaluator:
    """Standardised evaluation: metrics with CIs, baseline comparison, thresholds, figures."""

    def __init__(
        self,
        threshold_accuracy: float = 0.90,
        warn_accuracy: float = 0.80,
        n_bootstrap: int = 1000,
        ci_level: float = 0.95,
        random_state: int = 0,
        target_fpr: float = 0.001,
        *,
        fn_cost: float = 10.0,
        fp_cost: float = 1.0,
        amount_column: str | None = None,
    ) -> None:
        self.threshold_accuracy = _unit_interval(threshold_accuracy, "threshold_accuracy")
        self.warn_accuracy = _unit_interval(warn_accuracy, "warn_accuracy")
        check_bootstrap_args(n_bootstrap, ci_level)
        self.n_bootstrap = int(n_bootstrap)
        self.ci_level = float(ci_level)
        self.random_state = random_state
        self.target_fpr = check_target_fpr(target_fpr)
        # The cost curve's defaults are illustrative (a missed fraud costs ten false alarms);
        # with amount_column a missed fraud costs fn_cost * its transaction amount.
        self.fn_cost = fn_cost
        self.fp_cost = fp_cost
        self.amount_column = amount_column
        self._no_split = ""  # why the last evaluation could not split off validation rows

    # --- seed API ----------------------------------------------------------
    def calculate_metrics(
        self, y_true: Any, y_pred: Any, y_pred_proba: Any, *, threshold: float | None = None
    ) -> dict[str, float | None]:
        """accuracy, precision, recall, f1_score, auc_roc, average_precision, recall_at_fpr, threshold.

        ``y_pred`` may be None: predictions are then ``y_pred_proba >= threshold`` (default 0.5).
        ``threshold`` is None in the result when ``y_pred`` was given without one.
        Raises ValidationError for degenerate input (names the field).
        """
        y = as_labels(y_true)
        as_scores(y_pred_proba, y.size, field="y_pred_proba", probabilities=True)
        if y_pred is None:
            thr = 0.5 if threshold is None else check_threshold(threshold)
            metrics: dict[str, float | None] = dict(
                classification_metrics(
                    y, y_pred_proba, threshold=thr, target_fpr=self.target_fpr, probabilities=True
                )
            )
            return metrics
        metrics = dict(
            classification_metrics(
                y, y_pred_proba, y_pred=y_pred, target_fpr=self.target_fpr, probabilities=True
            )
        )
        metrics["threshold"] = None if threshold is None else check_threshold(threshold)
        return metrics

    def compare_to_baseline(
        self,
        current_metrics: Mapping[str, Any],
        baseline_metrics: Mapping[str, Any],
        *,
        y_true: Any = None,
        current_scores: Any = None,
        baseline_scores: Any = None,
        threshold: float = 0.5,
    ) -> dict[str, dict[str, Any]]:
        """Per metric present in both: current, baseline, difference, percent_change, improved.

        ``percent_change`` is None (with a ``note``) when the baseline is 0. When ``y_true`` and
        both score vectors (same holdout rows) are given, headline metrics also get the paired
        ``ci_low``/``ci_high`` of the difference, ``significant`` (CI excludes 0), ``p_value``
        and ``method`` (``"delong"`` for auc_roc, else ``"paired_bootstrap"``); ``paired`` says
        whether that happened. Non-numeric values are skipped. (Per-metric tests, not
        corrected for multiplicity; ``compare_runs`` designates a primary metric.)
        """
        for name, value in (
            ("current_metrics", current_metrics),
            ("baseline_metrics", baseline_metrics),
        ):
            if not isinstance(value, Mapping):
                raise ValidationError(
                    f"{name} must be a mapping of metric name to value", field=name
                )
        paired, methods = self._paired(y_true, current_scores, baseline_scores, threshold)
        comparison: dict[str, dict[str, Any]] = {}
        for metric, raw in current_metrics.items():
            if metric not in baseline_metrics:
                continue
            current, baseline = _number(raw), _number(baseline_metrics[metric])
            if current is None or baseline is None:
                continue
            diff = current - baseline
            entry: dict[str, Any] = {
                "current": current,
                "baseline": baseline,
                "difference": diff,
                "percent_change": (diff / abs(baseline)) * 100 if baseline != 0 else None,
                "improved": diff > 0,
                "paired": False,
            }
            if baseline == 0:
                entry["note"] = "baseline is 0, so percent change is undefined"
            if paired is not None and metric in paired:
                d = paired[metric]
                entry.update(
                    ci_low=d.low,
                    ci_high=d.high,
                    significant=d.significant,
                    paired=True,
                    p_value=d.p_value,
                    method=methods[metric],
                )
            comparison[metric] = entry
        return comparison

    def _paired(
        self, y_true: Any, current_scores: Any, baseline_scores: Any, threshold: float
    ) -> tuple[dict[str, Any] | None, dict[str, str]]:
        given = [v is not None for v in (y_true, current_scores, baseline_scores)]
        if not any(given[1:]):
            return None, {}
        if not all(given):
            raise ValidationError(
                "a paired comparison needs y_true, current_scores and baseline_scores together",
                field="baseline_scores",
            )
        return paired_deltas(
            y_true,
            current_scores,
            baseline_scores,
            threshold=threshold,
            n_bootstrap=self.n_bootstrap,
            ci_level=self.ci_level,
            random_state=self.random_state,
            target_fpr=self.target_fpr,
        )

    def meets_production_threshold(self, metrics: Mapping[str, Any]) -> bool:
        """True when ``metrics["accuracy"] >= threshold_accuracy``; ValidationError if absent/invalid."""
        accuracy = _number(metrics.get("accuracy")) if isinstance(metrics, Mapping) else None
        if accuracy is None:
            raise ValidationError(
                "metrics must contain a finite numeric 'accuracy'", field="metrics"
            )
        return accuracy >= self.threshold_accuracy

    def check_accuracy(self, metrics: Mapping[str, Any], run: Run | None = None) -> str | None:
        """Warn (and tag ``run`` with ``warning.low_accuracy=true``) when accuracy < warn_accuracy.

        Returns the warning message, or None when accuracy is acceptable.
        """
        self.meets_production_threshold(metrics)  # validates 'accuracy'
        accuracy = float(metrics["accuracy"])
        if accuracy >= self.warn_accuracy:
            return None
        message = (
            f"accuracy {accuracy:.2f} is below the {self.warn_accuracy:.2f} warning threshold; "
            f"results are below production threshold {self.threshold_accuracy:.2f}"
        )
        warnings.warn(message, LowAccuracyWarning, stacklevel=3)
        if run is not None:
            run.set_tags({"warning.low_accuracy": "true", "warning.low_accuracy.message": message})
        return message

    def evaluate_model(
        self,
        model: Any,
        X_test: Any,
        y_test: Any,
        baseline_metrics: Mapping[str, Any] | None = None,
        *,
        run: Run | None = None,
        threshold: float = 0.5,
        baseline_scores: Any = None,
        row_ids: Any = None,
        X_val: Any = None,
        y_val: Any = None,
        threshold_rule: ThresholdRule = "recall_at_fpr",
        validation_fraction: float = 0.3,
        split: SplitKind = "stratified",
        time_column: str = "Time",
    ) -> dict[str, Any]:
        """Score ``model`` on the holdout and compute everything the seed's evaluation returns.

        Predictions are ``predict_proba(X_test)[:, 1] >= threshold``. Returns ``metrics``,
        ``confusion_matrix`` ([[tn, fp], [fn, tp]]), ``comparison`` (None without a baseline),
        ``meets_production_threshold``, ``confidence_intervals``, ``figures`` and ``cost``. With
        ``run``: logs metrics and CI bounds, figure and holdout-score artifacts and tags; the
        holdout artifact carries ``holdout_identity(X_test, y_test, row_ids)`` so comparisons
        pair two runs only when they scored the same rows.

        The tuned decision threshold (``threshold_rule``: ``"recall_at_fpr"`` at
        ``target_fpr``, or ``"cost"``) and the cost curve are fitted on validation rows and
        reported on other rows (``threshold_selection``): ``X_val``/``y_val`` when given,
        else a split of the holdout (``validation_fraction`` of it, stratified and seeded,
        or with ``split="time"`` its earliest rows by ``time_column``), the rest reporting.
        With ``run`` that threshold is logged as metric ``threshold`` with tags
        ``evaluation.threshold_rule`` and ``evaluation.threshold_rows`` (which rows chose
        it; their positions are in ``evaluation/threshold_rows.npz``).
        Raises ValidationError for a model without ``predict_proba`` or degenerate data.
        """
        thr = check_threshold(threshold)
        y = as_labels(y_test, field="y_test")
        if not callable(getattr(model, "predict_proba", None)):
            raise ValidationError("model must have a predict_proba method", field="model")
        proba = np.asarray(model.predict_proba(X_test))
        if proba.ndim != 2 or proba.shape[1] < 2:
            raise ValidationError(
                f"model.predict_proba returned shape {proba.shape}; expected (n_rows, 2)",
                field="model",
            )
        score = as_scores(proba[:, 1], y.size, field="y_pred_proba", probabilities=True)
        metrics = classification_metrics(
            y, score, threshold=thr, target_fpr=self.target_fpr, probabilities=True
        )
        cis = bootstrap_ci(
            y,
            score,
            threshold=thr,
            n_bootstrap=self.n_bootstrap,
            ci_level=self.ci_level,
            random_state=self.random_state,
            target_fpr=self.target_fpr,
        )
        # The ranking metrics get the intervals that hold with few frauds (intervals.py).
        for name, ci in ranking_intervals(
            y,
            score,
            n_bootstrap=max(self.n_bootstrap, 200),
            level=self.ci_level,
            random_state=self.random_state,
            target_fpr=self.target_fpr,
        ).items():
            cis[name] = ConfidenceInterval(
                estimate=ci.estimate,
                low=ci.low,
                high=ci.high,
                level=ci.level,
                n_bootstrap=ci.n_bootstrap,
                n_pos=ci.n_pos,
                method=ci.method,
            )
        cm = confusion_counts(y, score >= thr)
        amounts = self._amounts(X_test, "X_test")
        identity = holdout_identity(X_test, y, row_ids)
        selection, val_rows, self._no_split = choose_threshold(
            model,
            y,
            score,
            amounts,
            X_test,
            identity,
            X_val=X_val,
            y_val=y_val,
            rule=threshold_rule,
            fraction=validation_fraction,
            split=split,
            time_column=time_column,
            target_fpr=self.target_fpr,
            fn_cost=self.fn_cost,
            fp_cost=self.fp_cost,
            random_state=int(self.random_state),
            amount_column=self.amount_column,
        )
        if selection is not None and val_rows is not None:
            cost = cost_optimal_threshold(
                y[val_rows],
                score[val_rows],
                fn_cost=self.fn_cost,
                fp_cost=self.fp_cost,
                amounts=None if amounts is None else amounts[val_rows],
            )
        elif selection is not None:
            yv = as_labels(y_val, field="y_val")
            sv = np.asarray(model.predict_proba(X_val))[:, 1]
            amounts_val = self._amounts(X_val, "X_val")
            cost = cost_optimal_threshold(
                yv, sv, fn_cost=self.fn_cost, fp_cost=self.fp_cost, amounts=amounts_val
            )
        else:
            cost = cost_optimal_threshold(
                y, score, fn_cost=self.fn_cost, fp_cost=self.fp_cost, amounts=amounts
            )
        comparison = None
        if baseline_scores is not None and baseline_metrics is None:
            baseline_metrics = classification_metrics(
                y,
                as_scores(baseline_scores, y.size, field="baseline_scores"),
                threshold=thr,
                target_fpr=self.target_fpr,
            )
        if baseline_metrics is not None:
            comparison = self.compare_to_baseline(
                metrics,
                baseline_metrics,
                y_true=y if baseline_scores is not None else None,
                current_scores=score if baseline_scores is not None else None,
                baseline_scores=baseline_scores,
                threshold=thr,
            )
        figures = {
            "confusion_matrix": plots.confusion_matrix_figure(cm),
            "roc": plots.roc_figure(y, score, auc=metrics["auc_roc"], threshold=thr),
            "pr": plots.pr_figure(
                y, score, average_precision=metrics["average_precision"], threshold=thr
            ),
            "calibration": plots.calibration_figure(y, score),
            "cost": plots.cost_figure(cost),
        }
        meets = self.meets_production_threshold(metrics)
        self.check_accuracy(metrics, run)
        if run is not None:
            log_evaluation(
                run, y, score, metrics, cis, figures, thr, meets, identity, self.target_fpr
            )
            log_threshold(run, selection, val_rows, self._no_split)
        return {
            "metrics": metrics,
            "confusion_matrix": cm.tolist(),
            "comparison": comparison,
            "meets_production_threshold": meets,
            "confidence_intervals": {k: v.to_dict() for k, v in cis.items()},
            "figures": figures,
            "cost": cost.to_dict(),
            "threshold_selection": (
                selection.to_dict()
                if selection is not None
                else {"threshold": 0.5, "rule": f"{DEFAULT_RULE}: {self._no_split}"}
            ),
        }

    def _amounts(self, X: Any, name: str) -> np.ndarray[Any, Any] | None:
        return column_amounts(X, self.amount_column, name)
