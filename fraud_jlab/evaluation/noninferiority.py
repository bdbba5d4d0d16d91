"""Paired non-inferiority of average precision: two models scored on the same holdout rows.

:func:`paired_ap_lower_bound` returns both models' AP, their difference and the one-sided
lower confidence bound of ``AP(candidate) - AP(production)`` from a stratified paired
bootstrap: every replicate draws the same positives and the same negatives for both models.

Only negatives scoring at or above the lowest-scoring positive (of either model) can ever
count as a false positive in AP, so a replicate only needs the draws that land there. With
``N`` negatives of which ``r`` are relevant, the number of the ``N`` draws that land in the
relevant set is ``Binomial(N, r / N)`` and those draws are uniform over it: exactly the
multinomial bootstrap, at a cost of ``B x r`` instead of ``B x N``. A negative matters only
through how many positives of each model score at or below it, so negatives are grouped
into cells of equal (k_a, k_b) and the AP of a replicate costs ``B x cells``. A 2,000-round
bound on a 57k-row holdout of a useful model takes tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import as_labels, as_scores, require_both_classes
from fraud_jlab.evaluation.weighted import stratified_counts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class PairedApBound:
    """``AP(candidate) - AP(production)`` on the same rows with its one-sided lower bound."""

    candidate: float
    production: float
    difference: float
    lower_bound: float
    level: float
    n_bootstrap: int
    n_rows: int
    n_pos: int


class _Model:
    """One model's positives (descending, tie groups) and where each negative cell falls.

    ``k`` of a negative is the number of positives scoring at or below it; a negative is a
    false positive at positive ``i``'s threshold exactly when its ``k`` is at least
    ``h_i``, the number of positives scoring at or below positive ``i``.
    """

    def __init__(self, pos: FloatArray, cell_k: IntArray) -> None:
        asc = np.sort(pos)
        self.desc_order = np.argsort(-pos, kind="stable")
        desc = pos[self.desc_order]
        n = desc.size
        is_end = np.ones(n, dtype=bool)
        is_end[:-1] = desc[1:] != desc[:-1]
        ends = np.flatnonzero(is_end)
        self.group_end = ends[np.searchsorted(ends, np.arange(n), side="left")]
        h = np.searchsorted(asc, desc, side="right")
        self.cell_order = np.argsort(cell_k, kind="stable")
        # Per positive (descending): first cell (in k order) whose negatives count as FP.
        self.first_fp_cell = np.searchsorted(cell_k[self.cell_order], h, side="left")

    def ap(self, w_pos: FloatArray, w_cells: FloatArray) -> FloatArray:
        """AP per replicate; ``w_pos`` (B, m) original order, ``w_cells`` (B, C) cell weights."""
        n_pos = w_pos.shape[1]
        wp = w_pos[:, self.desc_order]
        tp = np.cumsum(wp, axis=1)[:, self.group_end]
        cum = np.zeros((w_cells.shape[0], w_cells.shape[1] + 1))
        np.cumsum(w_cells[:, self.cell_order], axis=1, out=cum[:, 1:])
        fp = cum[:, -1:] - cum[:, self.first_fp_cell]
        denom = tp + fp
        prec = np.divide(tp, denom, out=np.zeros_like(tp), where=denom > 0)
        result: FloatArray = (wp * prec).sum(axis=1) / n_pos
        return result


def _cell_counts(
    rng: np.random.Generator,
    n_neg: int,
    rel_cell: IntArray,
    cell_n: IntArray,
    rounds: int,
) -> FloatArray:
    """Bootstrap weights of the cells: of the ``n_neg`` draws, Binomial(N, r/N) land among
    the ``r`` relevant negatives, uniformly; each is counted in its negative's cell."""
    n_rel = rel_cell.size
    n_cells = cell_n.size
    if n_rel == 0:
        return np.zeros((rounds, 0))
    landed = rng.binomial(n_neg, n_rel / n_neg, size=rounds)
    if 2 * n_cells < n_rel:  # fewer cells than negatives: draw the cell counts directly
        return rng.multinomial(landed, cell_n / n_rel).astype(np.float64)
    width = max(int(landed.max()), 1)
    draws = rng.integers(0, n_rel, size=(rounds, width), dtype=np.int64)
    keep = np.arange(width)[None, :] < landed[:, None]
    flat = (rel_cell[draws] + (np.arange(rounds, dtype=np.int64) * n_cells)[:, None])[keep]
    counts = np.bincount(flat, minlength=rounds * n_cells)
    return counts.reshape(rounds, n_cells).astype(np.float64)


def paired_ap_lower_bound(
    y_true: Any,
    candidate_scores: Any,
    production_scores: Any,
    *,
    level: float = 0.95,
    n_bootstrap: int = 2000,
    random_state: int | None = 0,
) -> PairedApBound:
    """Both APs on the same rows, their difference and its one-sided ``level`` lower bound.

    The bound is the ``1 - level`` quantile of the paired stratified bootstrap differences.
    Raises ValidationError for mismatched or degenerate input.
    """
    if not isinstance(level, float) or not 0.5 <= level < 1:
        raise ValidationError(f"level must be in [0.5, 1), got {level!r}", field="level")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int):
        raise ValidationError("n_bootstrap must be an integer", field="n_bootstrap")
    if not 100 <= n_bootstrap <= 100_000:
        raise ValidationError(
            f"n_bootstrap must be in [100, 100000], got {n_bootstrap}", field="n_bootstrap"
        )
    y = as_labels(y_true)
    n_pos, n_neg = require_both_classes(y)
    a = as_scores(candidate_scores, y.size, field="candidate_scores")
    b = as_scores(production_scores, y.size, field="production_scores")
    pos = y == 1
    a_pos, b_pos = a[pos], b[pos]
    a_neg, b_neg = a[~pos], b[~pos]
    k_a = np.searchsorted(np.sort(a_pos), a_neg, side="right")
    k_b = np.searchsorted(np.sort(b_pos), b_neg, side="right")
    relevant = (k_a > 0) | (k_b > 0)  # at or above the lowest positive of either model
    keys, rel_cell, cell_n = np.unique(
        k_a[relevant] * (n_pos + 1) + k_b[relevant], return_inverse=True, return_counts=True
    )
    ma = _Model(a_pos, keys // (n_pos + 1))
    mb = _Model(b_pos, keys % (n_pos + 1))
    ones_pos = np.ones((1, n_pos))
    cells_once = cell_n[None, :].astype(np.float64)
    ap_a = float(ma.ap(ones_pos, cells_once)[0])
    ap_b = float(mb.ap(ones_pos, cells_once)[0])
    rng = np.random.default_rng(random_state)
    diffs: list[FloatArray] = []
    rel_cell = rel_cell.astype(np.int64).ravel()
    chunk = max(1, min(n_bootstrap, 4_000_000 // max(n_pos + rel_cell.size, 1)))
    done = 0
    while done < n_bootstrap:
        rounds = min(chunk, n_bootstrap - done)
        w_pos = stratified_counts(rng, n_pos, rounds).astype(np.float64)
        w_cells = _cell_counts(rng, n_neg, rel_cell, cell_n, rounds)
        diffs.append(ma.ap(w_pos, w_cells) - mb.ap(w_pos, w_cells))
        done += rounds
    d = np.concatenate(diffs)
    return PairedApBound(
        candidate=ap_a,
        production=ap_b,
        difference=ap_a - ap_b,
        lower_bound=float(np.quantile(d, 1 - level)),
        level=level,
        n_bootstrap=n_bootstrap,
        n_rows=int(y.size),
        n_pos=n_pos,
    )


__all__ = ["PairedApBound", "paired_ap_lower_bound"]
