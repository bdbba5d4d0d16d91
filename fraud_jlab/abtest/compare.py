"""Champion vs challenger on the same records through ``sagemaker-runtime`` (design section 8).

Each record is sent to both endpoints as one CSV line (the built-in XGBoost container's
``text/csv`` input: feature values only, a missing value as an empty field); the response
body is the fraud score. Latency is measured around each call. With labels, each side's
scores are evaluated with :func:`fraud_jlab.evaluation.metrics.classification_metrics`.
Every call carries an ``InferenceId`` ``abtest-<comparison>-<side>-<record>``, so captured
requests of both endpoints can be joined back to the comparison and its labels.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from fraud_jlab.aws import aws_error
from fraud_jlab.errors import AwsOperationError, ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME

#: Metrics compared between the two sides when labels are given.
COMPARED_METRICS = ("accuracy", "average_precision", "auc_roc", "recall", "precision")


class EndpointComparison(NamedTuple):
    """``(comparison, champion_predictions, challenger_predictions)`` as in the design.

    ``comparison`` maps ``"champion"``/``"challenger"`` to ``{endpoint, n_records,
    avg_latency_ms, p95_latency_ms, p99_latency_ms}`` plus the :data:`COMPARED_METRICS`
    when labels were given, and ``"difference"`` to challenger minus champion for each
    latency statistic and metric. With labels each side also has ``frauds``,
    ``frauds_flagged`` and ``alerts`` (counts at the 0.5 threshold) for the decision rule.
    """

    comparison: dict[str, dict[str, Any]]
    champion_predictions: list[float]
    challenger_predictions: list[float]


def records_as_rows(test_data: Any) -> list[list[float]]:
    """Feature rows from a DataFrame, 2-D array, or sequence of sequences/mappings.

    Raises ValidationError (field ``test_data``) when empty, ragged or not numeric.
    """
    if hasattr(test_data, "to_numpy") and hasattr(test_data, "columns"):
        test_data = test_data.to_numpy()
    if isinstance(test_data, (str, bytes)) or test_data is None:
        raise ValidationError(
            "test_data must be rows of numeric feature values (DataFrame, 2-D array or list of lists)",
            field="test_data",
        )
    rows: list[list[float]] = []
    try:
        for record in test_data:
            values = list(record.values()) if isinstance(record, Mapping) else list(record)
            rows.append([float(v) for v in values])
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"test_data must contain only numeric feature values: {exc}", field="test_data"
        ) from exc
    if not rows:
        raise ValidationError("test_data must contain at least one record", field="test_data")
    widths = {len(r) for r in rows}
    if len(widths) != 1 or 0 in widths:
        raise ValidationError(
            f"every test_data record must have the same non-zero number of features, got {sorted(widths)}",
            field="test_data",
        )
    return rows


def csv_line(row: Sequence[float]) -> str:
    """One CSV record for the XGBoost container (NaN becomes an empty field, a missing value)."""
    return ",".join("" if math.isnan(v) else repr(float(v)) for v in row)


def latency_stats(latencies_ms: Sequence[float]) -> dict[str, float]:
    """Average, 95th and 99th percentile of ``latencies_ms``."""
    arr = np.asarray(latencies_ms, dtype=float)
    return {
        "avg_latency_ms": float(arr.mean()),
        "p95_latency_ms": float(np.percentile(arr, 95)),
        "p99_latency_ms": float(np.percentile(arr, 99)),
    }


def _check_endpoint(name: Any, field: str) -> str:
    if not isinstance(name, str) or not ENDPOINT_NAME.fullmatch(name):
        raise ValidationError(
            f"{field} must be a SageMaker endpoint name (1-63 letters, digits, hyphens), got {name!r}",
            field=field,
        )
    return name


def _parse_score(body: bytes, endpoint: str) -> float:
    text = body.decode("utf-8", errors="replace").strip()
    # The container answers one score per CSV line; a JSON list of one number also occurs.
    text = text.strip("[]").split("\n")[0].split(",")[0].strip()
    try:
        score = float(text)
    except ValueError:
        raise AwsOperationError(
            f"endpoint {endpoint!r} returned {body[:80]!r}, not a numeric score",
            step="invoke_endpoint",
        ) from None
    if not math.isfinite(score):
        raise AwsOperationError(
            f"endpoint {endpoint!r} returned a non-finite score {text!r}", step="invoke_endpoint"
        )
    return score


def _invoke(runtime_client: Any, endpoint: str, body: str, inference_id: str) -> bytes:
    try:
        response = runtime_client.invoke_endpoint(
            EndpointName=endpoint,
            Body=body.encode("utf-8"),
            ContentType="text/csv",
            InferenceId=inference_id,
        )
    except Exception as exc:
        raise aws_error(
            exc,
            f"invoking endpoint {endpoint!r} failed: {exc}",
            step="invoke_endpoint",
            not_found=("endpoint", endpoint),
        ) from exc
    return bytes(response["Body"].read())


def compare_endpoints(
    runtime_client: Any,
    champion_endpoint: str,
    challenger_endpoint: str,
    test_data: Any,
    *,
    labels: Any = None,
    timer: Callable[[], float] = time.perf_counter,
) -> EndpointComparison:
    """Score every record on both endpoints; latency statistics and, with labels, metrics.

    Raises ValidationError (``champion_endpoint``, ``challenger_endpoint``, ``test_data``,
    ``labels``), NotFoundError for an unknown endpoint, AwsOperationError when a call
    fails or an endpoint answers something that is not a score.
    """
    from fraud_jlab.evaluation.metrics import classification_metrics

    _check_endpoint(champion_endpoint, "champion_endpoint")
    _check_endpoint(challenger_endpoint, "challenger_endpoint")
    rows = records_as_rows(test_data)
    y_true: np.ndarray | None = None
    if labels is not None:
        y_true = np.asarray(labels).ravel()
        if y_true.shape[0] != len(rows):
            raise ValidationError(
                f"labels must have one entry per test_data record ({len(rows)}), got {y_true.shape[0]}",
                field="labels",
            )

    sides = {"champion": champion_endpoint, "challenger": challenger_endpoint}
    scores: dict[str, list[float]] = {side: [] for side in sides}
    latencies: dict[str, list[float]] = {side: [] for side in sides}
    # One id per call, so data-capture records of both endpoints can be joined to this comparison.
    comparison_id = uuid.uuid4().hex[:12]
    for index, row in enumerate(rows):
        body = csv_line(row)
        for side, endpoint in sides.items():
            start = timer()
            raw = _invoke(runtime_client, endpoint, body, f"abtest-{comparison_id}-{side}-{index}")
            latencies[side].append((timer() - start) * 1000.0)
            scores[side].append(_parse_score(raw, endpoint))

    comparison: dict[str, dict[str, Any]] = {}
    for side, endpoint in sides.items():
        entry: dict[str, Any] = {"endpoint": endpoint, "n_records": len(rows)}
        entry.update(latency_stats(latencies[side]))
        if y_true is not None:
            metrics = classification_metrics(y_true, np.asarray(scores[side]))
            entry.update({name: metrics[name] for name in COMPARED_METRICS})
            # counts for the significance test of the decision rule (threshold 0.5)
            flagged = np.asarray(scores[side]) >= metrics["threshold"]
            entry["frauds"] = int((y_true == 1).sum())
            entry["frauds_flagged"] = int((flagged & (y_true == 1)).sum())
            entry["alerts"] = int(flagged.sum())
        comparison[side] = entry
    numeric = [
        k
        for k, v in comparison["champion"].items()
        if k not in ("n_records", "frauds", "frauds_flagged", "alerts") and isinstance(v, float)
    ]
    comparison["difference"] = {
        k: comparison["challenger"][k] - comparison["champion"][k] for k in numeric
    }
    return EndpointComparison(comparison, scores["champion"], scores["challenger"])
