"""Copy runs between trackers (``fraud-jlab import --from URI --to URI [--filter EXPR]``).

Each run is copied with its params, metric history (steps), tags, datasets, artifacts,
code version, dependencies, status and times; a parent that is not itself selected is
copied first, so parent links survive. The copy records its source in the tags
``import.source_run_id`` and ``import.source`` (set last, after everything else landed), so
copying again skips every run already copied: the import is idempotent and resumable. A
run that fails half-way is ended ``failed`` in the destination without those tags and is
copied again next time.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fraud_jlab.errors import FraudJlabError, NotFoundError
from fraud_jlab.redact import redact_uri
from fraud_jlab.tracking.contract import RunDetail, RunSummary, TrackerStore

SOURCE_TAG = "import.source_run_id"
SOURCE_URI_TAG = "import.source"
_PAGE = 1000


@dataclass
class ImportSummary:
    """What an import did: run counts and one message per failed run."""

    copied: int = 0
    skipped: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    #: source run id -> destination run id, for every run copied now or before
    mapping: dict[str, str] = field(default_factory=dict)


Progress = Callable[[int, int], None]


def _all_runs(store: TrackerStore, filter_string: str) -> Iterator[RunSummary]:
    token: str | None = None
    while True:
        page = store.search_runs(
            filter_string, order_by=["start_time ASC"], max_results=_PAGE, page_token=token
        )
        yield from page.runs
        token = page.next_page_token
        if token is None:
            return


def already_copied(destination: TrackerStore) -> dict[str, str]:
    """Source run id -> destination run id of every run copied into ``destination`` before."""
    return {
        run.tags[SOURCE_TAG]: run.run_id
        for run in _all_runs(destination, f"tags.`{SOURCE_TAG}` IS NOT NULL")
    }


def _copy_one(
    source: TrackerStore,
    destination: TrackerStore,
    detail: RunDetail,
    parent: str | None,
    origin: str,
) -> str:
    run_id = destination.create_run(
        detail.experiment_name,
        detail.run_name,
        user=detail.user,
        start_time=detail.start_time,
        parent_run_id=parent,
        tags=detail.tags,
        code_version=detail.code_version,
        dependencies=detail.dependencies,
    )
    try:
        if detail.params:
            destination.log_params(run_id, detail.params)
        steps: dict[int, dict[str, float]] = {}
        order: list[int] = []
        for name, points in detail.metric_history.items():
            for step, value in points:
                if step not in steps:
                    steps[step] = {}
                    order.append(step)
                steps[step][name] = value
        for step in sorted(order):
            destination.log_metrics(run_id, steps[step], step=step)
        # The latest value is what search sees: make sure it is the source's.
        missing = {k: v for k, v in detail.metrics.items() if k not in detail.metric_history}
        if missing:
            destination.log_metrics(run_id, missing)
        for name, digest in detail.datasets.items():
            destination.log_dataset(run_id, name, digest)
        with tempfile.TemporaryDirectory(prefix="fraud-jlab-import-") as tmp:
            for artifact in detail.artifacts:
                local = Path(tmp) / "artifact"
                local.write_bytes(source.read_artifact(detail.run_id, artifact.path))
                destination.log_artifact(
                    run_id, local, artifact_path=artifact.path, is_output=artifact.is_output
                )
        if detail.status != "running" and detail.end_time is not None:
            destination.end_run(run_id, detail.status, end_time=detail.end_time)
        destination.set_tags(run_id, {SOURCE_TAG: detail.run_id, SOURCE_URI_TAG: origin})
    except BaseException:
        # Already ended is fine: the copy is unmarked either way and is redone next time.
        with contextlib.suppress(FraudJlabError):
            destination.end_run(run_id, "failed", end_time=detail.end_time or detail.start_time)
        raise
    return run_id


def copy_runs(
    source: TrackerStore,
    destination: TrackerStore,
    filter_string: str = "",
    *,
    source_uri: str = "",
    progress: Progress | None = None,
) -> ImportSummary:
    """Copy the runs of ``source`` matching ``filter_string`` into ``destination``.

    Returns the counts of copied / skipped (copied before) / failed runs. ``progress(done,
    total)`` is called after each run. Raises ValidationError for a bad filter (nothing
    copied).
    """
    selected = list(_all_runs(source, filter_string))
    summary = ImportSummary(mapping=already_copied(destination))
    origin = redact_uri(source_uri)[:250] if source_uri else repr(source)[:250]

    def copy(run_id: str, chain: tuple[str, ...] = ()) -> str | None:
        """The destination id of source run ``run_id``, copying it (and its parents) if needed."""
        if run_id in summary.mapping:
            return summary.mapping[run_id]
        if run_id in summary.errors or run_id in chain:
            return None
        detail = source.get_run(run_id)
        parent = None
        if detail.parent_run_id is not None:
            parent = copy(detail.parent_run_id, (*chain, run_id))
            if parent is None:
                raise NotFoundError(
                    "parent run", detail.parent_run_id, "The parent could not be copied."
                )
        summary.mapping[run_id] = _copy_one(source, destination, detail, parent, origin)
        summary.copied += 1
        return summary.mapping[run_id]

    for done, run in enumerate(selected, start=1):
        if run.run_id in summary.mapping:
            summary.skipped += 1
        else:
            try:
                copy(run.run_id)
            except Exception as exc:  # one bad run must not stop the others; reported below
                summary.failed += 1
                summary.errors[run.run_id] = f"{type(exc).__name__}: {exc}"[:500]
        if progress is not None:
            progress(done, len(selected))
    return summary
