"""Recording an evaluation on a tracked run: metrics, CIs, tags, holdout scores, figures."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, holdout_hash, holdout_scores_npz
from fraud_jlab.evaluation.metrics import HEADLINE_METRICS
from fraud_jlab.evaluation.thresholds import DEFAULT_RULE, ThresholdSelection

if TYPE_CHECKING:
    from fraud_jlab.tracking.run import Run


def log_threshold(
    run: Run,
    selection: ThresholdSelection | None,
    val_rows: np.ndarray[Any, Any] | None,
    no_split: str,
) -> None:
    """Log the chosen threshold, its out-of-sample rates and the rows that chose it."""
    if selection is None:
        run.set_tag("evaluation.threshold_rule", f"{DEFAULT_RULE}: {no_split}")
        return
    logged = {
        "threshold_test_recall": selection.test_recall,
        "threshold_test_fpr": selection.test_fpr,
        "threshold_test_precision": selection.test_precision,
        "threshold_test_cost": selection.test_cost,
    }
    if math.isfinite(selection.threshold):
        logged["threshold"] = selection.threshold
    run.log_metrics(logged)
    run.set_tags(
        {
            "evaluation.threshold_rule": selection.rule[:5000],
            "evaluation.threshold_rows": selection.rows,
        }
    )
    if val_rows is not None:
        buf = io.BytesIO()
        np.savez_compressed(buf, validation_rows=np.asarray(val_rows, dtype=np.int64))
        run.log_artifact("evaluation/threshold_rows.npz", buf.getvalue())


def log_evaluation(
    run: Run,
    y: np.ndarray[Any, Any],
    score: np.ndarray[Any, Any],
    metrics: Mapping[str, float],
    cis: Mapping[str, Any],
    figures: Mapping[str, go.Figure],
    threshold: float,
    meets: bool,
    identity: str,
    target_fpr: float,
) -> None:
    """Log the headline metrics, CIs, holdout tags and scores, and the figures to ``run``."""
    logged = {name: metrics[name] for name in HEADLINE_METRICS}
    n_pos = int(y.sum())
    # The promotion gates judge average precision against the holdout's fraud rate.
    logged["holdout_n_pos"] = float(n_pos)
    logged["holdout_n_rows"] = float(y.size)
    logged["holdout_fraud_rate"] = n_pos / y.size
    too_few = []
    for name, ci in cis.items():
        if ci.low is None or ci.high is None:
            too_few.append(name)
            continue
        logged[f"{name}_ci_low"] = ci.low
        logged[f"{name}_ci_high"] = ci.high
    run.log_metrics(logged)
    if too_few:
        run.set_tag("evaluation.ci_too_few_frauds", ",".join(too_few))
    run.set_tags(
        {
            "evaluation.holdout_hash": holdout_hash(y),
            "evaluation.holdout_identity": identity,
            "evaluation.threshold": repr(threshold),
            "evaluation.target_fpr": repr(target_fpr),
            "evaluation.n_rows": str(int(y.size)),
            "evaluation.n_positives": str(int(y.sum())),
            "evaluation.meets_production_threshold": str(meets).lower(),
        }
    )
    run.log_artifact(HOLDOUT_ARTIFACT, holdout_scores_npz(y, score, identity=identity))
    html_parts = []
    for i, (name, fig) in enumerate(figures.items()):
        # Serialise each figure once; re-validating it for HTML costs more than the metrics.
        as_dict = fig.to_dict()
        run.log_artifact(f"evaluation/figures/{name}.json", pio.to_json(as_dict, validate=False))
        html_parts.append(
            pio.to_html(
                as_dict,
                full_html=False,
                # embedded once (no CDN: VPC-only Studio has no internet)
                include_plotlyjs=i == 0,
                validate=False,
            )
        )
    page = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Evaluation</title></head><body>"
    run.log_artifact("evaluation/figures.html", page + "\n".join(html_parts) + "</body></html>")


__all__ = ["log_evaluation", "log_threshold"]
