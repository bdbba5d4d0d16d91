"""Run-vs-run comparison: metrics table, deltas against a baseline (paired CIs), overlay figures.

Example::

    result = compare_runs(["01J...A", "01J...B"], baseline_run_id="01J...P")
    for d in result.deltas:
        print(d.run_id, d.metric, d.delta, d.ci_low, d.ci_high, d.significant)

Paired confidence intervals need both runs to have stored ``evaluation/holdout_scores.npz``
(written by ``ModelEvaluator.evaluate_model(..., run=run)``) with the same
``holdout_identity`` (a hash of the holdout's rows, not just its labels); otherwise the delta
is reported unpaired, without an interval, and ``notes`` says why. Artifacts from before
``holdout_identity`` existed are never treated as paired.

What "significant" means (per compared run against the baseline, level 5%):

* the primary metric (``primary_metric``, default ``average_precision``; role ``"primary"``)
  is tested on its own: ``significant`` is ``p_value < 0.05``;
* the other headline metrics (role ``"secondary"``) are corrected together with Holm's
  step-down: ``significant`` is ``p_adjusted < 0.05``;
* every other metric is ``"descriptive"``: ``significant`` is None.

``auc_roc`` is tested with DeLong's paired test (``method="delong"``); the other headline
metrics with the paired stratified bootstrap (``method="paired_bootstrap"``, two-sided
p-value from the replicate differences).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from fraud_jlab.comparison.figures import CI_SUFFIXES, figure_json, metric_bars, overlay, parallel
from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.evaluation.bootstrap import PairedDelta, check_bootstrap_args
from fraud_jlab.evaluation.delong import paired_deltas
from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, HoldoutScores, read_holdout_scores
from fraud_jlab.evaluation.metrics import DEFAULT_TARGET_FPR, HEADLINE_METRICS
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

#: Metrics that describe the holdout a run was scored on, not the model.
_HOLDOUT_PREFIX = "holdout_"
SIGNIFICANCE_LEVEL = 0.05
DEFAULT_PRIMARY_METRIC = "average_precision"
UNKNOWN_IDENTITY = "unpaired: holdout identity unknown (older artifact)"


class ComparedRun(BaseModel):
    run_id: str
    run_name: str
    experiment_name: str
    metrics: dict[str, float]
    params: dict[str, str]


class MetricDelta(BaseModel):
    run_id: str
    metric: str
    value: float
    baseline_value: float
    delta: float
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool | None = None
    paired: bool = Field(
        default=False,
        description="True when both runs stored holdout scores on the same holdout rows.",
    )
    method: Literal["delong", "paired_bootstrap"] | None = Field(
        default=None, description="How ci_low/ci_high and p_value were computed (paired only)."
    )
    role: Literal["primary", "secondary", "descriptive"] = Field(
        default="descriptive",
        description="primary: tested alone; secondary: Holm-corrected; descriptive: no test.",
    )
    p_value: float | None = Field(default=None, description="Two-sided p-value (paired only).")
    p_adjusted: float | None = Field(
        default=None,
        description="Holm-adjusted p-value for secondary metrics; equals p_value for the primary.",
    )


class CompareFigures(BaseModel):
    metric_bars: dict[str, Any]
    roc: dict[str, Any] | None = None
    pr: dict[str, Any] | None = None
    parallel_coordinates: dict[str, Any] | None = None


class CompareResult(BaseModel):
    runs: list[ComparedRun]
    baseline_run_id: str | None = None
    metric_names: list[str]
    deltas: list[MetricDelta]
    primary_metric: str = DEFAULT_PRIMARY_METRIC
    figures: CompareFigures
    notes: list[str] = Field(default_factory=list)


def _validate_ids(run_ids: Any, max_runs: Any) -> list[str]:
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 2:
        raise ValidationError(
            f"max_runs must be an integer >= 2, got {max_runs!r}", field="max_runs"
        )
    if isinstance(run_ids, str) or not isinstance(run_ids, Sequence):
        raise ValidationError("run_ids must be a list of run id strings", field="run_ids")
    bad = [r for r in run_ids if not isinstance(r, str) or not r.strip()]
    if bad:
        raise ValidationError(
            f"run_ids must be non-empty strings, got {bad[:3]!r}", field="run_ids"
        )
    ids = list(dict.fromkeys(r.strip() for r in run_ids))
    if not 2 <= len(ids) <= max_runs:
        raise ValidationError(
            f"run_ids must name between 2 and {max_runs} distinct runs, got {len(ids)}",
            field="run_ids",
        )
    return ids


def _holdout(tracker: TrackerStore, run: RunDetail, notes: list[str]) -> HoldoutScores | None:
    if not any(a.path == HOLDOUT_ARTIFACT for a in run.artifacts):
        return None
    try:
        return read_holdout_scores(tracker.read_artifact(run.run_id, HOLDOUT_ARTIFACT))
    except (ValidationError, NotFoundError) as exc:
        notes.append(f"run {run.run_id}: holdout scores unreadable ({exc}); no paired CIs for it")
        return None


def _float_tag(run: RunDetail, key: str, default: float) -> float:
    try:
        return float(run.tags.get(key, default))
    except ValueError:
        return default


def compare_runs(
    run_ids: Sequence[str],
    baseline_run_id: str | None = None,
    *,
    tracker: TrackerStore | None = None,
    production_run_id: str | None = None,
    max_runs: int = 10,
    n_bootstrap: int = 1000,
    random_state: int = 0,
    primary_metric: str = DEFAULT_PRIMARY_METRIC,
) -> CompareResult:
    """Compare 2..``max_runs`` runs (duplicates removed) against a baseline.

    The baseline is ``baseline_run_id``, else ``production_run_id`` (the run in production),
    else none (no deltas). A baseline not among ``run_ids`` is added to the table.
    ``primary_metric`` (one of ``HEADLINE_METRICS``) is the metric whose test alone decides
    whether a run is significantly different; the other headline metrics are Holm-corrected.
    Raises ValidationError for a bad id list or primary metric and NotFoundError for an
    unknown run id.
    """
    from fraud_jlab.tracking.registry import get_tracker

    ids = _validate_ids(run_ids, max_runs)
    check_bootstrap_args(n_bootstrap, 0.95)
    if primary_metric not in HEADLINE_METRICS:
        raise ValidationError(
            f"primary_metric must be one of {list(HEADLINE_METRICS)}, got {primary_metric!r}",
            field="primary_metric",
        )
    store = tracker or get_tracker()
    notes: list[str] = []
    details = {rid: store.get_run(rid) for rid in ids}

    baseline = (
        baseline_run_id.strip()
        if isinstance(baseline_run_id, str) and baseline_run_id.strip()
        else None
    )
    if baseline_run_id is not None and baseline is None:
        raise ValidationError(
            "baseline_run_id must be a non-empty string or null", field="baseline_run_id"
        )
    if baseline is None and production_run_id:
        try:
            details.setdefault(production_run_id, store.get_run(production_run_id))
            baseline = production_run_id
            notes.append(f"baseline: run {production_run_id}, currently in production")
        except NotFoundError:
            notes.append(
                f"the production run {production_run_id} is not in this tracker; no baseline"
            )
    elif baseline is not None and baseline not in details:
        details[baseline] = store.get_run(baseline)
        notes.append(f"baseline run {baseline} was added to the compared runs")

    holdouts = {rid: _holdout(store, d, notes) for rid, d in details.items()}
    metric_names = _metric_names(details.values())
    deltas = (
        _deltas(details, holdouts, baseline, n_bootstrap, random_state, notes, primary_metric)
        if baseline
        else []
    )
    if baseline:
        notes.append(
            f"primary metric: {primary_metric} (its test alone decides significance at 5%); "
            "other headline metrics are Holm-corrected, the rest are descriptive"
        )
    figures = CompareFigures(
        metric_bars=figure_json(metric_bars(list(details.values()), metric_names)),
        roc=overlay(details, holdouts, "roc"),
        pr=overlay(details, holdouts, "pr"),
        parallel_coordinates=parallel(list(details.values()), notes),
    )
    return CompareResult(
        runs=[
            ComparedRun(
                run_id=d.run_id,
                run_name=d.run_name,
                experiment_name=d.experiment_name,
                metrics=dict(d.metrics),
                params=dict(d.params),
            )
            for d in details.values()
        ],
        baseline_run_id=baseline,
        metric_names=metric_names,
        deltas=deltas,
        primary_metric=primary_metric,
        figures=figures,
        notes=notes,
    )


def _not_a_model_metric(name: str) -> bool:
    """CI bounds and descriptions of the holdout (``holdout_n_pos``...): no deltas, no bars."""
    return name.endswith(CI_SUFFIXES) or name.startswith(_HOLDOUT_PREFIX)


def _metric_names(runs: Any) -> list[str]:
    names = {m for d in runs for m in d.metrics if not _not_a_model_metric(m)}
    head = [m for m in HEADLINE_METRICS if m in names]
    return head + sorted(names - set(head))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given), capped at 1."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    k = len(p_values)
    adjusted = [1.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _pairing(
    rid: str,
    baseline: str,
    scores: HoldoutScores | None,
    base_scores: HoldoutScores | None,
    notes: list[str],
) -> bool:
    if scores is None or base_scores is None:
        missing = rid if scores is None else baseline
        notes.append(f"run {missing} has no stored holdout scores; deltas against it have no CI")
        return False
    if scores.holdout_identity is None or base_scores.holdout_identity is None:
        old = rid if scores.holdout_identity is None else baseline
        notes.append(f"run {rid} vs the baseline: {UNKNOWN_IDENTITY} for run {old}; no CIs")
        return False
    if scores.holdout_identity != base_scores.holdout_identity:
        notes.append(
            f"run {rid} and the baseline were evaluated on different holdouts "
            "(unpaired); no paired CIs"
        )
        return False
    return True


def _deltas(
    details: dict[str, RunDetail],
    holdouts: dict[str, HoldoutScores | None],
    baseline: str,
    n_bootstrap: int,
    random_state: int,
    notes: list[str],
    primary_metric: str = DEFAULT_PRIMARY_METRIC,
) -> list[MetricDelta]:
    base = details[baseline]
    base_scores = holdouts[baseline]
    out: list[MetricDelta] = []
    for rid, run in details.items():
        if rid == baseline:
            continue
        paired: dict[str, PairedDelta] = {}
        methods: dict[str, Literal["delong", "paired_bootstrap"]] = {}
        scores = holdouts[rid]
        same_rows = _pairing(rid, baseline, scores, base_scores, notes)
        if same_rows:
            assert scores is not None and base_scores is not None
            paired, found = paired_deltas(
                scores.y_true,
                scores.y_score,
                base_scores.y_score,
                threshold=_float_tag(run, "evaluation.threshold", 0.5),
                threshold_b=_float_tag(base, "evaluation.threshold", 0.5),
                target_fpr=_float_tag(run, "evaluation.target_fpr", DEFAULT_TARGET_FPR),
                n_bootstrap=n_bootstrap,
                random_state=random_state,
            )
            methods = {
                m: ("delong" if v == "delong" else "paired_bootstrap") for m, v in found.items()
            }
        run_deltas: list[MetricDelta] = []
        for metric, value in run.metrics.items():
            if _not_a_model_metric(metric) or metric not in base.metrics:
                continue
            role: Literal["primary", "secondary", "descriptive"] = (
                "primary"
                if metric == primary_metric
                else ("secondary" if metric in HEADLINE_METRICS else "descriptive")
            )
            delta = MetricDelta(
                run_id=rid,
                metric=metric,
                value=value,
                baseline_value=base.metrics[metric],
                delta=value - base.metrics[metric],
                role=role,
                paired=same_rows,
            )
            if metric in paired:
                p = paired[metric]
                delta.ci_low, delta.ci_high, delta.paired = p.low, p.high, True
                delta.method = methods[metric]
                delta.p_value = p.p_value
                if role == "primary":
                    delta.p_adjusted = p.p_value
                    delta.significant = p.p_value < SIGNIFICANCE_LEVEL
            run_deltas.append(delta)
        secondary = [d for d in run_deltas if d.role == "secondary" and d.p_value is not None]
        for d, adj in zip(
            secondary, holm_adjust([d.p_value or 0.0 for d in secondary]), strict=True
        ):
            d.p_adjusted = adj
            d.significant = adj < SIGNIFICANCE_LEVEL
        out.extend(run_deltas)
    return out
