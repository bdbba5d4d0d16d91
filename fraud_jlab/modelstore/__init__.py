"""Model artifacts: save a run's fitted model in its native format and load it back.

``Run.log_model(model, X)`` / :func:`log_model` stores it with a signature;
:func:`load_model` returns a :class:`LoadedModel` that predicts identically;
:func:`fraud_jlab.modelstore.sagemaker.package_for_sagemaker` builds the
``model.tar.gz`` a SageMaker endpoint serves.
"""

from fraud_jlab.modelstore.flavors import ModelVersionMismatch, algorithm_of
from fraud_jlab.modelstore.sagemaker import container_environment, package_for_sagemaker
from fraud_jlab.modelstore.signature import ModelSignature, infer_signature
from fraud_jlab.modelstore.store import (
    METADATA_FILE,
    MODEL_DIR,
    LoadedModel,
    ModelInfo,
    load_model,
    log_model,
    model_uri,
)

__all__ = [
    "METADATA_FILE",
    "MODEL_DIR",
    "LoadedModel",
    "ModelInfo",
    "ModelSignature",
    "ModelVersionMismatch",
    "algorithm_of",
    "container_environment",
    "infer_signature",
    "load_model",
    "log_model",
    "model_uri",
    "package_for_sagemaker",
]
