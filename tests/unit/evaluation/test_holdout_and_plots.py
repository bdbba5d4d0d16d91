"""Holdout-score artifact round trip and evaluation figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import (
    holdout_hash,
    holdout_scores_npz,
    read_holdout_scores,
    save_figure,
)
from fraud_jlab.evaluation.metrics import cost_optimal_threshold
from fraud_jlab.evaluation.plots import (
    calibration_figure,
    confusion_matrix_figure,
    cost_figure,
    pr_figure,
    roc_figure,
)


def test_holdout_artifact_round_trip(holdout: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = holdout
    stored = read_holdout_scores(holdout_scores_npz(y, score))
    np.testing.assert_array_equal(stored.y_true, y)
    np.testing.assert_array_equal(stored.y_score, score.astype(np.float32))
    assert stored.holdout_hash == holdout_hash(y)


def test_holdout_hash_depends_on_order_and_length() -> None:
    assert holdout_hash([0, 1, 0]) == holdout_hash(np.array([False, True, False]))
    assert holdout_hash([0, 1, 0]) != holdout_hash([1, 0, 0])
    assert holdout_hash([0, 1, 0]) != holdout_hash([0, 1, 0, 0])


def test_corrupt_holdout_artifact_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as err:
        read_holdout_scores(b"not an npz file")
    assert err.value.field == "artifact"


def test_curves_are_downsampled(holdout: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = holdout
    for fig in (roc_figure(y, score), pr_figure(y, score)):
        assert len(fig.data[0].x) <= 500
        assert fig.data[0].x[0] in (0.0,) and fig.data[0].x[-1] == 1.0


def test_pr_figure_draws_the_prevalence_baseline(holdout: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = holdout
    fig = pr_figure(y, score, average_precision=0.5)
    baseline = fig.data[1]
    assert list(baseline.y) == [pytest.approx(y.mean())] * 2
    assert "AP 0.5000" in fig.data[0].name


def test_calibration_curve_of_a_calibrated_model_follows_the_diagonal() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(50_000)
    y = (rng.random(50_000) < p).astype(int)
    fig = calibration_figure(y, p)
    np.testing.assert_allclose(fig.data[0].x, fig.data[0].y, atol=0.03)
    with pytest.raises(ValidationError) as err:
        calibration_figure(y, p * 2)
    assert err.value.field == "y_prob"


def test_confusion_and_cost_figures() -> None:
    fig = confusion_matrix_figure([[90, 5], [2, 3]])
    assert fig.data[0].text[1][1].startswith("3")
    cost = cost_optimal_threshold([1, 0, 1, 0], [0.9, 0.7, 0.5, 0.1], fn_cost=10, fp_cost=1)
    cfig = cost_figure(cost)
    assert cfig.data[1].x[0] == cost.threshold


def test_save_figure_html_and_json(tmp_path: Path) -> None:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    html = save_figure(fig, tmp_path / "f.html").read_text()
    # plotly.js is embedded (the page opens without internet), not loaded from a CDN
    assert re.search(r"<script[^>]*\bsrc=", html) is None
    assert f"plotly.js v{plotly_js_version()}" in html and len(html) > 1_000_000
    data = json.loads(save_figure(fig, tmp_path / "f.json").read_text())
    assert data["data"][0]["x"] == [0, 1]


def test_save_figure_png_names_the_missing_package(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kaleido") as err:
        save_figure(go.Figure(), tmp_path / "f.png")
    assert err.value.field == "path"
    assert not (tmp_path / "f.png").exists()
    with pytest.raises(ValidationError):
        save_figure(go.Figure(), tmp_path / "f.txt")


def test_low_fpr_region_keeps_every_threshold_and_marks_the_threshold() -> None:
    from fraud_jlab.evaluation.plots import curve_points

    rng = np.random.default_rng(1)
    n = 200_000
    y = (rng.random(n) < 0.01).astype(np.int8)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 3.0 * y - 4.0)))
    fpr, _tpr, _precision, _thr = curve_points(y, score)
    distinct_low = int(np.count_nonzero(fpr <= 0.001))
    assert distinct_low > 100  # the old 500-point downsampling kept only a handful here
    roc = roc_figure(y, score, threshold=0.5)
    curve = np.asarray(roc.data[0].x)
    assert int(np.count_nonzero(curve <= 0.001)) == distinct_low
    assert int(np.count_nonzero(curve <= 0.01)) == int(np.count_nonzero(fpr <= 0.01))
    assert roc.layout.xaxis.type == "log"
    assert len(curve) < 0.2 * fpr.size  # still thinned above FPR 1%
    marker = [t for t in roc.data if t.name == "threshold 0.5"]
    assert len(marker) == 1 and marker[0].mode == "markers"
    flagged = score >= 0.5
    assert marker[0].x[0] == pytest.approx(np.mean(flagged[y == 0]))
    assert marker[0].y[0] == pytest.approx(np.mean(flagged[y == 1]))
    pr = pr_figure(y, score, threshold=0.5)
    assert sum(len(t.x) for t in pr.data[:1]) >= distinct_low
    assert [t.name for t in pr.data if t.name.startswith("threshold")] == ["threshold 0.5"]
    assert roc_figure(y, score, fpr_axis="linear").layout.xaxis.type == "linear"
    with pytest.raises(ValidationError):
        roc_figure(y, score, fpr_axis="sqrt")  # type: ignore[arg-type]


def test_holdout_identity_covers_rows_not_just_labels() -> None:
    import pandas as pd
    from scipy import sparse

    from fraud_jlab.evaluation.holdout import holdout_identity

    y = np.array([0, 1, 0, 0])
    x = np.arange(8.0).reshape(4, 2)
    assert holdout_identity(x, y) == holdout_identity(x.copy(), y)
    assert holdout_identity(x, y) != holdout_identity(x + 1, y)  # same labels, other rows
    assert holdout_identity(x, y) != holdout_identity(x, [1, 0, 0, 0])
    frame = pd.DataFrame(x, columns=["a", "b"])
    assert holdout_identity(frame, y) != holdout_identity(frame.set_axis([5, 6, 7, 8]), y)
    assert holdout_identity(x, y, row_ids=["t1", "t2", "t3", "t4"]) != holdout_identity(
        x, y, row_ids=["t1", "t2", "t3", "t9"]
    )
    sp = sparse.csr_matrix(x)
    assert holdout_identity(sp, y) == holdout_identity(sparse.csr_matrix(x.copy()), y)
    assert holdout_identity(sp, y) != holdout_identity(sparse.csr_matrix(x + 1), y)
    with pytest.raises(ValidationError) as err:
        holdout_identity(x[:3], y)
    assert err.value.field == "X_test"
    with pytest.raises(ValidationError) as err:
        holdout_identity(x, y, row_ids=[1, 2])
    assert err.value.field == "row_ids"
    stored = read_holdout_scores(
        holdout_scores_npz(y, [0.1, 0.9, 0.2, 0.3], identity=holdout_identity(x, y))
    )
    assert stored.holdout_identity == holdout_identity(x, y)
    with pytest.raises(ValidationError):
        holdout_scores_npz(y, [0.1, 0.9, 0.2, 0.3], identity="not-a-hash")


def plotly_js_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())
