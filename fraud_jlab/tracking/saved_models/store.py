"""Save a fitted model with its run and load it back: ``log_model`` / ``load_model``.

A run's model lives in its artifact store under ``model/``: the model file in its
library's own format (see :mod:`fraud_jlab.tracking.saved_models.flavors`) and
``model/MODEL.json`` describing it (flavor, algorithm, file, SHA-256, library
versions, signature). The run gets the tags ``model.flavor``, ``model.algorithm``
and ``model.uri`` (``runs:/<run_id>/model``), so runs with a model are searchable.

Example::

    with Run("fraud-detection-optimization", "xgb-1") as run:
        model.fit(X_train, y_train)
        run.log_model(model, X_train)
    loaded = load_model(run.run_id)
    loaded.predict_proba(X_test)[:, 1]   # exactly the saved model's probabilities
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.saved_models.flavors import class_probabilities, deserialise, serialise
from fraud_jlab.tracking.saved_models.signature import ModelSignature, infer_signature

if TYPE_CHECKING:
    from fraud_jlab.tracking.contract import TrackerStore
    from fraud_jlab.tracking.run import Run

MODEL_DIR = "model"
METADATA_FILE = f"{MODEL_DIR}/MODEL.json"
FORMAT_VERSION = 1
URI_PREFIX = "runs:/"


def model_uri(run_id: str) -> str:
    """``runs:/<run_id>/model``: the address of a run's model (what :func:`load_model` takes)."""
    return f"{URI_PREFIX}{run_id}/{MODEL_DIR}"


@dataclass
class ModelInfo:
    """What :func:`log_model` stored."""

    run_id: str
    uri: str
    flavor: str
    algorithm: str
    file: str
    sha256: str
    signature: ModelSignature


class LoadedModel:
    """A saved model loaded back; ``native`` is the library's own object.

    ``predict_proba`` returns ``(n, 2)`` class probabilities equal to the saved
    model's; ``predict`` flags rows whose fraud probability is ``>= threshold``.
    """

    def __init__(self, native: Any, metadata: dict[str, Any]) -> None:
        self.native = native
        self.metadata = metadata
        self.flavor: str = str(metadata["flavor"])
        self.algorithm: str = str(metadata["algorithm"])
        self.signature = ModelSignature.from_dict(metadata["signature"])
        self.run_id: str = str(metadata["run_id"])

    def predict_proba(self, X: Any) -> np.ndarray[Any, Any]:  # noqa: N803 - scikit-learn's name
        matrix = self.signature.check(X)
        return class_probabilities(
            self.flavor,
            self.native,
            matrix,
            dict(self.metadata.get("extra") or {}),
            list(self.signature.feature_names),
        )

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray[Any, Any]:  # noqa: N803
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def __repr__(self) -> str:
        return f"LoadedModel({self.algorithm!r}, run_id={self.run_id!r})"


def log_model(
    run: Run,
    model: Any,
    X: Any = None,  # noqa: N803 - scikit-learn's name
    *,
    signature: ModelSignature | None = None,
    feature_names: Sequence[str] | None = None,
    feature_version: str | None = None,
) -> ModelInfo:
    """Save fitted ``model`` with ``run``; the signature comes from ``X`` or ``signature``.

    Raises ValidationError for an unfitted or unsupported model, or when neither
    ``X`` nor ``signature`` is given (nothing is written then).
    """
    if signature is None:
        if X is None:
            raise ValidationError(
                "log_model needs the training matrix X (or a signature) to record the "
                "feature names and dtypes",
                field="X",
            )
        signature = infer_signature(X, feature_names=feature_names, feature_version=feature_version)
    saved = serialise(model)
    digest = hashlib.sha256(saved.data).hexdigest()
    metadata = {
        "format_version": FORMAT_VERSION,
        "run_id": run.run_id,
        "flavor": saved.flavor,
        "algorithm": saved.algorithm,
        "file": saved.file_name,
        "sha256": digest,
        "estimator_class": saved.estimator_class,
        "library_version": saved.library_version,
        "signature": signature.to_dict(),
        "extra": saved.extra,
    }
    run.log_artifact(f"{MODEL_DIR}/{saved.file_name}", saved.data)
    run.log_artifact(METADATA_FILE, json.dumps(metadata, indent=2, sort_keys=True))
    uri = model_uri(run.run_id)
    run.set_tags(
        {"model.flavor": saved.flavor, "model.algorithm": saved.algorithm, "model.uri": uri}
    )
    return ModelInfo(
        run.run_id, uri, saved.flavor, saved.algorithm, saved.file_name, digest, signature
    )


def _run_id(run_id_or_uri: str) -> str:
    if not isinstance(run_id_or_uri, str) or not run_id_or_uri.strip():
        raise ValidationError("run_id must be a non-empty string", field="run_id")
    text = run_id_or_uri.strip()
    if text.startswith(URI_PREFIX):
        rest = text[len(URI_PREFIX) :].rstrip("/")
        if not rest.endswith(f"/{MODEL_DIR}"):
            raise ValidationError(
                f"model URI must look like runs:/<run_id>/{MODEL_DIR}, got {text!r}",
                field="run_id",
            )
        return rest[: -len(MODEL_DIR) - 1]
    return text


def read_model_files(
    run_id: str, *, tracker: TrackerStore | None = None
) -> tuple[dict[str, Any], bytes]:
    """The metadata and the model bytes of a run (checksum verified)."""
    from fraud_jlab.tracking.registry import get_tracker

    store = tracker or get_tracker()
    rid = _run_id(run_id)
    store.get_run(rid)  # NotFoundError for an unknown run
    try:
        metadata = json.loads(store.read_artifact(rid, METADATA_FILE))
    except NotFoundError:
        raise NotFoundError(
            "model", rid, "This run has no saved model; log one with run.log_model(model, X)."
        ) from None
    data = store.read_artifact(rid, f"{MODEL_DIR}/{metadata['file']}")
    if hashlib.sha256(data).hexdigest() != metadata["sha256"]:
        raise ValidationError(
            f"the model file of run {rid} does not match its recorded SHA-256; "
            "it was changed after it was saved",
            field="run_id",
        )
    return metadata, data


def load_model(run_id: str, *, tracker: TrackerStore | None = None) -> LoadedModel:
    """The model saved with ``run_id`` (a run id or ``runs:/<run_id>/model``).

    Raises NotFoundError (unknown run, or a run without a model), ValidationError
    (checksum mismatch), :class:`~fraud_jlab.tracking.saved_models.flavors.ModelVersionMismatch`
    (a pickled scikit-learn model from other scikit-learn/Python versions).
    """
    metadata, data = read_model_files(run_id, tracker=tracker)
    where = f"the model of run {metadata['run_id']}"
    native = deserialise(
        str(metadata["flavor"]), data, dict(metadata.get("extra") or {}), where=where
    )
    return LoadedModel(native, metadata)
