"""Confidence intervals for the ranking metrics that hold with few frauds.

``auc_roc``, ``average_precision`` and ``recall_at_fpr`` depend on the negatives only
through where each negative falls among the positives' scores. Negatives are therefore
grouped into cells of equal ``(#positives below, #positives at or below)``; there are at
most ``2 * (n_pos + 1)`` cells, so a stratified bootstrap replicate (positives resampled,
negatives resampled as multinomial counts over the cells, exactly the row bootstrap) costs
``O(n_pos)`` whatever the holdout size. That makes 2,000 rounds cheap and the coverage
simulations in the test-suite fast.

The percentile bootstrap undercovers with ~20 frauds (the metrics are skewed near 1 and a
resample of 20 frauds rarely holds the rare badly-ranked one), so each metric gets the
method that measured >= 93% coverage at 20 frauds (tests/unit/evaluation/test_coverage.py):
see :func:`ranking_intervals`. Below
:data:`MIN_FRAUDS` positives no interval is given: ``estimable`` is False and the UI says
"too few frauds to estimate".
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fraud_jlab.evaluation.metrics import as_labels, as_scores, require_both_classes
from fraud_jlab.evaluation.weighted import allowed_false_positives, stratified_counts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Ranking metrics these intervals are for.
RANKING_METRICS: tuple[str, ...] = ("auc_roc", "average_precision", "recall_at_fpr")
#: Fewest frauds for which an interval is reported (fewer: "too few frauds to estimate").
MIN_FRAUDS = 10
TOO_FEW = "too few frauds to estimate"
_EPS = 1e-6
_NORMAL = NormalDist()


class _Cells:
    """Positives sorted with their tie groups, negatives collapsed into cells."""

    def __init__(self, pos: FloatArray, neg: FloatArray) -> None:
        m = pos.size
        self.m = m
        self.n_neg = neg.size
        asc = np.sort(pos)
        self.pos_order = np.argsort(pos, kind="stable")  # ascending
        s = pos[self.pos_order]
        # Per positive (ascending): positives strictly below / at or below its score.
        self.p_lo = np.searchsorted(asc, s, side="left")
        self.p_hi = np.searchsorted(asc, s, side="right")
        k_lo = np.searchsorted(asc, neg, side="left")
        k_hi = np.searchsorted(asc, neg, side="right")
        keys, counts = np.unique(k_lo * (m + 1) + k_hi, return_counts=True)
        self.c_lo = keys // (m + 1)
        self.c_hi = keys % (m + 1)
        self.cell_n = counts.astype(np.float64)
        # cells ordered by k_hi for "negatives at or above a positive" (k_hi >= p_hi) sums
        self.order_hi = np.argsort(self.c_hi, kind="stable")
        hi_sorted = self.c_hi[self.order_hi]
        self.first_at_or_above = np.searchsorted(hi_sorted, self.p_hi, side="left")
        self.first_above_lo = np.searchsorted(hi_sorted, self.p_lo, side="right")
        # ties: cells with k_lo == p_lo and k_hi == p_hi and k_lo < k_hi, per positive
        tie_key = self.c_lo * (m + 1) + self.c_hi
        want = self.p_lo * (m + 1) + self.p_hi
        pos_in = np.searchsorted(keys, want)
        pos_in = np.minimum(pos_in, keys.size - 1)
        self.tie_cell = np.where(
            (keys[pos_in] == want) & (self.p_lo < self.p_hi), pos_in, -1
        ).astype(np.int64)
        del tie_key

    def metrics(
        self, w_pos: FloatArray, w_cells: FloatArray, allowed_fp: int
    ) -> dict[str, FloatArray]:
        """The three metrics per replicate. ``w_pos`` (B, m) ascending order; ``w_cells`` (B, C)."""
        b = w_pos.shape[0]
        m = float(self.m)
        n_neg = float(self.n_neg)
        cum = np.zeros((b, w_cells.shape[1] + 1))
        np.cumsum(w_cells[:, self.order_hi], axis=1, out=cum[:, 1:])
        total = cum[:, -1:]
        at_or_above = total - cum[:, self.first_at_or_above]  # negatives >= each positive
        below = cum[:, self.first_above_lo]  # negatives with k_hi <= p_lo: < each positive
        padded = np.concatenate([w_cells, np.zeros((b, 1))], axis=1)
        ties = padded[:, self.tie_cell]
        auc = (w_pos * (below + 0.5 * ties)).sum(axis=1) / (m * n_neg)
        # AP: positives at or above each positive's score (its tie group included)
        cum_pos = np.cumsum(w_pos[:, ::-1], axis=1)[:, ::-1]  # suffix sums, ascending order
        tp = cum_pos[:, self.p_lo]
        denom = tp + at_or_above
        prec = np.divide(tp, denom, out=np.zeros_like(tp), where=denom > 0)
        ap = (w_pos * prec).sum(axis=1) / m
        # recall at FPR: positives above the (allowed_fp + 1)-th highest drawn negative
        if allowed_fp >= self.n_neg:
            recall = np.ones(b)
        else:
            # Highest cells first: the cell holding the (allowed_fp + 1)-th highest negative.
            from_top = total - cum  # negatives in cells at index >= j (k_hi order)
            j = (from_top[:, :-1] > allowed_fp).sum(axis=1) - 1
            k_v = self.c_hi[self.order_hi][np.clip(j, 0, None)]
            # positives strictly above v: ascending index >= k_v (those with score > v)
            above = np.arange(self.m)[None, :] >= k_v[:, None]
            recall = (w_pos * above).sum(axis=1) / m
        return {"auc_roc": auc, "average_precision": ap, "recall_at_fpr": recall}


@dataclass(frozen=True)
class RankingInterval:
    """Point estimate and BCa interval of one ranking metric (None bounds: too few frauds)."""

    estimate: float
    low: float | None
    high: float | None
    level: float
    n_bootstrap: int
    n_pos: int
    method: str

    @property
    def estimable(self) -> bool:
        return self.low is not None


def _logit(x: FloatArray) -> FloatArray:
    c = np.clip(x, _EPS, 1 - _EPS)
    out: FloatArray = np.log(c / (1 - c))
    return out


def _expanded_z(q: float, n: int) -> float:
    """Hesterberg's small-sample expansion: ``sqrt(n / (n - 1)) * t_{n-1}`` quantile for ``q``.

    The bootstrap's spread is that of a sample of n (variance divided by n, not n - 1) and a
    normal quantile ignores that the spread itself is estimated; both narrow intervals with
    ~20 frauds.
    """
    from scipy.stats import t as student_t

    return float(np.sqrt(n / (n - 1)) * student_t.ppf(q, n - 1))


def _bca(point: float, reps: FloatArray, jack: FloatArray, level: float) -> tuple[float, float]:
    """Expanded BCa bounds on the logit scale (``len(jack)`` frauds), mapped back."""
    t0 = float(_logit(np.array([point]))[0])
    t = _logit(reps)
    tj = _logit(jack)
    below = (np.count_nonzero(t < t0) + 0.5 * np.count_nonzero(t == t0)) / t.size
    z0 = _NORMAL.inv_cdf(min(max(below, 1e-4), 1 - 1e-4))
    d = tj.mean() - tj
    denom = 6.0 * float((d**2).sum()) ** 1.5
    acc = float((d**3).sum()) / denom if denom > 0 else 0.0
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        z = _expanded_z(q, jack.size)
        adj = _NORMAL.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        out.append(float(np.quantile(t, min(max(adj, 0.0), 1.0))))
    lo, hi = (float(1 / (1 + np.exp(-v))) for v in out)
    return min(lo, point), max(hi, point)


def _score_interval(
    point: float, variance: Any, level: float, grid_size: int = 20_001
) -> tuple[float, float]:
    """Every value ``a`` in [0, 1] with ``|point - a| <= z * sqrt(variance(a))`` (Wilson-style:
    the variance is the one at the candidate value, so it does not collapse at 0 or 1)."""
    z = _NORMAL.inv_cdf((1 + level) / 2)
    grid = np.linspace(0.0, 1.0, grid_size)
    ok = np.abs(point - grid) <= z * np.sqrt(np.maximum(variance(grid), 0.0)) + 1e-12
    if not ok.any():
        return point, point
    return min(float(grid[ok].min()), point), max(float(grid[ok].max()), point)


def hanley_mcneil_variance(auc: Any, n_pos: int, n_neg: int) -> Any:
    """Hanley & McNeil (1982) variance of the ROC AUC at true value ``auc``."""
    a = np.asarray(auc, dtype=np.float64)
    q1 = a / (2 - a)
    q2 = 2 * a * a / (1 + a)
    # q1: two frauds both above one legitimate row; q2: one fraud above two legitimate rows.
    return (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)


def ranking_intervals(
    y_true: Any,
    y_score: Any,
    *,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    random_state: int | None = 0,
    target_fpr: float = 0.001,
) -> dict[str, RankingInterval]:
    """Intervals for the three ranking metrics that hold with few frauds.

    - ``auc_roc``: Hanley-McNeil variance inverted as a score interval (analytic);
    - ``average_precision``: stratified bootstrap, BCa on the logit scale with Hesterberg's
      small-sample expansion (``sqrt(n/(n-1)) t_{n-1}`` quantiles, n = frauds);
    - ``recall_at_fpr``: Wilson score interval for the share of frauds caught, with the
      variance of the threshold (the negatives resampled) added.

    Raises ValidationError for degenerate labels or scores. With fewer than
    :data:`MIN_FRAUDS` positives the bounds are None (``estimable`` False).
    """
    y = as_labels(y_true)
    n_pos, n_neg = require_both_classes(y)
    score = as_scores(y_score, y.size)
    cells = _Cells(score[y == 1], score[y == 0])
    allowed = allowed_false_positives(cells.n_neg, target_fpr)
    ones = np.ones((1, n_pos))
    values = cells.metrics(ones, cells.cell_n[None, :], allowed)
    point = {k: float(v[0]) for k, v in values.items()}
    if n_pos < MIN_FRAUDS:
        return {
            name: RankingInterval(point[name], None, None, level, 0, n_pos, TOO_FEW)
            for name in RANKING_METRICS
        }
    rng = np.random.default_rng(random_state)
    probs = cells.cell_n / cells.n_neg
    ap_reps: list[FloatArray] = []
    thr_reps: list[FloatArray] = []
    chunk = max(1, min(n_bootstrap, 2_000_000 // max(n_pos + probs.size, 1)))
    done = 0
    while done < n_bootstrap:
        rounds = min(chunk, n_bootstrap - done)
        w_pos = stratified_counts(rng, n_pos, rounds).astype(np.float64)
        w_cells = rng.multinomial(cells.n_neg, probs, size=rounds).astype(np.float64)
        ap_reps.append(cells.metrics(w_pos, w_cells, allowed)["average_precision"])
        # the threshold's own variability: the negatives resampled, the frauds kept
        kept = np.ones_like(w_pos)
        thr_reps.append(cells.metrics(kept, w_cells, allowed)["recall_at_fpr"])
        done += rounds
    jack_w = (np.ones((n_pos, n_pos)) - np.eye(n_pos)) * (n_pos / (n_pos - 1))
    jack = cells.metrics(jack_w, np.tile(cells.cell_n, (n_pos, 1)), allowed)
    ap_low, ap_high = _bca(
        point["average_precision"], np.concatenate(ap_reps), jack["average_precision"], level
    )
    auc_low, auc_high = _score_interval(
        point["auc_roc"], lambda a: hanley_mcneil_variance(a, n_pos, n_neg), level
    )
    thr_var = float(np.concatenate(thr_reps).var())
    rec_low, rec_high = _score_interval(
        point["recall_at_fpr"], lambda r: r * (1 - r) / n_pos + thr_var, level
    )
    return {
        "auc_roc": RankingInterval(
            point["auc_roc"], auc_low, auc_high, level, 0, n_pos, "hanley_mcneil_score"
        ),
        "average_precision": RankingInterval(
            point["average_precision"],
            ap_low,
            ap_high,
            level,
            n_bootstrap,
            n_pos,
            "bca_logit_expanded",
        ),
        "recall_at_fpr": RankingInterval(
            point["recall_at_fpr"], rec_low, rec_high, level, n_bootstrap, n_pos, "wilson_threshold"
        ),
    }


def ci_summary(metrics: dict[str, float], tags: dict[str, str]) -> dict[str, str]:
    """Per metric with a logged interval: ``"0.81 [0.75, 0.86] (98 frauds)"``; metrics the
    evaluator left without one (tag ``evaluation.ci_too_few_frauds``) read
    ``"0.5: too few frauds to estimate (5 frauds)"``."""
    n_pos = metrics.get("holdout_n_pos")
    frauds = f"{int(n_pos)} frauds" if n_pos is not None else "frauds unknown"
    out: dict[str, str] = {}
    for name in sorted(metrics):
        low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
        if low is not None and high is not None:
            out[name] = f"{metrics[name]:.4g} [{low:.4g}, {high:.4g}] ({frauds})"
    for name in filter(None, tags.get("evaluation.ci_too_few_frauds", "").split(",")):
        value = metrics.get(name)
        shown = f"{value:.4g}: " if value is not None else ""
        out[name] = f"{shown}{TOO_FEW} ({frauds})"
    return out


__all__ = [
    "MIN_FRAUDS",
    "RANKING_METRICS",
    "TOO_FEW",
    "RankingInterval",
    "ci_summary",
    "hanley_mcneil_variance",
    "ranking_intervals",
]
