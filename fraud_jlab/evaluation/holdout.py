"""The holdout labels+scores artifact that makes two runs comparable pairwise.

``evaluation/holdout_scores.npz`` holds ``y_true`` (int8), ``y_score`` (float32) and
``holdout_hash``: ``sha256(y_true.astype(int8).tobytes() + len(y_true) as 8-byte
little-endian)`` in hex. Two runs evaluated on the same holdout rows in the same order have
the same hash; only then is a paired bootstrap meaningful.
"""

from __future__ import annotations

import hashlib
import io
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


@dataclass(frozen=True)
class HoldoutScores:
    y_true: NDArray[np.int8]
    y_score: NDArray[np.float32]
    holdout_hash: str


def holdout_scores_npz(y_true: Any, y_score: Any) -> bytes:
    """The ``.npz`` bytes of the artifact (validated: same length, finite scores, 0/1 labels)."""
    y = as_labels(y_true)
    score = as_scores(y_score, y.size).astype(np.float32)
    buf = io.BytesIO()
    np.savez_compressed(buf, y_true=y, y_score=score, holdout_hash=np.array(holdout_hash(y)))
    return buf.getvalue()


def read_holdout_scores(data: bytes) -> HoldoutScores:
    """Parse the artifact; ValidationError when it is not a valid holdout scores file."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            y = np.asarray(npz["y_true"])
            score = np.asarray(npz["y_score"])
            digest = str(npz["holdout_hash"])
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
    return HoldoutScores(y_true=y8, y_score=score.astype(np.float32), holdout_hash=digest)
