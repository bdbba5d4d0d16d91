"""SageMaker Experiments backend: reading runs (detail, metric history, search, experiments, artifacts).

A page ordered by one metric is sorted and paged by the service (``_metric_window``); other
orders read every candidate and sort here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.errors import NotFoundError
from fraud_jlab.tracking.contract import (
    ArtifactInfo,
    ExperimentSummary,
    RunDetail,
    RunsPage,
)
from fraud_jlab.tracking.inputs import (
    from_ms,
)
from fraud_jlab.tracking.query.filters import Node, OrderKey, parse_filter, parse_order_by
from fraud_jlab.tracking.query.matcher import RunRecord, matches, sort_runs
from fraud_jlab.tracking.query.paging import (
    check_max_results,
    decode_token,
    encode_token,
    fingerprint,
)
from fraud_jlab.tracking.query.window import read_window, window_page
from fraud_jlab.tracking.sagemaker.base import (
    EVENTS_EXPERIMENT,
    SageMakerBase,
    _p,
)
from fraud_jlab.tracking.sagemaker.search import (
    describe_rest,
    metric_sort_by,
    push_down,
    sort_metric,
    with_presence,
)


class SageMakerReading(SageMakerBase):
    """Run detail, search and listings."""

    def get_run(self, run_id: str) -> RunDetail:
        tc = self._component(run_id)
        record = self._record(tc)
        params = self._raw_params(tc)
        all_tags = {t["Key"]: t["Value"] for t in tc.get("Tags") or []}
        datasets_order = sorted(
            (int(v), k[len(_p("dataset_order:")) :])
            for k, v in params.items()
            if k.startswith(_p("dataset_order:"))
        )
        datasets = {name: params[_p("dataset:") + name] for _, name in datasets_order}
        artifacts: list[ArtifactInfo] = []
        for field in ("InputArtifacts", "OutputArtifacts"):
            for path in tc.get(field) or {}:
                meta = all_tags.get(self._artifact_tag(path))
                if meta is None:
                    continue
                is_output, size, digest = meta.split(":", 2)
                artifacts.append(
                    ArtifactInfo(
                        path=path, size_bytes=int(size), is_output=is_output == "1", sha256=digest
                    )
                )
        children = sorted(
            (
                self._record(c)
                for c in self._iter_components(
                    [
                        {
                            "Name": "Parameters." + _p("parent_run_id"),
                            "Operator": "Equals",
                            "Value": run_id,
                        }
                    ]
                )
            ),
            key=lambda r: (r.start_ms, r.created_ns, r.run_id),
        )
        children = [c for c in children if c.parent_run_id == run_id]
        return RunDetail(
            **record.summary.model_dump(),
            code_version=params.get(_p("code_version")),
            dataset_version=datasets.get("training", next(iter(datasets.values()), None)),
            datasets=datasets,
            dependencies={
                k[len(_p("dep:")) :]: v for k, v in params.items() if k.startswith(_p("dep:"))
            },
            artifacts=sorted(artifacts, key=lambda a: a.path),
            children=[c.run_id for c in children],
            metric_history=self._history(tc, sorted(record.metrics)),
        )

    def _history(
        self, tc: Mapping[str, Any], names: list[str]
    ) -> dict[str, list[tuple[int, float]]]:
        history: dict[str, list[tuple[int, float]]] = {}
        for i in range(0, len(names), 10):
            chunk = names[i : i + 10]
            response = self._call(
                "sagemaker-metrics",
                "batch_get_metrics",
                MetricQueries=[
                    {
                        "MetricName": name,
                        "ResourceArn": self._arn(tc),
                        "MetricStat": "Last",
                        "Period": "IterationNumber",
                        "XAxisType": "IterationNumber",
                    }
                    for name in chunk
                ],
            )
            for name, result in zip(chunk, response.get("MetricQueryResults", []), strict=False):
                steps = result.get("XAxisValues") or []
                values = result.get("MetricValues") or []
                history[name] = [(int(s), float(v)) for s, v in zip(steps, values, strict=False)]
        return history

    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        from botocore.exceptions import ClientError

        limit = check_max_results(max_results)
        node = parse_filter(filter_string or "")
        keys = parse_order_by([order_by] if isinstance(order_by, str) else list(order_by or ()))
        print_ = fingerprint(node, keys)
        offset = decode_token(page_token, print_)
        filters, rest = push_down(node)
        by_metric = sort_metric(keys)
        if by_metric is not None:
            try:
                found, exhausted = self._metric_window(filters, by_metric, node, offset + limit + 1)
            except ClientError as exc:
                if self._code(exc) != "ValidationException":
                    raise
                # The service refused the filter or SortBy: read every candidate instead.
            else:
                return window_page(
                    found, exhausted, keys, offset, limit, print_, describe_rest(rest)
                )
        try:
            candidates = list(self._iter_components(filters))
        except ClientError as exc:
            if self._code(exc) != "ValidationException":
                raise
            # The service could not evaluate a pushed filter: keep only the experiment scope.
            kept = [f for f in filters if f["Name"] == "Parents.ExperimentName"]
            candidates = list(self._iter_components(kept))
            rest = [p for p in (node,) if p is not None] if len(kept) != len(filters) else rest
        runs = [
            rec
            for tc in candidates
            if self._experiment(tc) != EVENTS_EXPERIMENT and matches(node, rec := self._record(tc))
        ]
        ordered = sort_runs(runs, keys)
        page = ordered[offset : offset + limit]
        end = offset + len(page)
        return RunsPage(
            runs=[r.summary for r in page],
            next_page_token=encode_token(end, print_) if end < len(ordered) else None,
            total=len(ordered),
            client_side_filter=describe_rest(rest),
        )

    def _runs(
        self, filters: list[dict[str, str]], sort_by: str = "CreationTime", descending: bool = True
    ) -> Iterator[RunRecord]:
        for tc in self._iter_components(filters, sort_by, descending):
            if self._experiment(tc) != EVENTS_EXPERIMENT:
                yield self._record(tc)

    def _metric_window(
        self, filters: list[dict[str, str]], key: OrderKey, node: Node | None, need: int
    ) -> tuple[list[RunRecord], bool]:
        """The first ``need`` matches ordered by one metric, missing last (``query.window``).

        Runs having the metric come from the service sorted by it, read lazily; only when
        they run out are the runs lacking it read, all of them (at most ``MAX_SCAN``), and
        ordered here newest first, so where the service puts missing values does not matter.
        """
        name = key.key.name
        having = self._runs(
            with_presence(filters, name, True), metric_sort_by(name), key.descending
        )
        found, exhausted = read_window(having, node, need)
        if not exhausted:
            return found, False
        lacking = self._runs(with_presence(filters, name, False))
        return found + [rec for rec in lacking if matches(node, rec)], True

    def list_experiments(self) -> list[ExperimentSummary]:
        names: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("sagemaker", "list_experiments", **kwargs)
            names += [e["ExperimentName"] for e in page.get("ExperimentSummaries", [])]
            token = page.get("NextToken")
            if not token:
                break
        times: dict[str, list[int]] = {n: [] for n in names if n != EVENTS_EXPERIMENT}
        for tc in self._iter_components([]):
            exp = self._experiment(tc)
            if exp in times:
                times[exp].append(self._record(tc).start_ms)
        summaries = [
            ExperimentSummary(
                name=name,
                run_count=len(t),
                first_run_time=from_ms(min(t)) if t else None,
                last_run_time=from_ms(max(t)) if t else None,
            )
            for name, t in times.items()
        ]
        summaries.sort(key=lambda e: e.name)
        summaries.sort(
            key=lambda e: e.last_run_time or datetime.min.replace(tzinfo=timezone.utc),
            reverse=True,
        )
        return summaries

    def read_artifact(self, run_id: str, path: str) -> bytes:
        from botocore.exceptions import ClientError

        tc = self._component(run_id)
        location = None
        for field in ("InputArtifacts", "OutputArtifacts"):
            if isinstance(path, str) and path in (tc.get(field) or {}):
                location = tc[field][path]["Value"]
        if location is None:
            raise NotFoundError(
                "artifact", str(path), f"Run {run_id} has no artifact at this path."
            )
        bucket, _, key = location[len("s3://") :].partition("/")
        try:
            return bytes(self._call("s3", "get_object", Bucket=bucket, Key=key)["Body"].read())
        except ClientError:
            raise NotFoundError("artifact file", location, "It was removed from S3.") from None
