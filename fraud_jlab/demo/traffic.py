"""Labelled traffic for a scoring endpoint: what production sends and learns later.

:func:`send_traffic` sends rows of a data set (the demo's held-out rows: no model saw
them) to a SageMaker endpoint through ``sagemaker-runtime`` ``InvokeEndpoint``, one
transaction a request, each with its own ``InferenceId``. The endpoint's Data
Capture records the request under that id; the fraud label of most requests arrives
as ground truth (SageMaker Model Monitor's layout, keyed by the ``InferenceId``):
objects ``<ground_truth_uri>/<yyyy>/<mm>/<dd>/<hh>/<MM>-<SS>-<uuid>.jsonl`` with lines
``{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId":
"<InferenceId>"}, "eventVersion": "0"}``. A ``label_delay_fraction`` share of the
requests stays unlabelled (the labels of recent transactions are not known yet);
their labels are returned in :attr:`TrafficResult.pending` and can be delivered later
with :func:`write_ground_truth`.

Example (against the demo's emulator)::

    result = send_traffic(runtime, "fraud-detection-production", holdout, 2000,
                          ground_truth_uri=settings.ground_truth_uri(), s3=s3)
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from fraud_jlab.errors import ValidationError

LABEL_COLUMN = "Class"
MAX_RECORDS = 1_000_000


@dataclass
class TrafficResult:
    """What :func:`send_traffic` sent and labelled."""

    records: int
    labelled: int
    frauds_labelled: int
    variants: dict[str, int]
    seconds: float
    ground_truth_keys: list[str] = field(default_factory=list)
    #: (InferenceId, label) of the requests whose label has not arrived yet.
    pending: list[tuple[str, int]] = field(default_factory=list)
    #: (InferenceId, score, variant) of every request, in the order sent.
    scored: list[tuple[str, float, str]] = field(default_factory=list)

    @property
    def unlabelled(self) -> int:
        return self.records - self.labelled

    def summary(self) -> str:
        split = ", ".join(f"{name} {count}" for name, count in sorted(self.variants.items()))
        rate = self.records / self.seconds if self.seconds > 0 else float("inf")
        return (
            f"sent {self.records} records in {self.seconds:.1f} s ({rate:.0f}/s; {split}); "
            f"{self.labelled} labelled ({self.frauds_labelled} frauds), "
            f"{self.unlabelled} awaiting labels"
        )


def _split_s3(uri: str, fld: str) -> tuple[str, str]:
    if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= 5:
        raise ValidationError(f"{fld} must be s3://<bucket>[/prefix], got {uri!r}", field=fld)
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ValidationError(f"{fld} must be s3://<bucket>[/prefix], got {uri!r}", field=fld)
    return bucket, prefix.strip("/")


def ground_truth_line(inference_id: str, label: int) -> str:
    """One Model Monitor ground-truth line for a request."""
    return json.dumps(
        {
            "groundTruthData": {"data": str(int(label)), "encoding": "CSV"},
            "eventMetadata": {"eventId": inference_id},
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def write_ground_truth(
    s3: Any,
    ground_truth_uri: str,
    labels: Sequence[tuple[str, int]],
    at: datetime | None = None,
) -> str | None:
    """Write ``(InferenceId, label)`` pairs as one ground-truth object; returns its key
    (None when ``labels`` is empty). ``at`` (default now, UTC) sets the hour folder."""
    from fraud_jlab.aws import aws_error

    bucket, prefix = _split_s3(ground_truth_uri, "ground_truth_uri")
    if not labels:
        return None
    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    name = f"{moment:%M-%S}-{uuid.uuid4().hex[:12]}.jsonl"
    key = "/".join(p for p in (prefix, f"{moment:%Y/%m/%d/%H}", name) if p)
    body = "\n".join(ground_truth_line(i, y) for i, y in labels) + "\n"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/jsonl")
    except Exception as exc:
        raise aws_error(
            exc, f"writing ground truth to s3://{bucket}/{key} failed: {exc}", step="put_object"
        ) from exc
    return key


def _check(
    rows: Any, n: Any, batch: Any, label_delay_fraction: Any, workers: Any, label_column: str
) -> list[str]:
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        raise ValidationError("rows must be a non-empty DataFrame of features", field="rows")
    if label_column not in rows.columns:
        raise ValidationError(
            f"rows need the label column {label_column!r}; columns: {list(rows.columns)[:8]}...",
            field="rows",
        )
    for name, value, low, high in (
        ("n", n, 1, MAX_RECORDS),
        ("batch", batch, 1, 10_000),
        ("workers", workers, 1, 16),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                f"{name} must be an integer in {low}..{high}, got {value!r}", field=name
            )
    number = isinstance(label_delay_fraction, (int, float)) and not isinstance(
        label_delay_fraction, bool
    )
    if not number or not 0.0 <= float(label_delay_fraction) <= 1.0:
        raise ValidationError(
            f"label_delay_fraction must be a number in [0, 1], got {label_delay_fraction!r}",
            field="label_delay_fraction",
        )
    return [c for c in rows.columns if c != label_column]


def csv_row(values: np.ndarray) -> str:
    """A row as the XGBoost container reads it: no header, every value exact."""
    return ",".join(repr(float(v)) for v in values)


def send_traffic(
    runtime: Any,
    endpoint: str,
    rows: pd.DataFrame,
    n: int,
    *,
    ground_truth_uri: str,
    s3: Any,
    batch: int = 200,
    label_delay_fraction: float = 0.2,
    seed: int = 0,
    workers: int = 2,
    label_column: str = LABEL_COLUMN,
    progress: Callable[[int, int], None] | None = None,
) -> TrafficResult:
    """Send ``n`` rows (drawn with ``seed``, without replacement while ``rows`` last) to
    ``endpoint`` and write the labels of all but a ``label_delay_fraction`` share.

    Rows go ``batch`` at a time (over ``workers`` concurrent requests); after each batch
    its labels are written as one ground-truth object, so labels arrive while traffic
    flows. Raises :class:`~fraud_jlab.errors.ValidationError` for bad arguments (nothing
    sent) and the mapped AWS error when an invocation or a write fails (labels of the
    batches already sent are written).
    """
    from fraud_jlab.aws import aws_error

    features = _check(rows, n, batch, label_delay_fraction, workers, label_column)
    _split_s3(ground_truth_uri, "ground_truth_uri")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(rows), size=n, replace=n > len(rows))
    late = rng.random(n) < float(label_delay_fraction)
    matrix = rows[features].to_numpy(dtype=np.float64)[picked]
    labels = rows[label_column].to_numpy()[picked].astype(np.int64)
    ids = [str(uuid.uuid4()) for _ in range(n)]

    def invoke(i: int) -> tuple[float, str]:
        try:
            response = runtime.invoke_endpoint(
                EndpointName=endpoint,
                Body=csv_row(matrix[i]).encode(),
                ContentType="text/csv",
                Accept="text/csv",
                InferenceId=ids[i],
            )
        except Exception as exc:
            raise aws_error(
                exc,
                f"invoking endpoint {endpoint!r} failed: {exc}",
                step="invoke_endpoint",
                not_found=("endpoint", endpoint),
            ) from exc
        body = response["Body"].read().decode().strip()
        return float(body.splitlines()[0]), str(response.get("InvokedProductionVariant", ""))

    result = TrafficResult(records=0, labelled=0, frauds_labelled=0, variants={}, seconds=0.0)
    variants: Counter[str] = Counter()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, n, batch):
            chunk = range(start, min(start + batch, n))
            answers = list(pool.map(invoke, chunk)) if workers > 1 else [invoke(i) for i in chunk]
            arrived = []
            for i, (score, variant) in zip(chunk, answers, strict=True):
                variants[variant] += 1
                result.scored.append((ids[i], score, variant))
                if late[i]:
                    result.pending.append((ids[i], int(labels[i])))
                else:
                    arrived.append((ids[i], int(labels[i])))
            key = write_ground_truth(s3, ground_truth_uri, arrived)
            if key:
                result.ground_truth_keys.append(key)
            result.records += len(chunk)
            result.labelled += len(arrived)
            result.frauds_labelled += sum(y for _, y in arrived)
            if progress is not None:
                progress(result.records, n)
    result.variants = dict(variants)
    result.seconds = time.perf_counter() - started
    return result


__all__ = [
    "LABEL_COLUMN",
    "TrafficResult",
    "csv_row",
    "ground_truth_line",
    "send_traffic",
    "write_ground_truth",
]
