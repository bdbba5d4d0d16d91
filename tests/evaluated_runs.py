"""Runs that look evaluated: the metrics the promotion gates read and stored holdout scores.

Every run logged with :func:`log_evaluation` shares one holdout (same rows, same identity),
so the non-inferiority gate can pair any two of them. The default scores are identical, so
a second run is exactly as good as the first (paired difference 0, bound 0).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, holdout_identity, holdout_scores_npz
from fraud_jlab.tracking.contract import TrackerStore

N_ROWS, N_POS = 5000, 100
_rng = np.random.default_rng(2024)
Y = np.r_[np.ones(N_POS, dtype=np.int8), np.zeros(N_ROWS - N_POS, dtype=np.int8)]
ROW_IDS = np.arange(N_ROWS)
IDENTITY = holdout_identity(None, Y, ROW_IDS)
#: A useful model's scores on the shared holdout (AP about 0.8).
SCORES = 1 / (1 + np.exp(-(4.0 * Y + _rng.normal(size=N_ROWS) - 5.0)))

#: What the gates need besides accuracy and average precision.
GATE_METRICS: dict[str, float] = {
    "recall_at_fpr": 0.7,
    "holdout_fraud_rate": N_POS / N_ROWS,
    "holdout_n_pos": float(N_POS),
}


def log_evaluation(
    tracker: TrackerStore, run_id: str, scores: Any = None, *, identity: str = IDENTITY
) -> None:
    """Store holdout scores (default: :data:`SCORES`) on the shared holdout for ``run_id``."""
    s = SCORES if scores is None else np.asarray(scores, dtype=np.float64)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "holdout_scores.npz"
        path.write_bytes(holdout_scores_npz(Y, s, identity=identity))
        tracker.log_artifact(run_id, path, artifact_path=HOLDOUT_ARTIFACT)
    tracker.set_tags(run_id, {"evaluation.target_fpr": "0.001"})
