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
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
    workers: int = 4,
) -> ImportSummary:
    """Copy the runs of ``source`` matching ``filter_string`` into ``destination``.

    Returns the counts of copied / skipped (copied before) / failed runs. ``progress(done,
    total)`` is called after each run. Runs are copied by ``workers`` threads, parents
    before their children (each wave of the run tree in parallel). Raises ValidationError
    for a bad filter (nothing copied).
    """
    selected = list(_all_runs(source, filter_string))
    summary = ImportSummary(mapping=already_copied(destination))
    origin = redact_uri(source_uri)[:250] if source_uri else repr(source)[:250]
    lock = threading.Lock()
    done = 0

    def report() -> None:
        nonlocal done
        with lock:
            done += 1
            current = done
        if progress is not None:
            progress(current, len(selected))

    # The runs to copy: the selection plus any parent not yet in the destination.
    parents: dict[str, str | None] = {r.run_id: r.parent_run_id for r in selected}
    pending = [r.parent_run_id for r in selected if r.parent_run_id is not None]
    while pending:
        run_id = pending.pop()
        if run_id in parents or run_id in summary.mapping:
            continue
        try:
            parents[run_id] = source.get_run(run_id).parent_run_id
        except NotFoundError:
            parents[run_id] = None
            summary.errors[run_id] = "NotFoundError: the parent run is not in the source"
            continue
        if parents[run_id] is not None:
            pending.append(parents[run_id])  # type: ignore[arg-type]
    wanted = {r.run_id for r in selected}
    todo = {r for r in parents if r not in summary.mapping and r not in summary.errors}
    for run_id in wanted - todo:
        if run_id in summary.mapping:
            summary.skipped += 1
        else:
            summary.failed += 1
        report()

    def copy(run_id: str) -> None:
        try:
            parent_id = parents[run_id]
            parent = None
            if parent_id is not None:
                parent = summary.mapping.get(parent_id)
                if parent is None:
                    raise NotFoundError(
                        "parent run", parent_id, "The parent run could not be copied."
                    )
            detail = source.get_run(run_id)
            new_id = _copy_one(source, destination, detail, parent, origin)
            with lock:
                summary.mapping[run_id] = new_id
                summary.copied += 1
        except Exception as exc:  # one bad run must not stop the others; reported in the summary
            with lock:
                summary.errors[run_id] = f"{type(exc).__name__}: {exc}"[:500]
                summary.failed += 1 if run_id in wanted else 0
        if run_id in wanted:
            report()

    # Waves: a run is ready once its parent is copied (or failed, which fails it too).
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while todo:
            ready = sorted(r for r in todo if parents[r] is None or parents[r] not in todo)
            todo -= set(ready)
            list(pool.map(copy, ready))
    return summary
