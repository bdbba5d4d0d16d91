"""The production spec of a run: everything the retraining pipeline needs to rebuild it.

:func:`run_spec` reads a tracked run and returns the algorithm, every hyperparameter
it was trained with (validated per algorithm, see :mod:`fraud_jlab.promotion.algorithms`),
the six Parameter Store values (XGBoost only), and the config fields: decision
threshold and how it was chosen, feature list and version, training dataset hash,
model artifact URI and run id.

The threshold is the run's metric ``threshold`` with the tag
``evaluation.threshold_rule`` (how and on which rows it was chosen); a run without
them is served at 0.5, recorded as ``"default 0.5 (not tuned)"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from fraud_jlab.errors import NotFoundError
from fraud_jlab.promotion.algorithms import canonical_algorithm, normalise_for_algorithm
from fraud_jlab.promotion.validation import REQUIRED_PARAMS
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

THRESHOLD_METRIC = "threshold"
THRESHOLD_RULE_TAG = "evaluation.threshold_rule"
DEFAULT_THRESHOLD = 0.5
DEFAULT_THRESHOLD_RULE = "default 0.5 (not tuned)"
#: Tag ``package_for_sagemaker`` sets: the S3 URI of the run's ``model.tar.gz``.
SAGEMAKER_URI_TAG = "sagemaker.model_data_url"
#: The config fields a spec adds to the seed's six (all optional in the schema).
SPEC_FIELDS: tuple[str, ...] = (
    "run_id",
    "threshold",
    "threshold_rule",
    "features",
    "feature_version",
    "dataset_hash",
    "model_artifact_uri",
    "sagemaker_model_data_url",
    "parameter_store_applies",
)


@dataclass
class RunSpec:
    """A run as production would rebuild it."""

    algorithm: str
    hyperparameters: dict[str, Any]
    #: The six Parameter Store values (XGBoost), else None: Parameter Store is left as is.
    parameter_store: dict[str, int | float | str] | None
    details: dict[str, Any] = field(default_factory=dict)


def _model_metadata(run: RunDetail, tracker: TrackerStore) -> dict[str, Any] | None:
    from fraud_jlab.tracking.saved_models import METADATA_FILE

    if not any(a.path == METADATA_FILE for a in run.artifacts):
        return None
    try:
        data = json.loads(tracker.read_artifact(run.run_id, METADATA_FILE))
    except (NotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run_algorithm(run: RunDetail, metadata: dict[str, Any] | None = None) -> str:
    """The run's algorithm: its saved model's, else its ``algorithm`` tag, else XGBoost."""
    if metadata is not None and metadata.get("algorithm"):
        return canonical_algorithm(metadata["algorithm"])
    for tag in ("model.algorithm", "algorithm"):
        if run.tags.get(tag):
            return canonical_algorithm(run.tags[tag])
    return "xgboost"


def threshold_of(run: RunDetail) -> tuple[float, str]:
    """The decision threshold a run was judged at and the words saying how it was chosen."""
    value = run.metrics.get(THRESHOLD_METRIC)
    rule = (run.tags.get(THRESHOLD_RULE_TAG) or "").strip()
    if value is None or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        return DEFAULT_THRESHOLD, DEFAULT_THRESHOLD_RULE
    if not rule:
        rule = (
            DEFAULT_THRESHOLD_RULE
            if value == DEFAULT_THRESHOLD
            else f"threshold {value:g} (no rule recorded)"
        )
    return float(value), rule


def run_spec(run: RunDetail, tracker: TrackerStore) -> RunSpec:
    """Build the production spec of ``run``; ValidationError for unpromotable hyperparameters."""
    from fraud_jlab.tracking.saved_models import model_uri

    metadata = _model_metadata(run, tracker)
    algorithm = run_algorithm(run, metadata)
    hyperparameters = normalise_for_algorithm(algorithm, run.params)
    parameter_store = (
        {n: hyperparameters[n] for n in REQUIRED_PARAMS} if algorithm == "xgboost" else None
    )
    threshold, rule = threshold_of(run)
    features: list[str] | None = None
    feature_version: str | None = None
    if metadata is not None:
        signature = metadata.get("signature") or {}
        features = [str(n) for n in signature.get("feature_names", [])] or None
        feature_version = signature.get("feature_version")
    elif run.tags.get("feature_names"):
        features = run.tags["feature_names"].split(",")
    details: dict[str, Any] = {
        "run_id": run.run_id,
        "threshold": threshold,
        "threshold_rule": rule,
        "features": features,
        "feature_version": feature_version,
        "dataset_hash": run.datasets.get("training") or run.dataset_version,
        "model_artifact_uri": model_uri(run.run_id) if metadata is not None else None,
        "sagemaker_model_data_url": run.tags.get(SAGEMAKER_URI_TAG),
        "parameter_store_applies": parameter_store is not None,
    }
    return RunSpec(algorithm, hyperparameters, parameter_store, details)
