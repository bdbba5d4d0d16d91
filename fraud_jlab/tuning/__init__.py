"""Hyperparameter tuning: local grid / random / Bayesian searches and SageMaker AMT.

Local searches (``grid_search``, ``random_search``, ``bayesian_search``)
cross-validate XGBoost over the design's search space (:data:`SEARCH_SPACE`)
and log a parent run with one child run per trial; ``refit_best`` refits the best
configuration on the whole training split and evaluates it once on the holdout,
as a promotable child run with its model. SageMaker Automatic Model
Tuning lives in ``fraud_jlab.tuning.sagemaker_amt`` (imported on demand).
"""

from fraud_jlab.tuning.bayesian import bayesian_search
from fraud_jlab.tuning.progress import TrialInfo, text_progress
from fraud_jlab.tuning.refit import RefitResult, refit_best
from fraud_jlab.tuning.search import DEFAULT_EXPERIMENT, TuningResult, grid_search, random_search
from fraud_jlab.tuning.space import (
    ALIASES,
    CANONICAL_NAMES,
    SEARCH_SPACE,
    ParamSpec,
    canonicalize,
    default_parameter_ranges,
)

__all__ = [
    "ALIASES",
    "CANONICAL_NAMES",
    "DEFAULT_EXPERIMENT",
    "SEARCH_SPACE",
    "ParamSpec",
    "RefitResult",
    "TrialInfo",
    "TuningResult",
    "bayesian_search",
    "canonicalize",
    "default_parameter_ranges",
    "grid_search",
    "random_search",
    "refit_best",
    "text_progress",
]
