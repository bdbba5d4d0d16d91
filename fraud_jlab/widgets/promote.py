"""The promotion panel: the core's dry run (gates and diff), a reason, a confirmation, the promotion.

The same calls as the sidebar's promote dialog and ``%fraud promote``:
:meth:`~fraud_jlab.promotion.ProductionIntegrator.promote_run` with ``dry_run=True`` for
the plan, then without it for the all-or-nothing promotion. The panel refuses with the
sidebar's words when the reason is missing or gates failed without the override, and
shows the core's error verbatim otherwise; a refused promotion writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import AccessDenied, FraudJlabError
from fraud_jlab.identity import Identity, resolve_identity
from fraud_jlab.promotion import ProductionIntegrator, PromotionPlan, PromotionRecord
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.widgets.html import STYLE, error_box, esc, plan_html, record_html

#: The sidebar's hints (src/promotion/PromoteDialog.tsx), word for word.
NEEDS_REASON = "Type a reason to promote."
NEEDS_FORCE = "Gates failed: promoting needs the override."


def identity() -> Identity:
    """Who approves a promotion made from a widget: resolved as ``%fraud`` and REST do."""
    return resolve_identity(None, settings=get_settings(), use_kernel_environment=True)


def approver() -> str:
    """The approver's name; AccessDenied (saying how to set one) when nobody is identified."""
    return identity().require()


def _hidden(widget: widgets.Widget, hidden: bool) -> None:
    widget.layout.display = "none" if hidden else None


class PromotePanel(widgets.VBox):
    """Promote one run: the dry run first, then reason, confirmation and the real promotion.

    ``plan`` is the core's dry run (None when it failed: ``plan_view`` shows why),
    ``record`` the ledger record once promoted. ``on_promoted`` is called with it.
    """

    def __init__(
        self,
        run_id: str,
        *,
        settings: FraudJlab | None = None,
        tracker: TrackerStore | None = None,
        on_promoted: Callable[[PromotionRecord], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self._settings = settings
        self._tracker = tracker
        self._on_promoted = on_promoted
        self.plan: PromotionPlan | None = None
        self.record: PromotionRecord | None = None
        self.plan_view = widgets.HTML()
        self.reason = widgets.Textarea(
            placeholder="Why (required, recorded in the ledger)",
            description="Reason",
            rows=2,
            layout=widgets.Layout(width="100%"),
        )
        self.trigger_pipeline = widgets.Checkbox(
            value=False, description="Trigger production pipeline", indent=False
        )
        self.force = widgets.Checkbox(
            value=False, description="Override failed gates (force)", indent=False
        )
        self.promote_button = widgets.Button(description="Promote", button_style="warning")
        self.hint = widgets.HTML()
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(description="Confirm promotion", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_box = widgets.VBox(
            [self.confirm_text, widgets.HBox([self.confirm_button, self.cancel_button])]
        )
        self.result = widgets.HTML()
        super().__init__(
            [
                widgets.HTML(STYLE),
                widgets.HTML(f"<h3>Promote run <code>{esc(run_id)}</code> to production</h3>"),
                self.plan_view,
                self.reason,
                widgets.HBox([self.trigger_pipeline, self.force]),
                widgets.HBox([self.promote_button, self.hint]),
                self.confirm_box,
                self.result,
            ]
        )
        self.promote_button.on_click(lambda _b: self.request())
        self.confirm_button.on_click(lambda _b: self.confirm())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.reason.observe(lambda _c: self._update(), names="value")
        self.force.observe(lambda _c: self._update(), names="value")
        _hidden(self.confirm_box, True)
        self._load_plan()

    def _integrator(self) -> ProductionIntegrator:
        return ProductionIntegrator(
            settings=self._settings or get_settings(), tracker=self._tracker or get_tracker()
        )

    def _load_plan(self) -> None:
        # The dry run needs no reason: gates and diff show while the user writes one.
        try:
            plan = self._integrator().promote_run(
                self.run_id, approver=identity().approver_or_dry_run(), dry_run=True
            )
        except FraudJlabError as exc:
            self.plan_view.value = error_box("The dry run failed", exc)
        else:
            assert isinstance(plan, PromotionPlan)  # dry_run=True always returns the plan
            self.plan = plan
            self.plan_view.value = plan_html(plan)
        self._update()

    @property
    def gates_failed(self) -> bool:
        """True when the core's dry run failed a gate."""
        return self.plan is not None and not self.plan.gates_passed

    def refusal(self) -> str | None:
        """Why Promote is refused now (the sidebar's rule and words), or None."""
        if self.record is not None:
            return "Promoted: the ledger record is shown below."
        if self.plan is None:
            return "The dry run failed: nothing can be promoted."
        if not self.reason.value.strip():
            return NEEDS_REASON
        if self.gates_failed and not self.force.value:
            return NEEDS_FORCE
        return None

    def _update(self) -> None:
        refusal = self.refusal()
        self.promote_button.disabled = refusal is not None
        self.hint.value = esc(refusal or "")
        _hidden(self.force, not self.gates_failed)
        if refusal is not None:
            _hidden(self.confirm_box, True)

    def request(self) -> None:
        """The Promote button: ask for confirmation, or say why not (nothing is written)."""
        refusal = self.refusal()
        if refusal is not None:
            self.hint.value = esc(refusal)
            return
        assert self.plan is not None
        try:
            who = approver()
        except AccessDenied as exc:  # nobody identified: say how to set an identity
            self.hint.value = esc(str(exc))
            return
        changed = sum(d.changed for d in self.plan.diff.ssm)
        forced = " past failed gates (recorded as forced)" if self.gates_failed else ""
        self.confirm_text.value = (
            f"<b>Promote run <code>{esc(self.run_id)}</code> to production{forced}?</b> "
            f"This writes {changed} changed SSM value(s), the config file and a ledger "
            f"record as {esc(who)}."
        )
        _hidden(self.confirm_box, False)

    def cancel(self) -> None:
        """Close the confirmation: nothing was written."""
        _hidden(self.confirm_box, True)
        self.result.value = esc("Cancelled: nothing was written.")

    def confirm(self) -> PromotionRecord | None:
        """The confirmation's button: the real, all-or-nothing promotion through the core."""
        refusal = self.refusal()
        if refusal is not None:
            self.hint.value = esc(refusal)
            return None
        _hidden(self.confirm_box, True)
        try:
            record = self._integrator().promote_run(
                self.run_id,
                approver=approver(),
                reason=self.reason.value.strip(),
                trigger_pipeline=self.trigger_pipeline.value,
                force=self.gates_failed and self.force.value,
            )
        except FraudJlabError as exc:
            self.result.value = error_box("Promotion failed", exc)
            return None
        assert isinstance(record, PromotionRecord)  # dry_run=False always returns the record
        self.record = record
        self.result.value = "<h4>Promoted: production updated</h4>" + record_html(record)
        for control in (self.reason, self.trigger_pipeline, self.force):
            control.disabled = True
        self._update()
        if self._on_promoted is not None:
            self._on_promoted(record)
        return record
