"""One page from a service that sorts and pages itself: read only as far as the page needs.

A backend whose service can evaluate the order (MLflow ``order_by``, SageMaker ``SortBy``)
asks it for candidates already in the requested order and reads them lazily. The full
filter is re-checked here (the service only has to return a superset), and reading stops
once ``offset + max_results + 1`` matches are known: the extra one says whether another
page follows. The total is then a lower bound (``RunsPage.total_is_exact`` false); it is
exact only when the candidates ran out first.

The window is re-sorted with the contract's order (``matcher.sort_runs``), so runs that tie
on every order key come newest first, as in the embedded store; the set of runs in the
window is the service's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fraud_jlab.tracking.contract import RunsPage
from fraud_jlab.tracking.query.filters import Node, OrderKey
from fraud_jlab.tracking.query.matcher import RunRecord, matches, sort_runs
from fraud_jlab.tracking.query.paging import encode_token


def read_window(
    candidates: Iterable[RunRecord], node: Node | None, need: int
) -> tuple[list[RunRecord], bool]:
    """(the first ``need`` candidates matching ``node``, whether the candidates ran out)."""
    found: list[RunRecord] = []
    for record in candidates:
        if matches(node, record):
            found.append(record)
            if len(found) >= need:
                return found, False
    return found, True


def window_page(
    found: list[RunRecord],
    exhausted: bool,
    keys: Sequence[OrderKey],
    offset: int,
    limit: int,
    print_: str,
    client_side_filter: str | None = None,
) -> RunsPage:
    """The page ``offset .. offset + limit`` of the window ``found`` (see the module doc)."""
    ordered = sort_runs(found, keys)
    page = ordered[offset : offset + limit]
    end = offset + len(page)
    return RunsPage(
        runs=[r.summary for r in page],
        next_page_token=encode_token(end, print_) if end < len(ordered) else None,
        total=len(ordered),
        total_is_exact=exhausted,
        client_side_filter=client_side_filter,
    )
