"""Run names as arguments: ``%fraud promote xgb-small-steps`` and the same in REST.

:func:`resolve_run_ref` is the one place a run reference (an id, or a name unique in
its experiment) becomes a run id.

Example::

    run_id = resolve_run_ref("xgb-small-steps", tracker=tracker)
"""

from __future__ import annotations

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.contract import MAX_KEY_LENGTH, RunSummary, TrackerStore

#: How many matching runs an ambiguity message lists by id.
MAX_LISTED_MATCHES = 10


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _describe(run: RunSummary) -> str:
    return (
        f"{run.run_id} (experiment {run.experiment_name}, started {run.start_time:%Y-%m-%d %H:%M})"
    )


def resolve_run_ref(
    ref: str,
    *,
    tracker: TrackerStore,
    experiment_name: str | None = None,
    field: str = "run_id",
) -> str:
    """The run id ``ref`` names: ``ref`` itself when it is a run id, else the one run so named.

    A name must be unique (in ``experiment_name`` when given, else among all runs). Raises
    NotFoundError when no run has this id or name, and ValidationError (naming ``field``)
    listing the matching ids when the name is ambiguous.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise ValidationError(f"{field} must be a run id or a run name", field=field)
    ref = ref.strip()
    try:
        return tracker.get_run(ref).run_id
    except NotFoundError:
        if len(ref) > MAX_KEY_LENGTH:
            raise  # longer than any run name: no search, the id's own 404
    query = f"run_name = {_quote(ref)}"
    if experiment_name:
        query += f" and experiment = {_quote(experiment_name.strip())}"
    page = tracker.search_runs(query, ["start_time DESC"], MAX_LISTED_MATCHES + 1)
    if page.total == 0 or not page.runs:
        where = f" in experiment {experiment_name}" if experiment_name else ""
        raise NotFoundError(
            "run",
            ref,
            f"No run has this id, and no run is named so{where}.",
        )
    if page.total == 1:
        return page.runs[0].run_id
    listed = [_describe(run) for run in page.runs[:MAX_LISTED_MATCHES]]
    more = page.total - len(listed)
    scope = f" in experiment {experiment_name}" if experiment_name else ""
    raise ValidationError(
        f"{page.total} runs are named {ref!r}{scope}; pass one of their ids: "
        + ", ".join(listed)
        + (f" and {more} more" if more > 0 else "")
        + (
            ""
            if experiment_name
            else " (or name the experiment to narrow it down, if the name is unique there)"
        ),
        field=field,
        errors=listed,
    )


def resolve_run_refs(
    refs: list[str],
    *,
    tracker: TrackerStore,
    experiment_name: str | None = None,
    field: str = "run_ids",
) -> list[str]:
    """:func:`resolve_run_ref` for each reference, in order."""
    return [
        resolve_run_ref(ref, tracker=tracker, experiment_name=experiment_name, field=field)
        for ref in refs
    ]
