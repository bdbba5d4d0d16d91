"""The tracker contract on SageMaker Experiments, in the SageMaker SDK's ``Run`` layout.

Layout (what ``sagemaker.experiments.Run`` writes, so runs show up both ways):

* experiment -> a SageMaker experiment; its runs join the trial (run group)
  ``Default-Run-Group-<experiment>``;
* run -> a trial component named ``<experiment>-<run name>`` (a short suffix when that
  name is taken), tagged ``sagemaker:trial-component-source=run``; its id is that name;
* parameters -> the trial component's ``Parameters`` (``StringValue``); fraud_jlab's own
  fields (user, parent run, original run name, dependencies, datasets, creation order)
  are parameters under ``fraud_jlab:`` and hidden from ``params``;
* metrics -> ``sagemaker-metrics`` ``BatchPutMetrics`` (at most 10 values a request, with
  steps); the latest value comes from the trial component's metric summary, the history
  from ``BatchGetMetrics``;
* tags -> trial-component tags (``AddTags``);
* artifacts -> S3 objects ``s3://<bucket>/<prefix>/<run id>/<path>`` recorded as the trial
  component's ``InputArtifacts``/``OutputArtifacts``; size and sha256 in a ``fraud_jlab:a:`` tag;
* parent/child -> the child's ``fraud_jlab:parent_run_id`` parameter;
* events -> completed trial components of the ``fraud-jlab-events`` experiment.

Search sends what the service can evaluate as ``SearchExpression`` filters and evaluates
the rest (``OR``, parentheses, ``LIKE``, ``IN``, ``IS NULL``) client-side over pages of at
most 100 trial components, one request a page, never one a run; ``RunsPage.client_side_filter``
says which part. An order by one metric goes to the service (``SortBy`` ``Metrics.<name>.Last``
with ``Exists``, then the runs lacking it with ``NotExists``), and a page reads only
``offset + max_results + 1`` matches: ``total`` is a lower bound then (``total_is_exact``
false). Other orders read every candidate and count exactly. A filter the service rejects (``ValidationException``) is retried with
the experiment scope only and evaluated client-side. Throttling is retried with
exponential backoff and jitter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from fraud_jlab.tracking import ids
from fraud_jlab.tracking.contract import (
    TrackerEvent,
)
from fraud_jlab.tracking.inputs import (
    check_name,
    check_payload,
    from_ms,
)
from fraud_jlab.tracking.sagemaker.base import (
    EVENTS_EXPERIMENT,
    MAX_PARAM_VALUE,
    _ms,
    _p,
    _safe,
)
from fraud_jlab.tracking.sagemaker.reading import SageMakerReading
from fraud_jlab.tracking.sagemaker.writing import SageMakerWriting


class SageMakerTrackerStore(SageMakerReading, SageMakerWriting):
    """Tracker kept in SageMaker Experiments. Safe to share between threads.

    ``sagemaker``, ``metrics`` and ``s3`` are boto3 clients (``sagemaker``,
    ``sagemaker-metrics``, ``s3``); the defaults use boto3's credential chain in ``region``.
    ``sleep`` is how backoff waits (tests pass a recorder).
    """

    # --- events ------------------------------------------------------------
    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        kind = check_name(kind, "kind")
        text = check_payload(payload)
        if run_id is not None:
            self._component(run_id)
        trial = self._ensure_experiment(EVENTS_EXPERIMENT)
        created = self._created_ns()
        now_ms = created // 1_000_000
        event_id = f"fraud-jlab-event-{ids.new_id(now_ms).lower()}"
        params = {
            _p("event.kind"): kind,
            _p("created_ns"): str(created),
            _p("experiment"): EVENTS_EXPERIMENT,
            **{
                _p(f"event.payload.{i:04d}"): text[i * MAX_PARAM_VALUE : (i + 1) * MAX_PARAM_VALUE]
                for i in range(max(1, math.ceil(len(text) / MAX_PARAM_VALUE)))
            },
        }
        if run_id is not None:
            params[_p("event.run_id")] = run_id
        self._call(
            "sagemaker",
            "create_trial_component",
            TrialComponentName=event_id,
            DisplayName=_safe(kind)[:120],
            # Created complete: readers never see half an event.
            Status={"PrimaryStatus": "Completed"},
            StartTime=from_ms(now_ms),
            EndTime=from_ms(now_ms),
            Parameters={k: {"StringValue": v} for k, v in params.items()},
        )
        self._call(
            "sagemaker", "associate_trial_component", TrialComponentName=event_id, TrialName=trial
        )
        return TrackerEvent(
            event_id=event_id,
            kind=kind,
            run_id=run_id,
            timestamp=from_ms(now_ms),
            payload=json.loads(text),
        )

    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        from botocore.exceptions import ClientError

        scope = [
            {"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": EVENTS_EXPERIMENT}
        ]
        try:
            components = list(self._iter_components(scope))
        except ClientError as exc:
            if self._code(exc) != "ValidationException":
                raise
            components = list(self._iter_components([]))
        events = []
        for tc in components:
            params = self._raw_params(tc)
            if _p("event.kind") not in params or self._experiment(tc) != EVENTS_EXPERIMENT:
                continue
            if kind is not None and params[_p("event.kind")] != kind:
                continue
            if run_id is not None and params.get(_p("event.run_id")) != run_id:
                continue
            text = "".join(params[k] for k in sorted(params) if k.startswith(_p("event.payload.")))
            events.append(
                (
                    int(params.get(_p("created_ns"), "0")),
                    TrackerEvent(
                        event_id=str(tc["TrialComponentName"]),
                        kind=params[_p("event.kind")],
                        run_id=params.get(_p("event.run_id")),
                        timestamp=from_ms(_ms(tc.get("StartTime")) or 0),
                        payload=json.loads(text),
                    ),
                )
            )
        events.sort(key=lambda pair: pair[0], reverse=True)
        return [e for _, e in events]


__all__ = ["EVENTS_EXPERIMENT", "SageMakerTrackerStore"]
