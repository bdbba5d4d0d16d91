"""Hyperparameter tuning: local grid / random / Bayesian searches and SageMaker AMT.

Local searches (``grid_search``, ``random_search``, ``bayesian_search``)
cross-validate XGBoost over the design's search space (:data:`SEARCH_SPACE`)
and log a parent run with one child run per trial. SageMaker Automatic Model
Tuning lives in ``fraud_jlab.tuning.sagemaker_amt`` (imported on demand).
"""

from fraud_jlab.tuning.bayesian import bayesian_search
from fraud_jlab.tuning.progress import TrialInfo, text_progress
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
    "TrialInfo",
    "TuningResult",
    "bayesian_search",
    "canonicalize",
    "default_parameter_ranges",
    "grid_search",
    "random_search",
    "text_progress",
]
