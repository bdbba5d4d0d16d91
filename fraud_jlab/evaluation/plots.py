"""Evaluation figures as plotly objects (confusion matrix, ROC, PR, calibration, cost curve).

Curves are downsampled so a figure stays a few kB when it is stored as a run artifact or sent
to the browser, but never in the operating region fraud teams use: every distinct threshold
with FPR <= ``FULL_RESOLUTION_FPR`` (1%) is kept, and only the rest of the curve is thinned
to the remaining ``MAX_POINTS`` budget (:func:`downsample_low_fpr`).

The ROC figure uses a log-scaled FPR axis by default (``fpr_axis="log"``; ``"linear"`` for
the classic view) so FPRs of 0.01%..1% take up real space; the FPR = 0 start point is in the
data but not drawn on a log axis. ROC and PR figures mark the chosen decision threshold with
a marker trace named ``"threshold <t>"``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import (
    CostResult,
    as_labels,
    as_scores,
    require_both_classes,
)
from fraud_jlab.evaluation.weighted import FloatArray

MAX_POINTS = 500
#: Curve points at or below this FPR are never dropped by downsampling.
FULL_RESOLUTION_FPR = 0.01


def downsample(*arrays: NDArray[Any], max_points: int = MAX_POINTS) -> tuple[NDArray[Any], ...]:
    """Evenly spaced points of equally long arrays, always keeping the first and last."""
    n = arrays[0].size
    if n <= max_points:
        return arrays
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    return tuple(a[idx] for a in arrays)


def downsample_low_fpr(
    fpr: NDArray[Any],
    *arrays: NDArray[Any],
    max_points: int = MAX_POINTS,
    keep_fpr: float = FULL_RESOLUTION_FPR,
) -> tuple[NDArray[Any], ...]:
    """Every point with ``fpr <= keep_fpr``; the others evenly thinned to the remaining budget.

    ``fpr`` gives the FPR of each point (for a PR curve: the FPR at the same thresholds, see
    :func:`curve_points`); it is returned first when it is to be plotted, so pass it as the
    first of ``arrays`` too when needed. The first and last points are always kept.
    """
    n = fpr.size
    if n <= max_points:
        return arrays
    keep = fpr <= keep_fpr
    rest = np.flatnonzero(~keep)
    budget = max(max_points - int(keep.sum()), 2)
    if rest.size > budget:
        rest = rest[np.unique(np.linspace(0, rest.size - 1, budget).round().astype(np.int64))]
    idx = np.unique(np.r_[np.flatnonzero(keep), rest, 0, n - 1])
    return tuple(a[idx] for a in arrays)


def curve_points(
    y_true: Any, y_score: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(fpr, tpr = recall, precision, threshold) at every distinct threshold, highest first.

    Index 0 is the "nothing flagged" start (FPR 0, recall 0, precision 1, threshold +inf).
    """
    y, score = _validated(y_true, y_score)
    tps, fps, thresholds = _cumulative_counts(y, score, with_thresholds=True)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    precision = np.r_[1.0, tps / (tps + fps)]
    return fpr, tpr, precision, np.r_[np.inf, thresholds]


def operating_point(y_true: Any, y_score: Any, threshold: float) -> tuple[float, float, float]:
    """(fpr, recall, precision) of flagging ``score >= threshold``; precision 1 if none flagged."""
    y, score = _validated(y_true, y_score)
    flagged = score >= threshold
    tp = float(np.count_nonzero(flagged & (y == 1)))
    fp = float(np.count_nonzero(flagged & (y == 0)))
    n_pos = float(np.count_nonzero(y == 1))
    n_neg = float(y.size) - n_pos
    precision = tp / (tp + fp) if tp + fp > 0 else 1.0
    return fp / n_neg, tp / n_pos, precision


def threshold_marker(x: float, y: float, threshold: float, prefix: str = "") -> go.Scatter:
    """A marker trace named ``"threshold <t>"`` (optionally prefixed by a run name)."""
    return go.Scatter(
        x=[x],
        y=[y],
        mode="markers",
        name=f"{prefix}threshold {threshold:.4g}",
        marker={"size": 11, "symbol": "x"},
        hovertemplate=f"threshold {threshold:.4g}<br>x %{{x:.4g}}<br>y %{{y:.4f}}",
    )


def roc_points(y_true: Any, y_score: Any) -> tuple[FloatArray, FloatArray]:
    """(fpr, tpr) at every distinct threshold, from (0, 0) to (1, 1)."""
    y, score = _validated(y_true, y_score)
    tps, fps = _cumulative_counts(y, score)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr


def pr_points(y_true: Any, y_score: Any) -> tuple[FloatArray, FloatArray]:
    """(recall, precision) at every distinct threshold, highest threshold first."""
    y, score = _validated(y_true, y_score)
    tps, fps = _cumulative_counts(y, score)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return np.r_[0.0, recall], np.r_[1.0, precision]


def _validated(y_true: Any, y_score: Any) -> tuple[NDArray[np.int8], FloatArray]:
    y = as_labels(y_true)
    score = as_scores(y_score, y.size)
    require_both_classes(y)
    return y, score


def _cumulative_counts(
    y: NDArray[np.int8], score: FloatArray, *, with_thresholds: bool = False
) -> Any:
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yd = y[order].astype(np.float64)
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    tps = np.cumsum(yd)[last]
    fps = ((last + 1) - tps).astype(np.float64)
    if with_thresholds:
        return tps, fps, s[last].astype(np.float64)
    return tps, fps


def confusion_matrix_figure(cm: NDArray[np.int64] | list[list[int]]) -> go.Figure:
    """Heatmap of ``[[tn, fp], [fn, tp]]`` with counts and row percentages."""
    arr = np.asarray(cm, dtype=np.int64)
    row_tot = arr.sum(axis=1, keepdims=True)
    pct = np.divide(arr, row_tot, out=np.zeros(arr.shape), where=row_tot > 0) * 100
    text = [[f"{arr[i, j]:,}<br>{pct[i, j]:.1f}%" for j in range(2)] for i in range(2)]
    fig = go.Figure(
        go.Heatmap(
            z=pct.tolist(),
            x=["Predicted legitimate", "Predicted fraud"],
            y=["Legitimate", "Fraud"],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=100,
            showscale=False,
        )
    )
    fig.update_layout(
        title="Confusion matrix", yaxis={"autorange": "reversed", "title": "True label"}
    )
    return fig


def roc_figure(
    y_true: Any,
    y_score: Any,
    *,
    auc: float | None = None,
    name: str = "model",
    threshold: float | None = None,
    fpr_axis: Literal["log", "linear"] = "log",
) -> go.Figure:
    """ROC curve with the chance diagonal and (given ``threshold``) the operating point.

    Full resolution at FPR <= 1%; ``fpr_axis="log"`` (default) so that region is visible.
    """
    if fpr_axis not in ("log", "linear"):
        raise ValidationError(
            f"fpr_axis must be 'log' or 'linear', got {fpr_axis!r}", field="fpr_axis"
        )
    fpr_all, tpr_all, _prec, _thr = curve_points(y_true, y_score)
    fpr, tpr = downsample_low_fpr(fpr_all, fpr_all, tpr_all)
    label = f"{name} (AUC {auc:.4f})" if auc is not None else name
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=fpr.tolist(), y=tpr.tolist(), mode="lines", name=label))
    diag = np.r_[0.0, np.geomspace(max(float(fpr_all[1]), 1e-6), 1.0, 20)]
    fig.add_trace(
        go.Scatter(
            x=diag.tolist(),
            y=diag.tolist(),
            mode="lines",
            name="chance",
            line={"dash": "dash", "color": "gray"},
        )
    )
    if threshold is not None:
        x, r, _p = operating_point(y_true, y_score, threshold)
        fig.add_trace(threshold_marker(x, r, threshold))
    fig.update_layout(
        title="ROC curve",
        xaxis_title="False positive rate" + (" (log scale)" if fpr_axis == "log" else ""),
        yaxis_title="True positive rate (recall)",
        xaxis_type=fpr_axis,
    )
    return fig


def pr_figure(
    y_true: Any,
    y_score: Any,
    *,
    average_precision: float | None = None,
    name: str = "model",
    threshold: float | None = None,
) -> go.Figure:
    """Precision-recall curve with the prevalence baseline (a random model's precision).

    Points at FPR <= 1% (the high-precision start of the curve) are all kept; given
    ``threshold``, its (recall, precision) is marked.
    """
    y = as_labels(y_true)
    fpr_all, recall_all, precision_all, _thr = curve_points(y, y_score)
    recall, precision = downsample_low_fpr(fpr_all, recall_all, precision_all)
    prevalence = float(y.mean())
    label = f"{name} (AP {average_precision:.4f})" if average_precision is not None else name
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=recall.tolist(), y=precision.tolist(), mode="lines", name=label, line_shape="hv"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[prevalence, prevalence],
            mode="lines",
            name=f"prevalence {prevalence:.4%}",
            line={"dash": "dash", "color": "gray"},
        )
    )
    if threshold is not None:
        _x, r, p = operating_point(y, y_score, threshold)
        fig.add_trace(threshold_marker(r, p, threshold))
    fig.update_layout(title="Precision-recall curve", xaxis_title="Recall", yaxis_title="Precision")
    return fig


def calibration_figure(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> go.Figure:
    """Reliability curve: observed fraud rate against mean predicted probability per bin."""
    y = as_labels(y_true)
    prob = as_scores(y_prob, y.size, field="y_prob", probabilities=True)
    if not isinstance(n_bins, int) or not 2 <= n_bins <= 100:
        raise ValidationError(
            f"n_bins must be an integer in [2, 100], got {n_bins!r}", field="n_bins"
        )
    bins = np.minimum((prob * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    keep = count > 0
    mean_pred = np.bincount(bins, weights=prob, minlength=n_bins)[keep] / count[keep]
    observed = np.bincount(bins, weights=y.astype(np.float64), minlength=n_bins)[keep] / count[keep]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=mean_pred.tolist(),
            y=observed.tolist(),
            mode="lines+markers",
            name="model",
            customdata=count[keep].tolist(),
            hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>%{customdata} rows",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"dash": "dash", "color": "gray"},
        )
    )
    fig.update_layout(
        title="Calibration (reliability) curve",
        xaxis_title="Mean predicted probability",
        yaxis_title="Observed fraud rate",
    )
    return fig


def cost_figure(cost: CostResult) -> go.Figure:
    """Total cost against threshold, marking the cost-optimal threshold."""
    finite = np.isfinite(cost.thresholds)
    thr, costs = downsample(cost.thresholds[finite], cost.costs[finite])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=thr.tolist(), y=costs.tolist(), mode="lines", name="total cost"))
    if np.isfinite(cost.threshold):
        fig.add_trace(
            go.Scatter(
                x=[cost.threshold],
                y=[cost.total_cost],
                mode="markers",
                name=f"optimal threshold {cost.threshold:.4g}",
                marker={"size": 10, "symbol": "x"},
            )
        )
    fig.update_layout(title="Cost by threshold", xaxis_title="Threshold", yaxis_title="Total cost")
    return fig


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON values (``{"data": [...], "layout": {...}}``)."""
    result: dict[str, Any] = json.loads(fig.to_json())
    return result


def save_figure(fig: go.Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``.html`` (plotly.js embedded, so it opens offline) or ``.json``.

    Raises ValidationError for other suffixes; ``.png`` needs the ``kaleido`` package, which is
    not installed by fraud_jlab.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".html":
        # plotly.js embedded: SageMaker Studio in VPC-only mode has no internet for a CDN
        fig.write_html(str(p), include_plotlyjs=True, full_html=True)
    elif suffix == ".json":
        p.write_text(fig.to_json())
    elif suffix in {".png", ".jpg", ".jpeg", ".svg", ".pdf", ".webp"}:
        import importlib.util

        if importlib.util.find_spec("kaleido") is None:
            raise ValidationError(
                f"saving {suffix} images needs the 'kaleido' package (pip install kaleido); "
                "save as .html or .json instead",
                field="path",
            )
        fig.write_image(str(p))
    else:
        raise ValidationError(
            f"path must end in .html or .json (or an image suffix with kaleido), got {p.name!r}",
            field="path",
        )
    return p
