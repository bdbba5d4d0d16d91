"""HTML fragments and chart traces of the A/B monitor: pure formatting of ``ABTestView``.

The view is the JSON the REST route ``GET ab-tests/{id}`` answers (``ABTestView``
dumped with ``mode="json"``), so the widget shows exactly what the sidebar shows.
Nothing here decides anything: the recommendation, SRM alarm and CIs come from the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fraud_jlab.widgets.html import esc, note, num, table

#: The sidebar's hint (src/abtest), word for word.
NEEDS_REASON = "Type a reason for this change."
#: Readout rows: (label, key in VariantReadout.to_dict()).
READOUT_METRICS: tuple[tuple[str, str], ...] = (
    ("Detection rate (decides)", "detection_rate"),
    ("Average precision", "average_precision"),
    ("Recall at the fixed FPR", "recall_at_fpr"),
    ("Alert rate", "alert_rate"),
    ("Alert precision", "alert_precision"),
    ("Accuracy", "accuracy"),
)
ACTION_WORDS = {
    "promote": "Promote the challenger",
    "continue": "Continue the test",
    "stop": "Stop the test",
    "rollback": "Roll back to the champion",
}


def estimate(value: Mapping[str, Any] | None) -> str:
    """``0.812 [0.770, 0.851]`` from an Estimate dict, or '-'."""
    if not value or value.get("value") is None:
        return "-"
    low, high = value.get("low"), value.get("high")
    if low is None or high is None:
        return num(value["value"])
    return f"{num(value['value'])} [{num(low)}, {num(high)}]"


def weights_text(weights: Mapping[str, float]) -> str:
    """``Champion 90% / Challenger 10%``."""
    return " / ".join(f"{name} {pct:g}%" for name, pct in weights.items())


def stage_text(state: Mapping[str, Any]) -> str:
    """``stage 2 of 4 (25%)``, or the shadow stage."""
    plan: Sequence[int] = state.get("plan") or []
    stage = int(state.get("stage", 0))
    if stage < 0:
        return f"shadow stage (then {len(plan)} live stages)"
    pct = plan[stage] if 0 <= stage < len(plan) else None
    return f"stage {stage + 1} of {len(plan)}" + (f" ({pct}% challenger)" if pct else "")


def header_html(state: Mapping[str, Any]) -> str:
    """Id, status, stage, weights and who started it."""
    return (
        f"<h3>A/B test <code>{esc(state['ab_test_id'])}</code></h3>"
        f"<p><b>{esc(state['status'])}</b>, {esc(stage_text(state))}; "
        f"weights {esc(weights_text(state.get('weights') or {}))}; "
        f"started by {esc(state.get('started_by', '-'))} at {esc(state.get('started_at', '-'))}</p>"
    )


def design_html(design: Mapping[str, Any] | None) -> str:
    """The sample size and duration the test was designed for (frozen at start)."""
    if not design:
        return note("No design was recorded at the start of this test.")
    rows = [
        ["Frauds needed (both arms)", design.get("frauds_needed", "-")],
        ["Records needed", design.get("records_needed", "-")],
        ["Days needed at the designed traffic", num(design.get("days_needed"), 3)],
        ["Fraud rate assumed", num(design.get("fraud_rate"), 3)],
    ]
    summary = design.get("summary")
    return (
        "<h4>Design</h4>"
        + (f"<p>{esc(summary)}</p>" if summary else "")
        + table(["", "value"], rows, label="A/B test design")
    )


def data_html(data: Mapping[str, Any] | None) -> str:
    """Scored, labelled and still-unlabelled records and the label cut-off."""
    if not data:
        return note("No scored records yet.")
    fraction = data.get("information_fraction")
    info = "" if fraction is None else f"; {fraction:.0%} of the designed information"
    return (
        f"<p>{data.get('records_scored', 0)} records scored, "
        f"{data.get('records_labelled', 0)} labelled ({data.get('frauds_labelled', 0)} frauds), "
        f"{data.get('records_unlabelled', 0)} still unlabelled; label cut-off "
        f"{esc(data.get('label_cutoff') or 'none yet')}{esc(info)}"
        + (f"; {data['malformed']} malformed lines skipped" if data.get("malformed") else "")
        + "</p>"
    )


def readout_table(readout: Mapping[str, Any] | None, latency: Mapping[str, Any]) -> str:
    """Per variant: the fraud metrics with 95% CIs and the latency percentiles."""
    if not readout or not readout.get("variants"):
        return note("No labelled records yet: the readout appears once labels arrive.")
    variants: Mapping[str, Any] = readout["variants"]
    names = list(variants)
    rows: list[list[object]] = [
        [label, *(estimate(variants[v].get(key)) for v in names)] for label, key in READOUT_METRICS
    ]
    rows.append(["Labelled records", *(variants[v].get("n_labelled", 0) for v in names)])
    for pct in ("p50", "p95", "p99"):
        rows.append(
            [
                f"Latency {pct} (ms)",
                *(num((latency.get(v) or {}).get(f"{pct}_ms"), 3) for v in names),
            ]
        )
    sources = {str((latency.get(v) or {}).get("source", "none")) for v in names}
    agreement = readout.get("agreement")
    return (
        "<h4>Readout (labelled records only, 95% CIs)</h4>"
        + table(["metric", *names], rows, label="A/B readout")
        + note(
            f"Threshold {num(readout.get('threshold'))}, recall at FPR "
            f"{num(readout.get('target_fpr'))}; latency from {', '.join(sorted(sources))}"
            + (f"; prediction agreement {estimate(agreement)}" if agreement else "")
        )
    )


def srm_html(srm: Mapping[str, Any] | None) -> str:
    """The sample-ratio-mismatch check: p-value and alarm (red)."""
    if not srm:
        return note("Sample ratio: not checked yet (no scored records).")
    cls = "fraud-jlab-error" if srm.get("alarm") else "fraud-jlab-muted"
    verdict = "ALARM" if srm.get("alarm") else "ok"
    return (
        f'<p class="{cls}"><b>Sample ratio {verdict}</b>: p = {num(srm.get("p_value"), 3)}; '
        f"{esc(srm.get('detail', ''))}</p>"
    )


def recommendation_html(rec: Mapping[str, Any] | None) -> str:
    """The core's recommendation and its reason in words."""
    if not rec:
        return note("No recommendation.")
    action = str(rec.get("action", ""))
    return (
        f"<h4>Recommendation: {esc(ACTION_WORDS.get(action, action))}</h4>"
        f"<p>{esc(rec.get('reason', ''))}</p>"
    )


def view_html(view: Mapping[str, Any]) -> str:
    """The whole view, as the sidebar lays it out."""
    state = view["state"]
    return "".join(
        [
            header_html(state),
            recommendation_html(view.get("recommendation")),
            srm_html(view.get("srm")),
            data_html(view.get("data")),
            readout_table(view.get("readout"), view.get("latency") or {}),
            design_html(state.get("design")),
        ]
    )


def plan_html(plan: Mapping[str, Any]) -> str:
    """What a change would do (the core's dry run): its steps and the weights before/after."""
    before, after = plan.get("before") or {}, plan.get("after") or {}
    items = "".join(f"<li>{esc(c)}</li>" for c in plan.get("changes") or [])
    return (
        f"<p><b>{esc(plan.get('kind', ''))}</b> on <code>{esc(before.get('endpoint_name', ''))}"
        f"</code>: {esc(weights_text(before.get('weights') or {}))} -> "
        f"{esc(weights_text(after.get('weights') or {}))}</p><ul>{items}</ul>"
    )


def timeline_traces(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Plotly traces: per variant the primary metric over time, with its CI as a band."""
    by_variant: dict[str, list[Mapping[str, Any]]] = {}
    for p in points:
        by_variant.setdefault(str(p["variant"]), []).append(p)
    traces: list[dict[str, Any]] = []
    for variant, pts in by_variant.items():
        pts = sorted(pts, key=lambda p: str(p["at"]))
        x = [p["at"] for p in pts]
        banded = [p for p in pts if p.get("low") is not None and p.get("high") is not None]
        if banded:
            traces.append(
                {
                    "type": "scatter",
                    "x": [p["at"] for p in banded] + [p["at"] for p in reversed(banded)],
                    "y": [p["high"] for p in banded] + [p["low"] for p in reversed(banded)],
                    "fill": "toself",
                    "opacity": 0.2,
                    "line": {"width": 0},
                    "name": f"{variant} 95% CI",
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": [p.get("value") for p in pts],
                "name": variant,
                "customdata": [p.get("n_labelled", 0) for p in pts],
                "hovertemplate": "%{y:.3f} (%{customdata} labelled)",
            }
        )
    return traces


__all__ = [
    "NEEDS_REASON",
    "estimate",
    "plan_html",
    "readout_table",
    "timeline_traces",
    "view_html",
    "weights_text",
]
