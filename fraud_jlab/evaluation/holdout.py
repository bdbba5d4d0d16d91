"""The holdout labels+scores artifact that makes two runs comparable pairwise.

``evaluation/holdout_scores.npz`` holds ``y_true`` (int8), ``y_score`` (float32) and
``holdout_hash``: ``sha256(y_true.astype(int8).tobytes() + len(y_true) as 8-byte
little-endian)`` in hex. Two runs evaluated on the same holdout rows in the same order have
the same label hash, but so do two *different* holdouts whose labels happen to line up, so
the label hash does not decide pairing.

Pairing is decided by ``holdout_identity`` (hex sha256 of the row identities, see
:func:`holdout_identity`): of the row ids / DataFrame index values and the feature values
when a DataFrame is given, else of the array bytes (dtype and shape included), always with
the labels. Artifacts written before ``holdout_identity`` existed are still read
(``HoldoutScores.holdout_identity`` is None) but are never treated as paired.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import as_labels, as_scores

HOLDOUT_ARTIFACT = "evaluation/holdout_scores.npz"


def holdout_hash(y_true: Any) -> str:
    """Hex sha256 identifying a holdout by its labels (order included) and row count."""
    y = as_labels(y_true)
    digest = hashlib.sha256(y.tobytes())
    digest.update(int(y.size).to_bytes(8, "little"))
    return digest.hexdigest()


def _update_array(digest: Any, tag: bytes, values: Any) -> None:
    arr = np.asarray(values)
    if arr.dtype == object:
        # Strings / mixed index values: hash their text, element by element with separators.
        text = "\x1f".join(repr(v) for v in arr.ravel().tolist())
        data = text.encode("utf-8")
        kind = b"object"
    else:
        arr = np.ascontiguousarray(arr)
        data = arr.tobytes()
        kind = arr.dtype.str.encode()
    digest.update(tag + b"|" + kind + b"|" + repr(arr.shape).encode() + b"|")
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def holdout_identity(X: Any, y_true: Any, row_ids: Any = None) -> str:  # noqa: N803
    """Hex sha256 identifying a holdout by its rows (order included), not just its labels.

    ``row_ids`` (one per row) when given, else a DataFrame's index values plus its column
    names and values, else the bytes of ``np.asarray(X)``; always with the labels. Two
    holdouts of different transactions get different identities even when their labels match.
    """
    y = as_labels(y_true)
    digest = hashlib.sha256(b"fraud_jlab.holdout_identity.v1")
    _update_array(digest, b"y", y)
    if row_ids is not None:
        ids = np.asarray(row_ids)
        if ids.ndim != 1 or ids.size != y.size:
            raise ValidationError(
                f"row_ids must have one id per holdout row ({y.size}), got shape {ids.shape}",
                field="row_ids",
            )
        _update_array(digest, b"ids", ids)
        return digest.hexdigest()
    if hasattr(X, "index") and hasattr(X, "columns"):
        if len(X) != y.size:
            raise ValidationError(
                f"X_test has {len(X)} rows but y_test has {y.size}", field="X_test"
            )
        _update_array(digest, b"index", np.asarray(X.index))
        _update_array(digest, b"columns", np.asarray([str(c) for c in X.columns], dtype=object))
        for col in X.columns:
            _update_array(digest, b"col", np.asarray(X[col]))
        return digest.hexdigest()
    if hasattr(X, "tocsr") and hasattr(X, "shape"):  # scipy.sparse: hash the CSR structure
        csr = X.tocsr()
        if csr.shape[0] != y.size:
            raise ValidationError(
                f"X_test has {csr.shape[0]} rows but y_test has {y.size}", field="X_test"
            )
        csr.sum_duplicates()
        csr.sort_indices()
        _update_array(digest, b"sparse_shape", np.asarray(csr.shape, dtype=np.int64))
        for part in (csr.indptr, csr.indices, csr.data):
            _update_array(digest, b"sparse", np.asarray(part))
        return digest.hexdigest()
    arr = np.asarray(X)
    if arr.ndim == 0 or arr.shape[0] != y.size:
        raise ValidationError(
            f"X_test must have one row per label ({y.size}), got shape {arr.shape}",
            field="X_test",
        )
    _update_array(digest, b"X", arr)
    return digest.hexdigest()


@dataclass(frozen=True)
class HoldoutScores:
    y_true: NDArray[np.int8]
    y_score: NDArray[np.float32]
    holdout_hash: str
    holdout_identity: str | None = None  # None: an older artifact, pairing not provable


def holdout_scores_npz(y_true: Any, y_score: Any, *, identity: str | None = None) -> bytes:
    """The ``.npz`` bytes of the artifact (validated: same length, finite scores, 0/1 labels).

    ``identity`` (from :func:`holdout_identity`) is what makes two runs' scores pairable;
    without it the artifact is stored like an older one and comparisons treat it as unpaired.
    """
    y = as_labels(y_true)
    score = as_scores(y_score, y.size).astype(np.float32)
    arrays: dict[str, Any] = {
        "y_true": y,
        "y_score": score,
        "holdout_hash": np.array(holdout_hash(y)),
    }
    if identity is not None:
        if not isinstance(identity, str) or not re.fullmatch(r"[0-9a-f]{64}", identity):
            raise ValidationError(
                "identity must be a 64-character hex sha256 from holdout_identity",
                field="identity",
            )
        arrays["holdout_identity"] = np.array(identity)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def read_holdout_scores(data: bytes) -> HoldoutScores:
    """Parse the artifact; ValidationError when it is not a valid holdout scores file."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            y = np.asarray(npz["y_true"])
            score = np.asarray(npz["y_score"])
            digest = str(npz["holdout_hash"])
            identity = str(npz["holdout_identity"]) if "holdout_identity" in npz.files else None
    except Exception as exc:
        raise ValidationError(
            f"{HOLDOUT_ARTIFACT} is not a valid holdout scores file: {exc}", field="artifact"
        ) from exc
    y8 = as_labels(y, field="y_true")
    as_scores(score, y8.size, field="y_score")
    if holdout_hash(y8) != digest:
        raise ValidationError(
            f"{HOLDOUT_ARTIFACT}: holdout_hash does not match its y_true", field="artifact"
        )
    return HoldoutScores(
        y_true=y8,
        y_score=score.astype(np.float32),
        holdout_hash=digest,
        holdout_identity=identity,
    )
