"""``ABTestMonitor``: one A/B test in a notebook, its readout and its audited actions.

The same calls as the sidebar's A/B section and ``%fraud ab``:
:meth:`~fraud_jlab.abtest.service.ABTestService.view` for the stage, weights, readout
with CIs, SRM check and recommendation, and ``advance`` / ``promote`` / ``rollback`` /
``stop`` first with ``dry_run=True`` (the plan shown for confirmation, nothing written)
and then for real with the approver and a required reason. A change waits until the
endpoint is in service again (minutes on AWS), so it runs in a worker thread and the
kernel stays responsive; ``pending`` is its future.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

import ipywidgets as widgets
import plotly.graph_objects as go

from fraud_jlab.abtest.from_run import ab_service
from fraud_jlab.abtest.service import ABTestService
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import AccessDenied, FraudJlabError
from fraud_jlab.widgets.abtest_html import (
    NEEDS_REASON,
    plan_html,
    timeline_traces,
    view_html,
)
from fraud_jlab.widgets.html import STYLE, error_box, esc, note
from fraud_jlab.widgets.promote import approver, identity

Action = Literal["advance", "promote", "rollback", "stop"]
ACTIONS: tuple[Action, ...] = ("advance", "promote", "rollback", "stop")
_LABELS = {"advance": "Advance", "promote": "Promote", "rollback": "Roll back", "stop": "Stop"}
_STYLES = {"advance": "info", "promote": "success", "rollback": "danger", "stop": "warning"}


def allowed_actions(state: dict[str, Any]) -> set[str]:
    """The actions the core accepts in this state (the buttons it enables)."""
    status = state.get("status")
    if status == "completed":
        return {"rollback"}
    if status != "running":
        return set()
    out = {"promote", "rollback", "stop"}
    if int(state.get("stage", 0)) + 1 < len(state.get("plan") or []):
        out.add("advance")
    return out


class ABTestMonitor(widgets.VBox):
    """Watch and act on an A/B test: ``ABTestMonitor()`` (choose one) or ``ABTestMonitor(id)``.

    ``view`` is the last :class:`~fraud_jlab.abtest.view.ABTestView` read (as its JSON
    dict), ``plan`` the dry run awaiting confirmation, ``last_result`` the state after
    the last change.
    """

    def __init__(
        self,
        ab_test_id: str | None = None,
        *,
        service: ABTestService | None = None,
        settings: FraudJlab | None = None,
    ) -> None:
        self._service = service
        self._settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fraud-jlab-ab")
        self.view: dict[str, Any] | None = None
        self.plan: dict[str, Any] | None = None
        self.action: Action | None = None
        self.pending: Future[None] | None = None
        self.last_result: dict[str, Any] | None = None
        self.selector = widgets.Dropdown(description="A/B test", options=[])
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.view_html = widgets.HTML()
        self.chart = go.FigureWidget(
            layout={
                "title": "Detection rate per variant over time (labelled records, Wilson 95% CI)",
                "height": 320,
                "margin": {"t": 40, "b": 40, "l": 50, "r": 10},
                "yaxis": {"range": [0, 1]},
            }
        )
        self.buttons = {
            a: widgets.Button(description=_LABELS[a], button_style=_STYLES[a]) for a in ACTIONS
        }
        self.reason = widgets.Textarea(
            placeholder="Why (required, recorded in the ledger)",
            description="Reason",
            rows=2,
            layout=widgets.Layout(width="100%"),
        )
        self.hint = widgets.HTML()
        self.plan_view = widgets.HTML()
        self.confirm_button = widgets.Button(description="Confirm", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_box = widgets.VBox(
            [self.plan_view, widgets.HBox([self.confirm_button, self.cancel_button])]
        )
        self.result = widgets.HTML()
        super().__init__(
            [
                widgets.HTML(STYLE),
                widgets.HBox([self.selector, self.refresh_button]),
                self.view_html,
                self.chart,
                widgets.HBox(list(self.buttons.values())),
                self.reason,
                self.hint,
                self.confirm_box,
                self.result,
            ]
        )
        self.add_class("fraud-jlab-widget")
        for action, button in self.buttons.items():
            button.on_click(lambda _b, a=action: self.request(a))
        self.confirm_button.on_click(lambda _b: self.confirm())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.reason.observe(lambda _c: self._update_hint(), names="value")
        self._show_confirm(False)
        self._load_tests(ab_test_id)
        self.selector.observe(lambda _c: self.refresh(), names="value")
        self.refresh()

    # --- the core ------------------------------------------------------------------
    @property
    def service(self) -> ABTestService:
        if self._service is None:
            self._service = ab_service(self._settings or get_settings())
        return self._service

    def _load_tests(self, wanted: str | None) -> None:
        try:
            ids = [t.ab_test_id for t in self.service.list()]
        except FraudJlabError as exc:
            self.result.value = error_box("Could not list the A/B tests", exc)
            ids = []
        if wanted is not None and wanted not in ids:
            ids.insert(0, wanted)  # refresh() then says why it cannot be read
        self.selector.options = ids
        self.selector.value = wanted if wanted is not None else (ids[0] if ids else None)

    @property
    def ab_test_id(self) -> str | None:
        value = self.selector.value
        return None if value is None else str(value)

    def refresh(self) -> None:
        """Read the view again (the core reads capture, labels and CloudWatch)."""
        ab_test_id = self.ab_test_id
        self.view = None
        if ab_test_id is None:
            self.view_html.value = note("No A/B test yet: start one from a run (%fraud ab start).")
        else:
            try:
                self.view = self.service.view(ab_test_id).model_dump(mode="json")
            except FraudJlabError as exc:
                self.view_html.value = error_box(f"Could not read A/B test {ab_test_id}", exc)
            else:
                self.view_html.value = view_html(self.view)
        traces = timeline_traces(self.view.get("timeline") or []) if self.view else []
        with self.chart.batch_update():
            self.chart.data = ()
            for trace in traces:
                self.chart.add_trace(trace)
        allowed = allowed_actions(self.view["state"]) if self.view else set()
        for action, button in self.buttons.items():
            button.disabled = action not in allowed or self.pending is not None
        self._update_hint()

    # --- actions -------------------------------------------------------------------
    def refusal(self, action: str | None = None) -> str | None:
        """Why ``action`` (default: the one awaiting confirmation) is refused now, or None."""
        action = action or self.action
        if self.pending is not None:
            return "A change is in progress: wait for it to finish."
        if self.view is None:
            return "No A/B test is shown."
        if action not in allowed_actions(self.view["state"]):
            return f"{_LABELS.get(str(action), action)} is not possible: the test is " + str(
                self.view["state"]["status"]
            )
        if not self.reason.value.strip():
            return NEEDS_REASON
        return None

    def _update_hint(self) -> None:
        if self.action is not None:
            self.hint.value = esc(self.refusal() or "")
            self.confirm_button.disabled = self.refusal() is not None

    def _show_confirm(self, shown: bool) -> None:
        self.confirm_box.layout.display = None if shown else "none"

    def request(self, action: Action) -> dict[str, Any] | None:
        """A button: the core's dry run of ``action``, shown for confirmation (nothing written)."""
        self.action, self.plan = action, None
        self.result.value = ""
        ab_test_id = self.ab_test_id
        if ab_test_id is None or self.view is None:
            self.hint.value = esc("No A/B test is shown.")
            return None
        try:
            plan = getattr(self.service, action)(
                ab_test_id, approver=identity().approver_or_dry_run(), reason=None, dry_run=True
            )
        except FraudJlabError as exc:
            self.plan_view.value = error_box(f"{_LABELS[action]} refused", exc)
            self._show_confirm(True)
            self.confirm_button.disabled = True
            return None
        self.plan = plan.model_dump(mode="json")
        self.plan_view.value = (
            f"<b>{esc(_LABELS[action])} A/B test <code>{esc(ab_test_id)}</code>?</b>"
            + plan_html(self.plan)
        )
        self._show_confirm(True)
        self._update_hint()
        return self.plan

    def cancel(self) -> None:
        """Close the confirmation: nothing was written."""
        self.action, self.plan = None, None
        self._show_confirm(False)
        self.hint.value = ""
        self.result.value = esc("Cancelled: nothing was written.")

    def confirm(self) -> Future[None] | None:
        """The confirmation's button: the real, audited change, in a worker thread."""
        refusal = self.refusal()
        if refusal is not None or self.plan is None:
            self.hint.value = esc(refusal or "Ask for the change first.")
            return None
        try:
            who = approver()
        except AccessDenied as exc:  # nobody identified: say how to set an identity
            self.hint.value = esc(str(exc))
            return None
        action, ab_test_id, reason = self.action, self.ab_test_id, self.reason.value.strip()
        assert action is not None and ab_test_id is not None
        self._show_confirm(False)
        self.result.value = esc(f"{_LABELS[action]} in progress (waits for the endpoint)...")
        for button in self.buttons.values():
            button.disabled = True

        done: Future[None] = Future()
        self.pending = done

        def run() -> None:
            try:
                state = getattr(self.service, action)(ab_test_id, approver=who, reason=reason)
            except FraudJlabError as exc:
                self.result.value = error_box(f"{_LABELS[action]} failed", exc)
            except Exception as exc:  # shown, never lost in a thread
                self.result.value = esc(f"{_LABELS[action]} failed unexpectedly: {exc!r}")
            else:
                self.last_result = state.model_dump(mode="json")
                self.result.value = (
                    f"<h4>{esc(_LABELS[action])} done: production changed</h4>"
                    f"<p>Recorded in the ledger as {esc(who)}: {esc(reason)}</p>"
                )
                self.reason.value = ""
            finally:
                self.pending, self.action, self.plan = None, None, None
                try:
                    self.refresh()
                finally:
                    done.set_result(None)

        self._executor.submit(run)
        return done


__all__ = ["ABTestMonitor", "allowed_actions"]
