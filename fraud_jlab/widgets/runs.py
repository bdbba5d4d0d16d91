"""``RunBrowser``: search, sort and page runs, select some, compare or promote them.

Every view is one :func:`fraud_jlab.search_runs` call for one page (the tracker
pages on its side with page tokens), so the kernel never holds the whole runs
table. A bad filter or sort key shows the core's ValidationError inline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ipywidgets as widgets

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import FraudJlabError
from fraud_jlab.evaluation.metrics import HEADLINE_METRICS
from fraud_jlab.tracking.contract import RunsPage, RunSummary, TrackerStore
from fraud_jlab.tracking.registry import get_tracker
from fraud_jlab.tracking.run import search_runs
from fraud_jlab.widgets.compare import ComparisonDashboard
from fraud_jlab.widgets.html import STYLE, error_box, esc
from fraud_jlab.widgets.promote import PromotePanel

#: Suggestions of the order-by box; any key of the tracker's grammar may be typed.
ORDER_SUGGESTIONS: tuple[str, ...] = (
    "start_time DESC",
    "start_time ASC",
    "attributes.run_name ASC",
    *(f"metrics.{m} DESC" for m in HEADLINE_METRICS),
)
#: Metric columns shown (those present on the page), short headers.
METRIC_COLUMNS: dict[str, str] = {
    "average_precision": "AP",
    "auc_roc": "AUC",
    "recall_at_fpr": "R@FPR",
    "precision": "prec",
    "recall": "recall",
    "f1_score": "F1",
    "accuracy": "acc",
}


def _order_keys(order_by: str | Sequence[str] | None) -> list[str]:
    """Sort keys from ``"a DESC, b"`` or a list of keys (the REST API's comma form)."""
    items = [order_by] if isinstance(order_by, str) else list(order_by or ())
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def _cell(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


class RunBrowser(widgets.VBox):
    """A paged, sortable, filterable runs table with Compare and Promote.

    ``filter`` uses the tracker's grammar (``metrics.average_precision > 0.8 and
    params.max_depth = '7'``), ``order_by`` its sort keys (``"metrics.auc_roc DESC"``
    or a list), ``page_size`` is the rows of one page (1..1000, checked by the tracker).
    ``page`` is the page shown; ``selected`` the run ids selected on any page.
    """

    def __init__(
        self,
        filter: str = "",
        order_by: str | Sequence[str] | None = None,
        page_size: int = 25,
        *,
        tracker: TrackerStore | None = None,
        settings: FraudJlab | None = None,
    ) -> None:
        self._tracker = tracker
        self._settings = settings
        self.page_size = page_size
        self.page: RunsPage | None = None
        self.dashboard: ComparisonDashboard | None = None
        self.promote_panel: PromotePanel | None = None
        self._tokens: list[str | None] = [None]  # page i starts at _tokens[i]
        self._index = 0
        self._selected: dict[str, None] = {}  # ordered set
        self._syncing = False
        self.filter_box = widgets.Text(
            value=filter,
            description="Filter",
            placeholder="metrics.average_precision > 0.8 and params.max_depth = '7'",
            continuous_update=False,
            layout=widgets.Layout(width="60%"),
        )
        self.order_box = widgets.Combobox(
            value=", ".join(_order_keys(order_by)),
            options=list(ORDER_SUGGESTIONS),
            description="Order by",
            placeholder="start_time DESC",
            ensure_option=False,
            continuous_update=False,
        )
        self.error = widgets.HTML()
        self.header = widgets.HTML()
        self.table = widgets.SelectMultiple(
            options=[], rows=15, layout=widgets.Layout(width="100%")
        )
        self.prev_button = widgets.Button(description="◀ Previous", disabled=True)
        self.next_button = widgets.Button(description="Next ▶", disabled=True)
        self.page_label = widgets.HTML()
        self.selection_label = widgets.HTML()
        self.compare_button = widgets.Button(description="Compare", icon="bar-chart")
        self.promote_button = widgets.Button(description="Promote", icon="rocket")
        self.message = widgets.HTML()
        self.detail = widgets.VBox()
        super().__init__(
            [
                widgets.HTML(STYLE),
                widgets.HBox([self.filter_box, self.order_box]),
                self.error,
                self.header,
                self.table,
                widgets.HBox([self.prev_button, self.next_button, self.page_label]),
                widgets.HBox([self.compare_button, self.promote_button, self.selection_label]),
                self.message,
                self.detail,
            ]
        )
        self.add_class("fraud-jlab-widget")
        self.filter_box.observe(lambda _c: self.refresh(), names="value")
        self.order_box.observe(lambda _c: self.refresh(), names="value")
        self.table.observe(self._on_select, names="value")
        self.prev_button.on_click(lambda _b: self.previous_page())
        self.next_button.on_click(lambda _b: self.next_page())
        self.compare_button.on_click(lambda _b: self.compare())
        self.promote_button.on_click(lambda _b: self.promote())
        self.refresh()

    # --- paging -------------------------------------------------------------------------

    @property
    def selected(self) -> list[str]:
        """Selected run ids, in the order they were selected."""
        return list(self._selected)

    def refresh(self) -> None:
        """Back to the first page of the current filter and order (selection is kept)."""
        self._tokens, self._index = [None], 0
        self._show(None)

    def next_page(self) -> None:
        """The next page (one tracker call)."""
        if self._index + 1 < len(self._tokens):
            self._index += 1
            self._show(self._tokens[self._index])

    def previous_page(self) -> None:
        """The previous page (one tracker call, with the token remembered for it)."""
        if self._index > 0:
            self._index -= 1
            self._show(self._tokens[self._index])

    def _show(self, token: str | None) -> None:
        try:
            page = search_runs(
                self.filter_box.value,
                _order_keys(self.order_box.value),
                self.page_size,
                token,
                tracker=self._tracker or get_tracker(),
            )
        except FraudJlabError as exc:
            self.page = None
            self.error.value = error_box("Search failed", exc)
            self._set_rows([])
            self.page_label.value = ""
            self.prev_button.disabled = self.next_button.disabled = True
            return
        self.error.value = ""
        self.page = page
        del self._tokens[self._index + 1 :]
        if page.next_page_token:
            self._tokens.append(page.next_page_token)
        self._set_rows(page.runs)
        pages = max(1, math.ceil(page.total / self.page_size))
        if page.total_is_exact:
            label = f"Page {self._index + 1} of {pages} · {page.total} matching runs"
        else:  # a remote tracker paged without counting: the total is a lower bound
            label = f"Page {self._index + 1} of {pages}+ · {page.total}+ matching runs"
        self.page_label.value = esc(label)
        self.prev_button.disabled = self._index == 0
        self.next_button.disabled = page.next_page_token is None

    def _set_rows(self, runs: Sequence[RunSummary]) -> None:
        present = {m for r in runs for m in r.metrics}
        metrics = [m for m in METRIC_COLUMNS if m in present][:4]
        head = (
            _cell("run name", 22) + _cell("experiment", 24) + _cell("status", 10)
            + _cell("started (UTC)", 17) + "".join(_cell(METRIC_COLUMNS[m], 8) for m in metrics)
            + "run id"
        )  # fmt: skip
        self.header.value = f"<pre>{esc(head)}</pre>" if runs else ""
        options = [
            (
                _cell(r.run_name, 22) + _cell(r.experiment_name, 24) + _cell(r.status, 10)
                + _cell(r.start_time.strftime("%Y-%m-%d %H:%M"), 17)
                + "".join(_cell(f"{r.metrics[m]:.4f}" if m in r.metrics else "-", 8)
                          for m in metrics)
                + r.run_id,
                r.run_id,
            )
            for r in runs
        ]  # fmt: skip
        self._syncing = True
        try:
            self.table.options = options
            self.table.value = tuple(r.run_id for r in runs if r.run_id in self._selected)
        finally:
            self._syncing = False
        self._show_selection()

    # --- selection and actions ----------------------------------------------------------

    def select(self, run_ids: Sequence[str]) -> None:
        """Select these runs of the current page (as clicking the rows does)."""
        self.table.value = tuple(run_ids)

    def _on_select(self, change: dict[str, object]) -> None:
        if self._syncing:
            return
        chosen = set(self.table.value)
        for _label, run_id in self.table.options:
            if run_id in chosen:
                self._selected.setdefault(run_id, None)
            else:
                self._selected.pop(run_id, None)
        self._show_selection()

    def _show_selection(self) -> None:
        n = len(self._selected)
        self.selection_label.value = esc(
            f"{n} selected" if n else "Select rows to compare or promote"
        )

    def compare(self) -> ComparisonDashboard | None:
        """Open a ComparisonDashboard of the selected runs (baseline: the run in production)."""
        self.message.value = ""
        try:
            dashboard = ComparisonDashboard(
                self.selected, tracker=self._tracker, settings=self._settings
            )
        except FraudJlabError as exc:
            self.message.value = error_box("Comparison failed", exc)
            return None
        self.dashboard = dashboard
        self.detail.children = (dashboard,)
        return dashboard

    def promote(self) -> PromotePanel | None:
        """Open the promotion panel of the selected run (its dry run runs at once)."""
        self.message.value = ""
        if len(self._selected) != 1:
            self.message.value = esc(
                f"Select exactly one run to promote ({len(self._selected)} selected)."
            )
            return None
        panel = PromotePanel(self.selected[0], settings=self._settings, tracker=self._tracker)
        self.promote_panel = panel
        self.detail.children = (panel,)
        return panel
