"""Models for serving: a run's saved model and the package a SageMaker endpoint serves.

:func:`package_for_sagemaker` builds the ``model.tar.gz`` (built-in XGBoost container
layout, or the scikit-learn container with its inference script) from a run's saved
model. Saving and loading the model itself is part of tracking
(:mod:`fraud_jlab.tracking.saved_models`: ``Run.log_model`` / :func:`load_model`); its
names are here too, so ``from fraud_jlab.modelstore import load_model, package_for_sagemaker``
reads one place.
"""

from fraud_jlab.modelstore.sagemaker import container_environment, package_for_sagemaker
from fraud_jlab.tracking.saved_models import (
    METADATA_FILE,
    MODEL_DIR,
    LoadedModel,
    ModelInfo,
    ModelSignature,
    ModelVersionMismatch,
    algorithm_of,
    infer_signature,
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
