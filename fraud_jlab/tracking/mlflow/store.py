"""The tracker contract on MLflow: ``MlflowTrackerStore("http://mlflow:5000")``.

Mapping: experiment name -> MLflow experiment (created on demand); run name,
start/end time (ms) and status (RUNNING/FINISHED/FAILED) -> the MLflow run;
user -> tag ``mlflow.user``; parent -> tag ``mlflow.parentRunId``; code version,
dependencies, datasets and artifact checksums -> ``fraud_jlab.*`` tags (hidden
from ``tags``; user tags may not use the ``mlflow.`` or ``fraud_jlab.``
prefixes). Events are finished runs of the ``fraud_jlab-events`` experiment
(payload in a tag, or in ``payload.json`` when large); that experiment is hidden
from searches and listings. Run ids are MLflow's own (32 hex characters).

Search pushes the ``AND``-ed conditions MLflow understands to the server and re-checks
the full filter in Python (``query.matcher``: OR, IN, IS NULL are evaluated here). When
MLflow can sort like the contract (metrics, params, tags, ``start_time``, ``end_time``,
``run_name``; its SQL store sorts missing values last either way), ``order_by`` and
paging go to the server too and a page reads only ``offset + max_results + 1`` matches
(``query.window``): ``total`` is then a lower bound (``total_is_exact`` false) unless the
runs ran out. Other orders (``status``, ``user``, ``experiment``, ...) read every
candidate run and count exactly.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException

from fraud_jlab.errors import NotFoundError
from fraud_jlab.tracking.contract import (
    ArtifactInfo,
    ExperimentSummary,
    RunDetail,
    RunsPage,
    TrackerEvent,
)
from fraud_jlab.tracking.inputs import (
    check_name,
    check_payload,
    from_ms,
)
from fraud_jlab.tracking.mlflow.base import (
    _INLINE_PAYLOAD,
    _PAGE,
    EVENTS_EXPERIMENT,
    _artifact_tag,
    _tag,
)
from fraud_jlab.tracking.mlflow.search import to_mlflow_clause, to_mlflow_order
from fraud_jlab.tracking.mlflow.writing import MlflowWriting
from fraud_jlab.tracking.query.filters import Comparison, parse_filter, parse_order_by
from fraud_jlab.tracking.query.matcher import (
    conjuncts,
    matches,
    sort_runs,
    value_matches,
)
from fraud_jlab.tracking.query.paging import (
    check_max_results,
    decode_token,
    encode_token,
    fingerprint,
)
from fraud_jlab.tracking.query.window import read_window, window_page


class MlflowTrackerStore(MlflowWriting):
    """Tracker kept in MLflow (any tracking URI MLflow accepts). Safe to share between threads.

    ``artifact_location`` is the artifact root for experiments this store creates;
    for ``sqlite:///<path>`` it defaults to ``<path stem>-artifacts`` beside the
    database, otherwise the server's default applies.
    """

    # --- reading -----------------------------------------------------------
    def get_run(self, run_id: str) -> RunDetail:
        run = self._run(run_id)
        record = self._record(run)
        tags = run.data.tags
        datasets: dict[str, str] = json.loads(tags.get(_tag("datasets"), "{}"))
        artifacts = sorted(
            (
                ArtifactInfo.model_validate_json(v)
                for k, v in tags.items()
                if k.startswith(_tag("artifact."))
            ),
            key=lambda a: a.path,
        )
        children = sorted(
            (
                self._record(r)
                for r in self._iter_runs(
                    list(self._experiments()), f"tags.`mlflow.parentRunId` = '{run_id}'"
                )
            ),
            key=lambda r: (r.start_ms, r.created_ns, r.run_id),
        )
        history: dict[str, list[tuple[int, float]]] = {}
        for key in sorted(record.metrics):
            points = sorted(self._client.get_metric_history(run_id, key), key=lambda m: m.timestamp)
            history[key] = [(int(m.step), float(m.value)) for m in points]
        return RunDetail(
            **record.summary.model_dump(),
            code_version=tags.get(_tag("code_version")),
            dataset_version=datasets.get("training", next(iter(datasets.values()), None)),
            datasets=datasets,
            dependencies=json.loads(tags.get(_tag("dependencies"), "{}")),
            artifacts=artifacts,
            children=[c.run_id for c in children],
            metric_history=history,
        )

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        limit = check_max_results(max_results)
        node = parse_filter(filter_string or "")
        keys = parse_order_by([order_by] if isinstance(order_by, str) else list(order_by or ()))
        print_ = fingerprint(node, keys)
        offset = decode_token(page_token, print_)
        experiments = self._experiments()
        clauses: list[str] = []
        pushed_all = True
        for part in conjuncts(node):
            if (
                isinstance(part, Comparison)
                and part.key.kind == "attribute"
                and part.key.name == "experiment"
            ):
                experiments = {i: n for i, n in experiments.items() if value_matches(part, n)}
            elif (clause := to_mlflow_clause(part)) is not None:
                clauses.append(clause)
            else:
                pushed_all = False
        server_order = to_mlflow_order(keys)
        if server_order is not None:
            # MLflow sorts and pages: read only as far as this page needs.
            need = offset + limit + 1
            size = min(max(need, 100), _PAGE) if pushed_all else _PAGE
            records = map(
                self._record,
                self._iter_runs(list(experiments), " and ".join(clauses), server_order, size),
            )
            found, exhausted = read_window(records, node, need)
            return window_page(found, exhausted, keys, offset, limit, print_)
        candidates = self._iter_runs(list(experiments), " and ".join(clauses))
        found = [rec for rec in map(self._record, candidates) if matches(node, rec)]
        ordered = sort_runs(found, keys)
        page = ordered[offset : offset + limit]
        end = offset + len(page)
        return RunsPage(
            runs=[r.summary for r in page],
            next_page_token=encode_token(end, print_) if end < len(ordered) else None,
            total=len(ordered),
        )

    def list_experiments(self) -> list[ExperimentSummary]:
        experiments = self._experiments()
        times: dict[str, list[int]] = {i: [] for i in experiments}
        for run in self._iter_runs(list(experiments)):
            times[run.info.experiment_id].append(run.info.start_time or 0)
        summaries = [
            ExperimentSummary(
                name=name,
                run_count=len(times[i]),
                first_run_time=from_ms(min(times[i])) if times[i] else None,
                last_run_time=from_ms(max(times[i])) if times[i] else None,
            )
            for i, name in experiments.items()
            # MLflow always has a "Default" experiment; list it only once it holds runs.
            if times[i] or name != "Default"
        ]
        summaries.sort(key=lambda e: e.name)
        summaries.sort(
            key=lambda e: e.last_run_time or datetime.min.replace(tzinfo=timezone.utc),
            reverse=True,
        )
        return summaries

    def read_artifact(self, run_id: str, path: str) -> bytes:
        tags = self._run(run_id).data.tags
        if not isinstance(path, str) or _artifact_tag(path) not in tags:
            raise NotFoundError(
                "artifact", str(path), f"Run {run_id} has no artifact at this path."
            )
        with tempfile.TemporaryDirectory(prefix="fraud-jlab-download-") as tmp:
            try:
                local = self._client.download_artifacts(run_id, path, dst_path=tmp)
            except (MlflowException, OSError):
                raise NotFoundError(
                    "artifact file", path, "It was removed from the artifact store."
                ) from None
            return Path(local).read_bytes()

    # --- events ------------------------------------------------------------
    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        kind = check_name(kind, "kind")
        text = check_payload(payload)
        if run_id is not None:
            self._run(run_id)
        experiment_id = self._experiment_id(EVENTS_EXPERIMENT, create=True)
        assert experiment_id is not None
        now = self._now_ms()
        tags = {
            _tag("event.kind"): kind,
            _tag("created_ns"): str(time.time_ns()),
            "mlflow.user": "fraud_jlab",
        }
        if run_id is not None:
            tags[_tag("event.run_id")] = run_id
        if len(text) <= _INLINE_PAYLOAD:
            tags[_tag("event.payload")] = text
        event = self._client.create_run(experiment_id, start_time=now, tags=tags, run_name=kind)
        event_id = event.info.run_id
        if len(text) > _INLINE_PAYLOAD:
            self._client.log_text(event_id, text, "payload.json")
        # Readers list FINISHED event runs only, so an event appears complete or not at all.
        self._client.set_terminated(event_id, status="FINISHED", end_time=now)
        return TrackerEvent(
            event_id=event_id,
            kind=kind,
            run_id=run_id,
            timestamp=from_ms(now),
            payload=json.loads(text),
        )

    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        experiment_id = self._experiment_id(EVENTS_EXPERIMENT, create=False)
        if experiment_id is None:
            return []
        runs = [
            r
            for r in self._iter_runs([experiment_id], "attributes.status = 'FINISHED'")
            if (kind is None or r.data.tags.get(_tag("event.kind")) == kind)
            and (run_id is None or r.data.tags.get(_tag("event.run_id")) == run_id)
        ]
        runs.sort(
            key=lambda r: (r.info.start_time, int(r.data.tags.get(_tag("created_ns"), "0"))),
            reverse=True,
        )
        return [self._event(r) for r in runs]

    def _event(self, run: Any) -> TrackerEvent:
        tags = run.data.tags
        text = tags.get(_tag("event.payload"))
        if text is None:
            with tempfile.TemporaryDirectory(prefix="fraud-jlab-event-") as tmp:
                local = self._client.download_artifacts(run.info.run_id, "payload.json", tmp)
                text = Path(local).read_text()
        return TrackerEvent(
            event_id=run.info.run_id,
            kind=tags.get(_tag("event.kind"), ""),
            run_id=tags.get(_tag("event.run_id")),
            timestamp=from_ms(run.info.start_time),
            payload=json.loads(text),
        )


__all__ = ["EVENTS_EXPERIMENT", "MlflowTrackerStore"]
