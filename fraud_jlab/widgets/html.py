"""HTML fragments the widgets show: tables, error boxes, plans and ledger records.

Pure formatting of core models; nothing here decides anything. Text is escaped
(``quote=False`` keeps the quotes of error messages readable).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from fraud_jlab.errors import FraudJlabError
from fraud_jlab.promotion.models import PromotionPlan, PromotionRecord

#: One style sheet for every widget (an HTML child; JupyterLab's theme variables where they exist).
STYLE = (
    "<style>"
    ".fraud-jlab-widget select, .fraud-jlab-widget pre "
    "{font-family: var(--jp-code-font-family, monospace); font-size: 12px; margin: 0}"
    ".fraud-jlab-table {border-collapse: collapse; font-size: 12px}"
    ".fraud-jlab-table th, .fraud-jlab-table td {padding: 2px 8px; text-align: left}"
    ".fraud-jlab-table tr.failed td, .fraud-jlab-error {color: var(--jp-error-color1, #d32f2f)}"
    ".fraud-jlab-table tr.pruned td {color: var(--jp-ui-font-color2, gray); font-style: italic}"
    ".fraud-jlab-table tr.changed td, .fraud-jlab-table tr.role-primary td {font-weight: bold}"
    ".fraud-jlab-muted {color: var(--jp-ui-font-color2, gray)}"
    "</style>"
)


def esc(value: object) -> str:
    """``value`` as escaped HTML text."""
    return html.escape(str(value), quote=False)


def num(value: float | None, digits: int = 4) -> str:
    """A metric value to ``digits`` significant places, or '-'."""
    return "-" if value is None else f"{value:.{digits}g}"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    label: str,
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table with a header row; ``label`` becomes its ``aria-label``."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f"<td>{esc(c)}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<table class="fraud-jlab-table" aria-label="{esc(label)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def error_box(title: str, exc: FraudJlabError) -> str:
    """The error's message verbatim under ``title`` (as the sidebar's ErrorMessage shows it).

    A ValidationError's field is named first; further problems are listed below.
    """
    field = getattr(exc, "field", None)
    message = f"<b>{esc(field)}</b>: {esc(exc)}" if field else esc(exc)
    extra = [e for e in getattr(exc, "errors", []) if e != str(exc)]
    items = "".join(f"<li>{esc(e)}</li>" for e in extra)
    return (
        f'<div role="alert" class="fraud-jlab-error"><strong>{esc(title)}</strong>'
        f"<div>{message}</div>{f'<ul>{items}</ul>' if items else ''}</div>"
    )


def note(text: str) -> str:
    """A muted one-line note."""
    return f'<span class="fraud-jlab-muted">{esc(text)}</span>'


def _flatten(value: Any, prefix: str = "", into: dict[str, str] | None = None) -> dict[str, str]:
    """Leaves of a config mapping as ``dotted.path -> text`` (as the sidebar's diff shows)."""
    out = {} if into is None else into
    if not isinstance(value, dict):
        return out
    for key, child in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(child, dict) and child:
            _flatten(child, path, out)
        else:
            out[path] = child if isinstance(child, str) else json.dumps(child)
    return out


def plan_html(plan: PromotionPlan) -> str:
    """The dry run: gates (pass/fail with detail), the SSM diff and the config-file diff."""
    summary = "all passed" if plan.gates_passed else "some failed"
    gates = table(
        ["Gate", "Result", "Detail"],
        [[g.name, "✓ pass" if g.passed else "✗ fail", g.detail] for g in plan.gates],
        label="Promotion gates",
        row_classes=["passed" if g.passed else "failed" for g in plan.gates],
    )
    ssm = table(
        ["SSM path", "Current", "New"],
        [
            [d.path, d.current if d.current is not None else "(not set)", d.new]
            for d in plan.diff.ssm
        ],
        label="Parameter Store changes",
        row_classes=["changed" if d.changed else "" for d in plan.diff.ssm],
    )
    before = _flatten(plan.diff.config.current)
    after = _flatten(plan.diff.config.new)
    keys = [*after, *(k for k in before if k not in after)]
    config = table(
        ["Key", "Current", "New"],
        [[k, before.get(k, "(none)"), after.get(k, "(removed)")] for k in keys],
        label="Config file changes",
        row_classes=["changed" if before.get(k) != after.get(k) else "" for k in keys],
    )
    new_file = (
        "<p>No production config file yet: it will be created.</p>"
        if plan.diff.config.current is None
        else ""
    )
    return (
        f"<p>Dry run for run <code>{esc(plan.run_id)}</code>: nothing written yet.</p>"
        f"<h4>Gates: {summary}</h4>{gates}<h4>Parameter Store</h4>{ssm}"
        f"<h4>Config file</h4>{new_file}{config}"
    )


def record_html(record: PromotionRecord) -> str:
    """The ledger record a user needs to find, audit or undo the change."""
    rows: list[list[object]] = [
        ["Promotion id", record.promotion_id],
        ["Status", record.status],
        ["Run", record.run_id],
        ["Approver", record.approver],
        ["When", record.timestamp.isoformat(timespec="seconds")],
        ["Reason", record.reason],
        ["SSM backup key", record.parameter_store_backup_key],
        ["Config backup key", record.config_file_backup_key or "-"],
        ["Pipeline execution", record.pipeline_execution_arn or "not started"],
    ]
    if record.forced:
        rows.append(["Forced", "past failed gates"])
    return table(["Field", "Value"], rows, label="Ledger record")
