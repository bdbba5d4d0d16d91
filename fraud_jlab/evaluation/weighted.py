"""Metric kernels on per-row resampling weights, shared by point estimates and the bootstrap.

A replicate is described by integer weights: how many times each positive and each
negative row was drawn. The point estimate is the replicate with every weight 1, so the
bootstrap and the reported metric use exactly the same formulas. Rows are sorted once by
score; each replicate then costs a cumulative sum and a few gathers, which is what makes
1,000 rounds on ~57k rows take well under a second.

Conventions: a row is predicted positive when ``score >= threshold``; average precision is
the step-wise sum over distinct thresholds (scikit-learn's definition); ROC AUC counts tied
positive/negative pairs as one half; recall at FPR is the highest recall of any threshold
whose false-positive rate is at most ``target_fpr`` (no interpolation between thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SortedScores:
    """One model's scores split by class and sorted, plus its hard predictions.

    Negative weights are passed to :func:`weighted_metrics` in ``neg_order`` (ascending score)
    order, which spares the bootstrap a gather over the largest array.
    """

    pos_scores: FloatArray  # positives, original order
    pos_pred: NDArray[np.bool_]  # positives predicted positive
    neg_order: IntArray  # argsort of negatives (original order), ascending
    neg_sorted: FloatArray
    neg_pred_idx: IntArray  # positions (in sorted order) of negatives predicted positive
    pos_lo: IntArray  # per positive: negatives strictly below it
    pos_hi: IntArray  # per positive: negatives at or below it
    pos_desc_order: IntArray  # argsort of positives, descending
    pos_group_end: IntArray  # per position in descending order: last index of its tie group

    @property
    def n_pos(self) -> int:
        return int(self.pos_scores.size)

    @property
    def n_neg(self) -> int:
        return int(self.neg_sorted.size)

    @classmethod
    def build(
        cls,
        pos_scores: FloatArray,
        neg_scores: FloatArray,
        pos_pred: NDArray[np.bool_],
        neg_pred: NDArray[np.bool_],
    ) -> SortedScores:
        neg_order = np.argsort(neg_scores, kind="stable").astype(np.int64)
        neg_sorted = neg_scores[neg_order]
        pos_desc_order = np.argsort(-pos_scores, kind="stable").astype(np.int64)
        desc = pos_scores[pos_desc_order]
        # Index of the last element of each run of equal scores (ties share one threshold).
        n = desc.size
        is_end = np.ones(n, dtype=bool)
        if n > 1:
            is_end[:-1] = desc[1:] != desc[:-1]
        ends = np.flatnonzero(is_end)
        group_end = ends[np.searchsorted(ends, np.arange(n), side="left")]
        return cls(
            pos_scores=pos_scores,
            pos_pred=pos_pred,
            neg_order=neg_order,
            neg_sorted=neg_sorted,
            neg_pred_idx=np.flatnonzero(neg_pred[neg_order]).astype(np.int64),
            pos_lo=np.searchsorted(neg_sorted, pos_scores, side="left").astype(np.int64),
            pos_hi=np.searchsorted(neg_sorted, pos_scores, side="right").astype(np.int64),
            pos_desc_order=pos_desc_order,
            pos_group_end=group_end.astype(np.int64),
        )


def unit_weights(s: SortedScores) -> tuple[IntArray, IntArray]:
    """The weights of the point estimate (every row drawn once)."""
    return np.ones((1, s.n_pos), dtype=np.int64), np.ones((1, s.n_neg), dtype=np.int64)


def weighted_metrics(
    s: SortedScores, w_pos: IntArray, w_neg_sorted: IntArray, target_fpr: float
) -> dict[str, FloatArray]:
    """Every headline metric for each replicate (row) of the weight matrices.

    ``w_pos`` has shape (B, n_pos) in the original order of the positives; ``w_neg_sorted``
    has shape (B, n_neg) in ``s.neg_order`` order. Every row of ``w_pos`` sums to n_pos and of
    ``w_neg_sorted`` to n_neg (stratified resampling).
    """
    n_pos = float(s.n_pos)
    n_neg = float(s.n_neg)
    w_pos_f = w_pos.astype(np.float64)

    tp = w_pos_f @ s.pos_pred.astype(np.float64)
    fp = w_neg_sorted[:, s.neg_pred_idx].sum(axis=1).astype(np.float64)
    fn = n_pos - tp
    tn = n_neg - fp
    predicted = tp + fp
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = tp / n_pos
    f1 = 2 * tp / (2 * tp + fp + fn)
    accuracy = (tp + tn) / (n_pos + n_neg)

    # cum[:, j] = weight of the j lowest-scoring negatives.
    cum = np.zeros((w_neg_sorted.shape[0], s.n_neg + 1), dtype=np.int64)
    np.cumsum(w_neg_sorted, axis=1, out=cum[:, 1:])

    below = cum[:, s.pos_lo].astype(np.float64)
    ties = cum[:, s.pos_hi] - below
    auc = (w_pos_f * (below + 0.5 * ties)).sum(axis=1) / (n_pos * n_neg)

    # Average precision: each positive contributes weight * precision at its score's threshold.
    wp_desc = w_pos_f[:, s.pos_desc_order]
    tp_cum = np.cumsum(wp_desc, axis=1)[:, s.pos_group_end]
    fp_at = n_neg - cum[:, s.pos_lo[s.pos_desc_order]].astype(np.float64)
    denom = tp_cum + fp_at
    prec_at = np.divide(tp_cum, denom, out=np.zeros_like(tp_cum), where=denom > 0)
    ap = (wp_desc * prec_at).sum(axis=1) / n_pos

    recall_fpr = _recall_at_fpr(s, w_pos_f, cum, target_fpr)
    return {
        "accuracy": accuracy,
        "precision": precision,
        "recall": recall,
        "f1_score": f1,
        "auc_roc": auc,
        "average_precision": ap,
        "recall_at_fpr": recall_fpr,
    }


def allowed_false_positives(n_neg: int, target_fpr: float) -> int:
    """Most false positives a threshold may produce and still have FPR <= target_fpr."""
    # The small epsilon keeps e.g. 0.001 * 3000 == 3 from flooring to 2.
    return int(np.floor(target_fpr * n_neg + 1e-9))


def _recall_at_fpr(
    s: SortedScores, w_pos_f: FloatArray, cum: IntArray, target_fpr: float
) -> FloatArray:
    n_neg = s.n_neg
    k = allowed_false_positives(n_neg, target_fpr)
    if k >= n_neg:
        return np.ones(w_pos_f.shape[0])
    # v = the (k+1)-th largest drawn negative score; any threshold above v has at most k
    # false positives and any threshold at or below it has more, so recall counts positives > v.
    # Each row of cum is non-decreasing, so a per-row binary search finds v's position.
    limit = n_neg - k - 1
    j = np.fromiter(
        (np.searchsorted(row, limit, side="right") - 1 for row in cum[:, :n_neg]),
        dtype=np.int64,
        count=cum.shape[0],
    )
    v = s.neg_sorted[j]
    above = s.pos_scores[None, :] > v[:, None]
    result: FloatArray = (w_pos_f * above).sum(axis=1) / s.n_pos
    return result


def stratified_counts(rng: np.random.Generator, n: int, rounds: int) -> IntArray:
    """Bootstrap draw counts, shape (rounds, n): each row is n draws with replacement from n rows."""
    draws = rng.integers(0, n, size=(rounds, n), dtype=np.int64)
    draws += (np.arange(rounds, dtype=np.int64) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=rounds * n).reshape(rounds, n)


def chunk_rounds(n_rows: int, n_bootstrap: int, budget: int = 4_000_000) -> list[int]:
    """Split the rounds into chunks whose (rounds x rows) matrices stay around ``budget`` cells."""
    per_chunk = max(1, min(n_bootstrap, budget // max(n_rows, 1)))
    full, rest = divmod(n_bootstrap, per_chunk)
    return [per_chunk] * full + ([rest] if rest else [])
