"""What production scored and what it cost: Data Capture, ground truth and CloudWatch.

An A/B test's readout is computed from the records the endpoint itself captured, in
SageMaker's own formats, so it reads the same on AWS and on the local emulator:

- **Data Capture** (the endpoint configuration's ``DataCaptureConfig``, destination
  ``FraudJlab.data_capture_uri()``): objects
  ``<destination>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/*.jsonl``, one JSON line per
  request and variant (shadow variants under their own name). The score is
  ``captureData.endpointOutput.data`` (CSV, one score per input row); the time is
  ``eventMetadata.inferenceTime``; the record's key is ``eventMetadata.inferenceId``
  (the caller's ``InferenceId``), else its ``eventId``.
- **Ground truth** (Model Monitor's layout, ``FraudJlab.ground_truth_uri()``): objects
  ``<ground truth>/<yyyy>/<mm>/<dd>/<hh>/*.jsonl`` with lines
  ``{"groundTruthData": {"data": "1"}, "eventMetadata": {"eventId": <the record's key>}}``.
  Fraud labels arrive late (chargebacks): a record without a label is *unlabelled*, and the
  label cut-off is the newest ground-truth object read.
- **CloudWatch** ``AWS/SageMaker`` ``ModelLatency`` (microseconds) and ``Invocations`` per
  ``EndpointName`` + ``VariantName``: p50/p95/p99 from ``ExtendedStatistics``; where a
  backend answers no percentiles (the emulator), the ``Maximum`` stands in as an upper
  bound of the p99 (``source="cloudwatch-max"``), never as a p50.

Listing starts an hour before the test started (``StartAfter``), so a long-lived endpoint's
older capture is never read; at most :data:`MAX_OBJECTS` objects per prefix are read and
``truncated`` says when more exist. Lines that do not parse are counted (``malformed``),
never fatal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS, map_aws_error
from fraud_jlab.errors import ValidationError

#: The most objects read per listed prefix (a variant's capture, the ground truth).
MAX_OBJECTS = 5000
#: Capture older than this before now is never read.
MAX_WINDOW = timedelta(days=60)
NAMESPACE = "AWS/SageMaker"


def split_s3_uri(uri: str, field_name: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> ``(bucket, "prefix/")`` (``""`` for the bucket root)."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValidationError(f"{field_name} must be an s3:// URI, got {uri!r}", field=field_name)
    bucket, _, prefix = uri[5:].partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _hour_key(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y/%m/%d/%H")


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@dataclass
class _Listing:
    keys: list[tuple[str, datetime]] = field(default_factory=list)
    truncated: bool = False


def _list(s3: Any, bucket: str, prefix: str, start_after: str) -> _Listing:
    out = _Listing()
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "StartAfter": start_after}
    while True:
        try:
            resp = s3.list_objects_v2(**kwargs)
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchBucket":
                return out
            raise map_aws_error(
                exc, service="s3", step="list_capture", bucket=bucket, suffix=f"Prefix {prefix}."
            ) from exc
        for item in resp.get("Contents", []):
            if len(out.keys) >= MAX_OBJECTS:
                out.truncated = True
                return out
            out.keys.append((str(item["Key"]), item["LastModified"]))
        token = resp.get("NextContinuationToken")
        if not resp.get("IsTruncated") or not token:
            return out
        kwargs = {"Bucket": bucket, "Prefix": prefix, "ContinuationToken": token}


def _lines(s3: Any, bucket: str, key: str) -> Iterator[str]:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except AWS_ERRORS as exc:
        raise map_aws_error(
            exc, service="s3", step="read_capture", bucket=bucket, suffix=f"Key {key}."
        ) from exc
    for line in body.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            yield line


def _scores(data: Any) -> list[float]:
    """The CSV output of one request: one score per row (commas or newlines)."""
    if not isinstance(data, str):
        raise ValueError("endpointOutput.data must be CSV text")
    values = [float(v) for v in data.replace("\n", ",").split(",") if v.strip()]
    if not values or not all(math.isfinite(v) for v in values):
        raise ValueError("no finite score")
    return values


@dataclass
class CaptureData:
    """Every captured record of the test's variants, with its label where known.

    One entry per scored row: ``variant``, ``record_id`` (inference id, ``:i`` for the
    i-th row of a batch), ``score``, ``label`` (1 fraud, 0 genuine, -1 not yet labelled),
    ``time`` (inference time, epoch seconds).
    """

    variant: list[str] = field(default_factory=list)
    record_id: list[str] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    malformed: int = 0
    truncated: bool = False
    label_cutoff: datetime | None = None
    labels_read: int = 0

    def arrays(self) -> dict[str, np.ndarray]:
        """numpy columns (``variant``, ``record_id``, ``score``, ``label``, ``time``)."""
        return {
            "variant": np.asarray(self.variant, dtype=str),
            "record_id": np.asarray(self.record_id, dtype=str),
            "score": np.asarray(self.score, dtype=np.float64),
            "label": np.asarray(self.label, dtype=np.int8),
            "time": np.asarray(self.time, dtype=np.float64),
        }

    def count(self, variant: str | None = None, *, labelled: bool | None = None) -> int:
        """Records (of ``variant``), labelled only / unlabelled only / all."""
        n = 0
        for v, y in zip(self.variant, self.label, strict=True):
            if variant is not None and v != variant:
                continue
            if labelled is None or (y >= 0) == labelled:
                n += 1
        return n


def read_ground_truth(
    s3: Any, ground_truth_uri: str, since: datetime
) -> tuple[dict[str, int], datetime | None, int, bool]:
    """``{record key: label}`` from ground-truth objects written since ``since``'s hour,
    the newest object's time (the label cut-off), the malformed-line count, truncated."""
    bucket, prefix = split_s3_uri(ground_truth_uri, "ground_truth_s3_uri")
    listing = _list(s3, bucket, prefix, f"{prefix}{_hour_key(since - timedelta(hours=1))}")
    labels: dict[str, int] = {}
    malformed = 0
    cutoff: datetime | None = None
    for key, modified in listing.keys:
        cutoff = modified if cutoff is None or modified > cutoff else cutoff
        for line in _lines(s3, bucket, key):
            try:
                doc = json.loads(line)
                meta = doc["eventMetadata"]
                value = int(float(str(doc["groundTruthData"]["data"]).strip()))
                if value not in (0, 1):
                    raise ValueError("a fraud label is 0 or 1")
                labels[str(meta.get("eventId") or meta["inferenceId"])] = value
            except (ValueError, KeyError, TypeError, AttributeError):
                malformed += 1
    return labels, cutoff, malformed, listing.truncated


def read_capture(
    s3: Any,
    *,
    data_capture_uri: str,
    ground_truth_uri: str,
    endpoint: str,
    variants: Sequence[str],
    since: datetime,
    now: datetime,
) -> CaptureData:
    """The records ``variants`` of ``endpoint`` scored since ``since``, joined with labels."""
    since = max(since, now - MAX_WINDOW)
    bucket, prefix = split_s3_uri(data_capture_uri, "data_capture_s3_uri")
    labels, cutoff, malformed, gt_truncated = read_ground_truth(s3, ground_truth_uri, since)
    out = CaptureData(malformed=malformed, label_cutoff=cutoff, labels_read=len(labels))
    out.truncated = gt_truncated
    start = since.timestamp()
    for variant in variants:
        base = f"{prefix}{endpoint}/{variant}/"
        listing = _list(s3, bucket, base, f"{base}{_hour_key(since - timedelta(hours=1))}")
        out.truncated = out.truncated or listing.truncated
        for key, _modified in listing.keys:
            for line in _lines(s3, bucket, key):
                try:
                    doc = json.loads(line)
                    meta = doc["eventMetadata"]
                    scores = _scores(doc["captureData"]["endpointOutput"]["data"])
                    at = _parse_time(meta.get("inferenceTime"))
                    if at is None:
                        raise ValueError("eventMetadata.inferenceTime is not a time")
                    ident = str(meta.get("inferenceId") or meta["eventId"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    out.malformed += 1
                    continue
                if at + 1.0 <= start:  # stamped to the second: scored in [at, at + 1)
                    continue
                for i, score in enumerate(scores):
                    rid = ident if len(scores) == 1 else f"{ident}:{i}"
                    out.variant.append(variant)
                    out.record_id.append(rid)
                    out.score.append(score)
                    out.label.append(labels.get(rid, -1))
                    out.time.append(at)
    return out


@dataclass(frozen=True)
class LatencyStats:
    """A variant's model latency over the test (milliseconds) and its invocation count."""

    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    invocations: int | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "invocations": self.invocations,
            "source": self.source,
        }


NO_LATENCY = LatencyStats(None, None, None, None, "none")


def _period(start: datetime, end: datetime) -> int:
    # One datapoint over the whole span: a multiple of 60 seconds covering it.
    return max(60, math.ceil((end - start).total_seconds() / 60) * 60)


def _worst(extended: Sequence[Mapping[str, Any]], name: str) -> float | None:
    """The largest ``name`` percentile over the periods, microseconds -> ms."""
    vals = [float(e[name]) for e in extended if name in e]
    return max(vals) / 1000.0 if vals else None


def latency_stats(
    cloudwatch: Any, endpoint: str, variants: Sequence[str], start: datetime, end: datetime
) -> dict[str, LatencyStats]:
    """Per variant ModelLatency p50/p95/p99 (ms) and Invocations over ``start..end``."""
    if cloudwatch is None:
        return {v: NO_LATENCY for v in variants}
    period = _period(start, end)
    out: dict[str, LatencyStats] = {}
    for variant in variants:
        common = {
            "Namespace": NAMESPACE,
            "Dimensions": [
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ],
            "StartTime": start,
            "EndTime": end,
            "Period": period,
        }
        try:
            pct = cloudwatch.get_metric_statistics(
                MetricName="ModelLatency", ExtendedStatistics=["p50", "p95", "p99"], **common
            )["Datapoints"]
            peak = cloudwatch.get_metric_statistics(
                MetricName="ModelLatency", Statistics=["Maximum"], **common
            )["Datapoints"]
            calls = cloudwatch.get_metric_statistics(
                MetricName="Invocations", Statistics=["Sum"], **common
            )["Datapoints"]
        except AWS_ERRORS as exc:
            raise map_aws_error(
                exc,
                service="cloudwatch",
                step="get_metric_statistics",
                suffix=f"Metrics of {endpoint}/{variant}.",
            ) from exc
        invocations = int(sum(float(d.get("Sum", 0.0)) for d in calls)) if calls else None
        extended = [d["ExtendedStatistics"] for d in pct if d.get("ExtendedStatistics")]
        if extended:
            # Several periods (a span over the period limit): the worst one, conservatively.
            out[variant] = LatencyStats(
                _worst(extended, "p50"),
                _worst(extended, "p95"),
                _worst(extended, "p99"),
                invocations,
                "cloudwatch",
            )
        elif peak:
            top = max(float(d["Maximum"]) for d in peak) / 1000.0
            out[variant] = LatencyStats(None, None, top, invocations, "cloudwatch-max")
        else:
            out[variant] = LatencyStats(None, None, None, invocations, "none")
    return out


__all__ = [
    "MAX_OBJECTS",
    "NO_LATENCY",
    "CaptureData",
    "LatencyStats",
    "latency_stats",
    "read_capture",
    "read_ground_truth",
    "split_s3_uri",
]
