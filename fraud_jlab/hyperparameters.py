"""The one hyperparameter vocabulary: the six names production, tuning and the demo share.

The names are SageMaker built-in XGBoost's, as the production pipeline reads them from
Parameter Store (in this order); runs may log the scikit-learn / ``XGBClassifier`` aliases,
which every part translates with :data:`ALIASES`. A ground-level module: it imports
nothing from fraud_jlab, so promotion, tuning and the demo all import it.
"""

from __future__ import annotations

#: The six hyperparameters of the production pipeline, in Parameter Store order.
HYPERPARAMETERS: tuple[str, ...] = (
    "objective",
    "num_round",
    "max_depth",
    "eta",
    "subsample",
    "colsample_bytree",
)
#: scikit-learn / XGBClassifier names logged by runs -> the canonical names above.
ALIASES: dict[str, str] = {"learning_rate": "eta", "n_estimators": "num_round"}
#: Objectives the production XGBoost pipeline accepts, and the one assumed when none is logged.
ALLOWED_OBJECTIVES: tuple[str, ...] = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "reg:logistic",
)
DEFAULT_OBJECTIVE = "binary:logistic"

__all__ = ["ALIASES", "ALLOWED_OBJECTIVES", "DEFAULT_OBJECTIVE", "HYPERPARAMETERS"]
