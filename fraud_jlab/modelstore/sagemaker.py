"""``package_for_sagemaker``: a run's saved model as the ``model.tar.gz`` an endpoint serves.

Layouts (what the containers read from ``/opt/ml/model``):

* XGBoost -> the SageMaker built-in XGBoost container: the archive holds exactly one
  file, ``xgboost-model``, the booster in XGBoost's native JSON (the container loads
  every file in the folder as a model candidate, so nothing else may be there),
  without feature names: the container's rows are positional, in signature order.
* LightGBM, RandomForest, MLP -> the SageMaker scikit-learn container: the model
  file (``model.txt`` LightGBM text, or ``model.joblib``), ``MODEL.json`` (signature
  and versions), ``code/inference.py`` (``model_fn`` / ``predict_fn`` returning the
  fraud probability) and ``code/requirements.txt`` pinning the library versions the
  model was saved with. The model needs the environment of
  :func:`container_environment` (``SAGEMAKER_PROGRAM=inference.py``).

The archive is deterministic (sorted entries, zero mtimes, gzip without a
timestamp), so the same model always gives the same bytes; its key carries the
SHA-256 of those bytes: ``<prefix>/<run_id>/model-<sha256[:16]>.tar.gz`` in
``FraudJlab.models_bucket``. The returned ``s3://`` URI is what
:meth:`fraud_jlab.abtest.manager.ABTestingManager.deploy_challenger_endpoint` takes;
it is also set as the run's ``sagemaker.model_data_url`` tag (and so reaches the
production config). The library version the model was saved with is in the object's
metadata (``library-version``): serve it with a container of that version or newer
(``deploy_challenger_endpoint(..., image_uri=...)``; the default XGBoost image is 1.7-1).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from typing import TYPE_CHECKING, Any

from fraud_jlab.errors import AwsOperationError
from fraud_jlab.tracking.saved_models.store import read_model_files

if TYPE_CHECKING:
    from fraud_jlab.config import FraudJlab
    from fraud_jlab.tracking.contract import TrackerStore

XGBOOST_MODEL_FILE = "xgboost-model"
INFERENCE_SCRIPT = "code/inference.py"
REQUIREMENTS_FILE = "code/requirements.txt"
MODEL_DATA_URL_TAG = "sagemaker.model_data_url"
FRAMEWORK_TAG = "sagemaker.framework"
DEFAULT_PREFIX = "fraud-jlab-models"

INFERENCE_PY = '''"""SageMaker scikit-learn container entry point written by fraud_jlab.

``predict_fn`` returns the fraud probability of each row (columns in the order of
MODEL.json's signature).
"""

import json
import os

import numpy as np


def model_fn(model_dir):
    with open(os.path.join(model_dir, "MODEL.json")) as f:
        meta = json.load(f)
    path = os.path.join(model_dir, meta["file"])
    if meta["flavor"] == "lightgbm":
        import lightgbm

        model = lightgbm.Booster(model_file=path)
    else:
        import joblib

        model = joblib.load(path)
    return {"model": model, "meta": meta}


def predict_fn(input_data, model):
    meta, native = model["meta"], model["model"]
    X = np.asarray(input_data, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    names = meta["signature"]["feature_names"]
    if X.shape[1] != len(names):
        raise ValueError(f"expected {len(names)} columns ({names}), got {X.shape[1]}")
    if meta["flavor"] == "lightgbm":
        return np.asarray(native.predict(X))
    if getattr(native, "feature_names_in_", None) is not None:
        import pandas as pd

        X = pd.DataFrame(X, columns=names)
    return np.asarray(native.predict_proba(X))[:, 1]
'''


def container_environment(framework: str) -> dict[str, str]:
    """The container environment a packaged model needs (empty for XGBoost)."""
    if framework == "xgboost":
        return {}
    return {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}


def _requirements(metadata: dict[str, Any]) -> str:
    lines = []
    versions = dict((metadata.get("extra") or {}).get("versions") or {})
    if metadata["flavor"] == "lightgbm":
        lines.append(f"lightgbm=={metadata['library_version']}")
    if versions.get("sklearn"):
        lines.append(f"scikit-learn=={versions['sklearn']}")
    if versions.get("joblib"):
        lines.append(f"joblib=={versions['joblib']}")
    return "\n".join(lines) + "\n"


def build_archive(metadata: dict[str, Any], model_bytes: bytes) -> tuple[bytes, str]:
    """``(model.tar.gz bytes, framework)`` for a saved model (see the module docstring)."""
    if metadata["flavor"] == "xgboost":
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(model_bytes))
        rng = (metadata.get("extra") or {}).get("iteration_range")
        if rng:
            # an early-stopped model: the container predicts with every tree it is given
            booster = booster[int(rng[0]) : int(rng[1])]
        # The container builds its DMatrix from CSV / libsvm rows without column names:
        # a booster that expects names would refuse them. Columns are positional, in
        # the order of the run's signature.
        booster.feature_names = None
        booster.feature_types = None
        files = {XGBOOST_MODEL_FILE: bytes(booster.save_raw("json"))}
        framework = "xgboost"
    else:
        files = {
            str(metadata["file"]): model_bytes,
            "MODEL.json": json.dumps(metadata, indent=2, sort_keys=True).encode(),
            INFERENCE_SCRIPT: INFERENCE_PY.encode(),
            REQUIREMENTS_FILE: _requirements(metadata).encode(),
        }
        framework = "sklearn"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return gzip.compress(raw.getvalue(), mtime=0), framework


def _package(
    run_id: str, store: TrackerStore, settings: FraudJlab, bucket: str | None, prefix: str
) -> tuple[dict[str, Any], bytes, str, str, str]:
    """``(metadata, archive, framework, bucket, key)`` of a run's package; reads only."""
    metadata, data = read_model_files(run_id, tracker=store)
    archive, framework = build_archive(metadata, data)
    digest = hashlib.sha256(archive).hexdigest()
    key = f"{prefix.strip('/')}/{metadata['run_id']}/model-{digest[:16]}.tar.gz"
    return metadata, archive, framework, bucket or settings.models_bucket, key


def sagemaker_package_uri(
    run_id: str,
    *,
    tracker: TrackerStore,
    settings: FraudJlab,
    bucket: str | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """The ``s3://`` URI :func:`package_for_sagemaker` would upload to; writes nothing.

    The key holds the archive's digest, so the URI names exactly this model's package.
    """
    _, _, _, target, key = _package(run_id, tracker, settings, bucket, prefix)
    return f"s3://{target}/{key}"


def package_for_sagemaker(
    run_id: str,
    *,
    tracker: TrackerStore | None = None,
    s3_client: Any = None,
    settings: FraudJlab | None = None,
    bucket: str | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """Package the run's saved model for a SageMaker endpoint; return its ``s3://`` URI.

    Raises NotFoundError (unknown run, or no saved model), ValidationError (the model
    file fails its checksum), AwsOperationError (the upload failed; nothing is tagged).
    """
    from fraud_jlab.aws import client, error_code
    from fraud_jlab.config import get_settings
    from fraud_jlab.tracking.registry import get_tracker

    store = tracker or get_tracker()
    settings = settings or get_settings()
    metadata, archive, framework, target, key = _package(run_id, store, settings, bucket, prefix)
    digest = hashlib.sha256(archive).hexdigest()
    rid = str(metadata["run_id"])
    s3 = s3_client or client("s3", settings)
    try:
        s3.put_object(
            Bucket=target,
            Key=key,
            Body=archive,
            ContentType="application/x-gzip",
            Metadata={
                "run-id": rid,
                "sha256": digest,
                "framework": framework,
                "library-version": str(metadata.get("library_version", "")),
            },
        )
    except Exception as exc:
        code = error_code(exc)
        if not code:
            raise
        raise AwsOperationError(
            f"uploading s3://{target}/{key} failed ({code}): {exc}",
            step="put_object",
            aws_error_code=code,
        ) from exc
    uri = f"s3://{target}/{key}"
    store.set_tags(rid, {MODEL_DATA_URL_TAG: uri, FRAMEWORK_TAG: framework})
    return uri
