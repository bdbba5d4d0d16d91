"""A run's saved model: its fitted model in its native format, with a signature.

``Run.log_model(model, X)`` / :func:`log_model` stores it among the run's artifacts;
:func:`load_model` returns a :class:`LoadedModel` that predicts identically. Packaging a
saved model for a SageMaker endpoint is :mod:`fraud_jlab.modelstore`.
"""

from fraud_jlab.tracking.saved_models.flavors import ModelVersionMismatch, algorithm_of
from fraud_jlab.tracking.saved_models.signature import ModelSignature, infer_signature
from fraud_jlab.tracking.saved_models.store import (
    METADATA_FILE,
    MODEL_DIR,
    LoadedModel,
    ModelInfo,
    load_model,
    log_model,
    model_uri,
    read_model_files,
)

__all__ = [
    "METADATA_FILE",
    "MODEL_DIR",
    "LoadedModel",
    "ModelInfo",
    "ModelSignature",
    "ModelVersionMismatch",
    "algorithm_of",
    "infer_signature",
    "load_model",
    "log_model",
    "model_uri",
    "read_model_files",
]
