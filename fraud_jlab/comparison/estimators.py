"""The candidate estimators of an algorithm comparison: the design's four, made fair for fraud.

XGBoost and LightGBM weight fraud by ``scale_pos_weight = neg / pos``; RandomForest uses
``class_weight="balanced_subsample"``; the MLP is standardised and unweighted. Every change from
the design's sample settings is recorded with its reason (``AlgorithmSpec.adjustments``). The
estimator libraries are imported only when :func:`default_algorithms` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALGORITHMS: tuple[str, ...] = ("XGBoost", "LightGBM", "RandomForest", "NeuralNetwork")
#: Panels of the comparison figure: the design's six, then the two fraud metrics.


@dataclass
class AlgorithmSpec:
    """An unfitted estimator with the settings that differ from the design and why."""

    name: str
    estimator: Any
    adjustments: dict[str, str] = field(default_factory=dict)


def default_algorithms(
    y_train: Any, *, random_state: int = 0, n_jobs: int = -1
) -> dict[str, AlgorithmSpec]:
    """The design's four algorithms with its sample hyperparameters, made fair for fraud data."""
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier

    y = np.asarray(y_train)
    pos = int((y == 1).sum())
    ratio = float((y.size - pos) / pos)
    spw_reason = f"class imbalance: negatives/positives in the training split = {ratio:.1f}"
    jobs_reason = "same n_jobs for every algorithm so training times are comparable"
    seed_reason = "seeded for reproducibility"
    return {
        "XGBoost": AlgorithmSpec(
            "XGBoost",
            XGBClassifier(
                max_depth=5,
                learning_rate=0.2,
                n_estimators=100,
                subsample=0.8,
                colsample_bytree=0.8,
                scale_pos_weight=ratio,
                tree_method="hist",
                n_jobs=n_jobs,
                random_state=random_state,
            ),
            {
                "scale_pos_weight": spw_reason,
                "tree_method": "hist: the fast exact-enough histogram method, as production uses",
                "n_jobs": jobs_reason,
                "random_state": seed_reason,
            },
        ),
        "LightGBM": AlgorithmSpec(
            "LightGBM",
            LGBMClassifier(
                max_depth=5,
                learning_rate=0.2,
                n_estimators=100,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.8,
                min_child_weight=1.0,
                scale_pos_weight=ratio,
                max_delta_step=2.0,
                n_jobs=n_jobs,
                random_state=random_state,
                verbose=-1,
            ),
            {
                "min_child_weight": (
                    "LightGBM's default 1e-3 lets leaves form on a handful of the 0.17% fraud rows; "
                    "on the full 284,807-row set that scored average precision 0.04 versus 0.81 "
                    "with 1 (XGBoost's default)"
                ),
                "subsample_freq": "subsample (bagging_fraction) does nothing unless subsample_freq > 0",
                "colsample_bytree": "LightGBM's name for the column fraction (feature_fraction)",
                "scale_pos_weight": spw_reason,
                "max_delta_step": (
                    "caps each leaf's step: with scale_pos_weight ~600 and learning_rate 0.2, "
                    "LightGBM diverged to flagging every row within 10 rounds (average precision "
                    "0.001 on a 60k-row synthetic set); with 2.0 it scored 0.83 (unweighted: 0.82)"
                ),
                "verbose": "-1 silences per-iteration log lines",
                "n_jobs": jobs_reason,
                "random_state": seed_reason,
            },
        ),
        "RandomForest": AlgorithmSpec(
            "RandomForest",
            RandomForestClassifier(
                max_depth=10,
                n_estimators=100,
                max_features="sqrt",
                class_weight="balanced_subsample",
                n_jobs=n_jobs,
                random_state=random_state,
            ),
            {
                "class_weight": "class imbalance: balanced_subsample reweights each bootstrap sample",
                "n_jobs": jobs_reason
                + " (100 trees of depth 10 take ~75 s on 284,807 rows single-threaded)",
                "random_state": seed_reason,
            },
        ),
        "NeuralNetwork": AlgorithmSpec(
            "NeuralNetwork",
            Pipeline(
                [
                    ("scaler", StandardScaler()),
                    (
                        "mlp",
                        MLPClassifier(
                            hidden_layer_sizes=(128, 64, 32),
                            activation="relu",
                            max_iter=200,
                            early_stopping=True,
                            n_iter_no_change=10,
                            random_state=random_state,
                        ),
                    ),
                ]
            ),
            {
                "scaler": "an MLP needs standardised inputs (Amount and Time are on large scales)",
                "early_stopping": "stop when the held-out 10% stops improving instead of 200 full epochs",
                "class_weight": (
                    "not supported by MLPClassifier: trained unweighted; compare it by "
                    "average_precision / auc_roc / recall_at_fpr, which do not depend on a threshold"
                ),
                "random_state": seed_reason,
            },
        ),
    }


__all__ = ["ALGORITHMS", "AlgorithmSpec", "default_algorithms"]
