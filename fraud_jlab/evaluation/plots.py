"""Evaluation figures as plotly objects (confusion matrix, ROC, PR, calibration, cost curve).

Curves are downsampled to at most ``MAX_POINTS`` points so a figure stays a few kB when it is
stored as a run artifact or sent to the browser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def downsample(*arrays: NDArray[Any], max_points: int = MAX_POINTS) -> tuple[NDArray[Any], ...]:
    """Evenly spaced points of equally long arrays, always keeping the first and last."""
    n = arrays[0].size
    if n <= max_points:
        return arrays
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    return tuple(a[idx] for a in arrays)


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


def _cumulative_counts(y: NDArray[np.int8], score: FloatArray) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(-score, kind="stable")
    s = score[order]
    yd = y[order].astype(np.float64)
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    tps = np.cumsum(yd)[last]
    fps = (last + 1) - tps
    return tps, fps.astype(np.float64)


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
    y_true: Any, y_score: Any, *, auc: float | None = None, name: str = "model"
) -> go.Figure:
    """ROC curve with the chance diagonal; a log-scaled FPR axis shows the low-FPR region fraud teams use."""
    fpr, tpr = downsample(*roc_points(y_true, y_score))
    label = f"{name} (AUC {auc:.4f})" if auc is not None else name
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=fpr.tolist(), y=tpr.tolist(), mode="lines", name=label))
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash", "color": "gray"}
        )
    )
    fig.update_layout(
        title="ROC curve",
        xaxis_title="False positive rate",
        yaxis_title="True positive rate (recall)",
    )
    return fig


def pr_figure(
    y_true: Any, y_score: Any, *, average_precision: float | None = None, name: str = "model"
) -> go.Figure:
    """Precision-recall curve with the prevalence baseline (a random model's precision)."""
    y = as_labels(y_true)
    recall, precision = downsample(*pr_points(y, y_score))
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
    """Write ``fig`` to ``.html`` (plotly.js from the CDN) or ``.json``.

    Raises ValidationError for other suffixes; ``.png`` needs the ``kaleido`` package, which is
    not installed by fraud_jlab.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".html":
        fig.write_html(str(p), include_plotlyjs="cdn", full_html=True)
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
