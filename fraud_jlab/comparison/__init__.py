"""Compare algorithms on one split, and compare tracked runs against a baseline.

Example::

    from fraud_jlab.comparison import compare_algorithms, compare_runs
    result = compare_algorithms(X_train, y_train, X_test, y_test)
    report = compare_runs(list(result.runs.values()), baseline_run_id=result.runs["XGBoost"])

Names are imported lazily: the server imports ``fraud_jlab.comparison.runs`` at start-up and
should not pay for loading XGBoost, LightGBM and scikit-learn's estimators.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ALGORITHMS": "estimators",
    "AlgorithmSpec": "estimators",
    "ComparisonResult": "algorithms",
    "compare_algorithms": "algorithms",
    "default_algorithms": "estimators",
    "ComparedRun": "runs",
    "CompareFigures": "runs",
    "CompareResult": "runs",
    "MetricDelta": "runs",
    "compare_runs": "runs",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fraud_jlab.comparison' has no attribute {name!r}")
    return getattr(importlib.import_module(f"fraud_jlab.comparison.{module}"), name)


__all__ = sorted(_EXPORTS)
