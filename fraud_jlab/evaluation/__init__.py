"""Model evaluation: fraud metrics with bootstrap CIs, baseline comparison, figures.

See :class:`ModelEvaluator` (seed section 6) and the function modules ``metrics``,
``bootstrap``, ``holdout`` and ``plots``.
"""

from fraud_jlab.evaluation.bootstrap import (
    ConfidenceInterval,
    PairedDelta,
    bootstrap_ci,
    paired_bootstrap,
)
from fraud_jlab.evaluation.evaluator import LowAccuracyWarning, ModelEvaluator
from fraud_jlab.evaluation.holdout import (
    HOLDOUT_ARTIFACT,
    HoldoutScores,
    holdout_hash,
    holdout_identity,
    holdout_scores_npz,
    read_holdout_scores,
)
from fraud_jlab.evaluation.metrics import (
    DEFAULT_TARGET_FPR,
    HEADLINE_METRICS,
    REQUIRED_METRICS,
    CostResult,
    MetricWarning,
    average_precision,
    classification_metrics,
    confusion_counts,
    cost_optimal_threshold,
    recall_at_fpr,
    roc_auc,
    threshold_at_fpr,
    threshold_metrics,
)
from fraud_jlab.evaluation.plots import save_figure

__all__ = [
    "DEFAULT_TARGET_FPR",
    "HEADLINE_METRICS",
    "HOLDOUT_ARTIFACT",
    "REQUIRED_METRICS",
    "ConfidenceInterval",
    "CostResult",
    "HoldoutScores",
    "LowAccuracyWarning",
    "MetricWarning",
    "ModelEvaluator",
    "PairedDelta",
    "average_precision",
    "bootstrap_ci",
    "classification_metrics",
    "confusion_counts",
    "cost_optimal_threshold",
    "holdout_hash",
    "holdout_identity",
    "holdout_scores_npz",
    "paired_bootstrap",
    "read_holdout_scores",
    "recall_at_fpr",
    "roc_auc",
    "save_figure",
    "threshold_at_fpr",
    "threshold_metrics",
]
