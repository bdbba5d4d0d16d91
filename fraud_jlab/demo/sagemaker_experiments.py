"""SageMaker Experiments in the local AWS emulator: what moto drops or lacks.

moto 5.2 keeps experiments, trials and trial components, but drops the tags given to
``CreateTrialComponent``, evaluates almost no ``Search`` filters (no metrics, parameters,
``Parents.ExperimentName``, paging or sorting), returns search results without their
tags, parents and metric summaries, and has no ``sagemaker-metrics`` ``BatchGetMetrics``.
:func:`install_sagemaker_experiments` adds these to moto's backend and request
dispatcher (under ``moto.mock_aws`` and in the threaded server of ``fraud-jlab demo``)
with the service's documented semantics:

* ``Search(Resource="ExperimentTrialComponent")``: ``SearchExpression.Filters`` (all must
  hold) on ``TrialComponentName``, ``DisplayName``, ``Parents.ExperimentName``,
  ``Parents.TrialName``, ``Status.PrimaryStatus``, ``Tags.<key>``, ``Parameters.<name>``
  and ``Metrics.<name>`` (the last value), operators ``Equals``, ``NotEquals``,
  ``GreaterThan[OrEqualTo]``, ``LessThan[OrEqualTo]``, ``Contains``, ``Exists``,
  ``NotExists``; ``SortBy`` ``CreationTime``/``Name``/``Metrics.<name>.Last`` (missing
  values last); at most 100 results a page with a
  ``NextToken``. Any other filter name is a ``ValidationException``, as on the service.
* ``BatchGetMetrics`` with ``XAxisType="IterationNumber"``: every step's value.
"""

from __future__ import annotations

import json
import threading
from typing import Any

_install_lock = threading.Lock()
_installed: list[bool] = []
_MAX_PAGE = 100
_OPERATORS = {
    "Equals",
    "NotEquals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Contains",
    "Exists",
    "NotExists",
}


def _parents(backend: Any, tc: Any) -> list[dict[str, str]]:
    # moto records the (last) trial a component was associated with on the component.
    trial = backend.trials.get(tc.trial_name) if tc.trial_name else None
    if trial is None:
        return []
    return [{"TrialName": trial.trial_name, "ExperimentName": trial.experiment_name}]


def _property(backend: Any, tc: Any, name: str) -> tuple[bool, Any]:
    """(known property, value or None when absent) of a trial component."""
    if name == "TrialComponentName":
        return True, tc.trial_component_name
    if name == "DisplayName":
        return True, tc.display_name
    if name == "Status.PrimaryStatus":
        return True, (tc.status or {}).get("PrimaryStatus")
    if name in ("Parents.ExperimentName", "Parents.TrialName"):
        key = name.split(".", 1)[1]
        return True, [p[key] for p in _parents(backend, tc)]
    prefix, _, rest = name.partition(".")
    if prefix == "Tags" and rest:
        return True, next((t["Value"] for t in tc.tags if t["Key"] == rest), None)
    if prefix == "Parameters" and rest:
        value = tc.parameters.get(rest)
        if value is None:
            return True, None
        return True, value.get("StringValue", value.get("NumberValue"))
    if prefix == "Metrics" and rest:
        metric = tc.metrics.get(rest)
        if metric is None:
            return True, None
        steps = metric["Values"]
        return True, float(steps[max(steps)]["Value"])
    return False, None


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if op == "Exists":
        return actual is not None and actual != []
    if op == "NotExists":
        return actual is None or actual == []
    if isinstance(actual, list):
        if op == "NotEquals":
            return all(_holds(a, op, expected) for a in actual)
        return any(_holds(a, op, expected) for a in actual)
    if actual is None:
        return False
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        try:
            expected = float(expected)
        except ValueError:
            return False
    else:
        actual = str(actual)
    if op == "Equals":
        return bool(actual == expected)
    if op == "NotEquals":
        return bool(actual != expected)
    if op == "Contains":
        return str(expected) in str(actual)
    if type(actual) is not type(expected) and not isinstance(actual, float):
        return False
    return bool(
        {
            "GreaterThan": actual > expected,
            "GreaterThanOrEqualTo": actual >= expected,
            "LessThan": actual < expected,
            "LessThanOrEqualTo": actual <= expected,
        }[op]
    )


def _validation(message: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(message=message)


def _tc_result(backend: Any, tc: Any) -> dict[str, Any]:
    body = tc.response_object
    body["Tags"] = list(tc.tags)
    body["Parents"] = _parents(backend, tc)
    return body


def _search(original: Any) -> Any:
    def search(self: Any, resource: Any = None, search_expression: Any = None, **kw: Any) -> Any:
        if resource != "ExperimentTrialComponent":
            return original(self, resource=resource, search_expression=search_expression)
        expression = search_expression or {}
        filters = expression.get("Filters") or []
        for item in filters:
            if item.get("Operator", "Equals") not in _OPERATORS:
                raise _validation(f"Unknown operator: {item.get('Operator')}")
            if not _property(self, _Empty, item["Name"])[0]:
                raise _validation(f"Unknown property name: {item['Name']}")
        candidates: Any = self.trial_components.values()
        for item in filters:
            # A name lookup needs no scan (what a run's detail asks for).
            if item["Name"] == "TrialComponentName" and item.get("Operator", "Equals") == "Equals":
                one = self.trial_components.get(item.get("Value"))
                candidates = [one] if one is not None else []
        found = [
            tc
            for tc in candidates
            if all(
                _holds(
                    _property(self, tc, f["Name"])[1], f.get("Operator", "Equals"), f.get("Value")
                )
                for f in filters
            )
        ]
        sort_by = kw.get("sort_by") or "CreationTime"
        descending = (kw.get("sort_order") or "Descending") == "Descending"
        if sort_by == "Name":
            found.sort(key=lambda tc: tc.trial_component_name, reverse=descending)
        elif sort_by.startswith("Metrics."):
            found = _sort_by_metric(self, found, sort_by, descending)
        else:
            found.sort(
                key=lambda tc: (tc.creation_time, tc.trial_component_name), reverse=descending
            )
        size = min(int(kw.get("max_results") or _MAX_PAGE), _MAX_PAGE)
        start = int(kw.get("next_token") or 0)
        page = found[start : start + size]
        end = start + len(page)
        return {
            "Results": [{"TrialComponent": _tc_result(self, tc)} for tc in page],
            "NextToken": str(end) if end < len(found) else None,
        }

    search._fraud_jlab = True  # type: ignore[attr-defined]
    return search


def _sort_by_metric(backend: Any, found: list[Any], sort_by: str, descending: bool) -> list[Any]:
    """``found`` sorted by ``Metrics.<name>.Last`` (newest first among equal values).

    Components lacking the metric go last in either direction (the service does not document
    where it puts them; fraud_jlab's store does not rely on it). Only the ``Last`` statistic
    is kept by this emulator; another is a ``ValidationException``.
    """
    name, _, stat = sort_by[len("Metrics.") :].rpartition(".")
    if not name or stat != "Last":
        raise _validation(
            f"Unsupported SortBy: {sort_by} (the emulator sorts on Metrics.<name>.Last)"
        )
    newest = sorted(found, key=lambda tc: (tc.creation_time, tc.trial_component_name), reverse=True)
    values = [(_property(backend, tc, f"Metrics.{name}")[1], tc) for tc in newest]
    present = [(v, tc) for v, tc in values if v is not None]
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [tc for _, tc in present] + [tc for v, tc in values if v is None]


class _Empty:
    """Stands in for a trial component when validating names against an empty store."""

    trial_component_name = display_name = ""
    trial_name = None
    status: dict[str, str] = {}
    tags: list[dict[str, str]] = []
    parameters: dict[str, Any] = {}
    metrics: dict[str, Any] = {}


def _response_search(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(
        self.sagemaker_backend.search(
            resource=self._get_param("Resource"),
            search_expression=self._get_param("SearchExpression"),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
            max_results=self._get_param("MaxResults"),
            next_token=self._get_param("NextToken"),
        )
    )


def _create_with_tags(original: Any) -> Any:
    def create_trial_component(self: Any) -> Any:
        result = original(self)
        tags = self._get_param("Tags") or []
        if tags:
            tc = self.sagemaker_backend.trial_components[self._get_param("TrialComponentName")]
            tc.tags.extend(tags)
        return result

    return create_trial_component


def _batch_get_metrics(self: Any) -> str:
    from moto.sagemaker import sagemaker_backends

    backend = sagemaker_backends[self.current_account][self.region]
    by_arn = {tc.arn: tc for tc in backend.trial_components.values()}
    results: list[dict[str, Any]] = []
    for query in self._get_param("MetricQueries") or []:
        tc = by_arn.get(query.get("ResourceArn"))
        metric = tc.metrics.get(query.get("MetricName")) if tc is not None else None
        if metric is None:
            results.append({"Status": "ValidationError", "Message": "no such metric"})
            continue
        values: dict[int, Any] = metric["Values"]  # type: ignore[assignment]
        steps = sorted(values)
        results.append(
            {
                "Status": "Complete",
                "XAxisValues": steps,
                "MetricValues": [float(values[s]["Value"]) for s in steps],
            }
        )
    return json.dumps({"MetricQueryResults": results})


def _route_batch_get(original: Any) -> Any:
    def infer_service_region_host(self: Any, environ: Any, path: Any) -> Any:
        info = environ.get("PATH_INFO", "")
        if not info.endswith("BatchGetMetrics"):
            return original(self, environ, path)
        environ["PATH_INFO"] = info[: -len("BatchGetMetrics")] + "BatchPutMetrics"
        try:
            return original(self, environ, path)
        finally:
            environ["PATH_INFO"] = info

    return infer_service_region_host


def install_sagemaker_experiments() -> None:
    """Add the Experiments behaviour above to moto (idempotent; call before starting moto)."""
    with _install_lock:
        if _installed:
            return
        import moto.sagemakermetrics.urls as metrics_urls
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse
        from moto.sagemakermetrics.responses import SageMakerMetricsResponse

        SageMakerModelBackend.search = _search(SageMakerModelBackend.search)  # type: ignore[method-assign]
        SageMakerResponse.search = _response_search  # type: ignore[method-assign]
        SageMakerResponse.create_trial_component = _create_with_tags(  # type: ignore[method-assign]
            SageMakerResponse.create_trial_component
        )
        SageMakerMetricsResponse.batch_get_metrics = _batch_get_metrics  # type: ignore[attr-defined]
        metrics_urls.url_paths["{0}/BatchGetMetrics$"] = SageMakerMetricsResponse.dispatch
        DomainDispatcherApplication.infer_service_region_host = _route_batch_get(  # type: ignore[method-assign]
            DomainDispatcherApplication.infer_service_region_host
        )
        _installed.append(True)
