"""Data Capture and endpoint metrics of the emulator's scoring endpoints.

:mod:`fraud_jlab.demo.sagemaker_serving` hands every scored request to
:data:`RECORDER`, which does what SageMaker does for an endpoint:

* **Data Capture**, when the endpoint's configuration has an enabled
  ``DataCaptureConfig`` (its ``DestinationS3Uri``, ``InitialSamplingPercentage`` and
  ``CaptureOptions`` are honoured), or, for the configured production endpoint
  (``FraudJlab.production_endpoint``) without one, to ``FraudJlab.data_capture_uri()``:
  one JSON line per request and variant (shadow variants under their own name), in
  SageMaker's format, in objects
  ``<destination>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<MM>-<SS>-<mmm>-<uuid>.jsonl``
  (the hour of the request, UTC). Lines are buffered and written in small objects:
  when a buffer holds :data:`FLUSH_LINES` lines, on :func:`flush_capture`, and (in the
  emulator server) once a buffered line is :data:`FLUSH_AGE_S` seconds old;
* **CloudWatch** ``AWS/SageMaker`` metrics ``Invocations`` (1 a request) and
  ``ModelLatency`` (the measured scoring time, microseconds), dimensions
  ``EndpointName`` and ``VariantName``, for every variant that scored the request.

Capture lines of one request share its ``eventId`` (a fresh UUID) and carry the
caller's ``InferenceId`` as ``inferenceId``, which is what ground truth is keyed by.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)

#: Lines per capture object (a fuller buffer is written at once).
FLUSH_LINES = 200
#: Age (seconds) after which the emulator's background flusher writes a buffer.
FLUSH_AGE_S = 1.0
NAMESPACE = "AWS/SageMaker"


@dataclass
class _Buffer:
    account_id: str
    bucket: str
    prefix: str
    started: float
    first_at: datetime
    lines: list[str] = field(default_factory=list)


def _split_s3(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://") :] if uri.startswith("s3://") else uri
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


def _default_destination(endpoint_name: str) -> str | None:
    from fraud_jlab.config import get_settings

    settings = get_settings()
    return settings.data_capture_uri() if endpoint_name == settings.production_endpoint else None


def capture_plan(endpoint: Any, endpoint_config: Any = None) -> tuple[str, float, set[str]] | None:
    """``(destination, sampling %, {"Input", "Output"})`` for an endpoint, or None (no capture).

    Reads the ``DataCaptureConfig`` of ``endpoint_config`` (moto's endpoint config object,
    as created) when given, else the endpoint's own copy."""
    raw = getattr(endpoint_config, "data_capture_config", None)
    config = dict(raw or getattr(endpoint, "data_capture_config", None) or {})
    if config:
        if not config.get("EnableCapture", True) or not config.get("DestinationS3Uri"):
            return None
        modes = {str(o.get("CaptureMode")) for o in config.get("CaptureOptions") or [] if o} or {
            "Input",
            "Output",
        }
        percent = float(config.get("InitialSamplingPercentage", 100))
        return str(config["DestinationS3Uri"]).rstrip("/"), percent, modes
    destination = _default_destination(endpoint.endpoint_name)
    return (destination, 100.0, {"Input", "Output"}) if destination else None


def capture_line(
    body: str,
    content_type: str,
    output: str,
    event_id: str,
    inference_id: str | None,
    at: datetime,
    modes: set[str],
) -> str:
    """One Data Capture JSON line (SageMaker's field names)."""
    kind = content_type.split(";")[0].strip() or "text/csv"
    encoding = "CSV" if kind == "text/csv" else "JSON" if "json" in kind else "BASE64"
    capture: dict[str, Any] = {}
    if "Input" in modes:
        capture["endpointInput"] = {
            "observedContentType": content_type,
            "mode": "INPUT",
            "data": body,
            "encoding": encoding,
        }
    if "Output" in modes:
        capture["endpointOutput"] = {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": output,
            "encoding": "CSV",
        }
    metadata = {"eventId": event_id, "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"},
        separators=(",", ":"),
    )


class CaptureRecorder:
    """Buffers capture lines per object prefix and writes them to the emulator's S3."""

    def __init__(self, flush_lines: int = FLUSH_LINES) -> None:
        self.flush_lines = flush_lines
        self._buffers: dict[tuple[str, str, str], _Buffer] = {}
        self._lock = threading.Lock()
        #: Buffers taken out and not yet written; flush() waits for them.
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self.objects_written = 0
        self.lines_dropped = 0

    def record(
        self,
        *,
        endpoint: Any,
        endpoint_config: Any,
        region: str,
        body: str,
        content_type: str,
        inference_id: str | None,
        answers: list[Any],
        sampled: Callable[[Any, float], bool],
    ) -> None:
        """Capture (when configured) and meter one request scored by ``answers`` (one per
        variant: ``.variant.name``, ``.scores``, ``.latency_us``)."""
        from fraud_jlab.demo.sagemaker_serving import format_scores

        account_id = endpoint.arn.split(":")[4]
        put_metrics(account_id, region, endpoint.endpoint_name, answers)
        plan = capture_plan(endpoint, endpoint_config)
        if plan is None:
            return
        destination, percent, modes = plan
        if not sampled(endpoint, percent):
            return
        at = datetime.now(timezone.utc)
        event_id = str(uuid.uuid4())
        bucket, base = _split_s3(destination)
        full: list[_Buffer] = []
        with self._lock:
            for answer in answers:
                prefix = "/".join(
                    p
                    for p in (
                        base,
                        endpoint.endpoint_name,
                        answer.variant.name,
                        at.strftime("%Y/%m/%d/%H"),
                    )
                    if p
                )
                key = (account_id, bucket, prefix)
                buffer = self._buffers.get(key)
                if buffer is None:
                    buffer = self._buffers[key] = _Buffer(
                        account_id, bucket, prefix, time.monotonic(), at
                    )
                line = capture_line(
                    body,
                    content_type,
                    format_scores(answer.scores),
                    event_id,
                    inference_id,
                    at,
                    modes,
                )
                buffer.lines.append(line)
                if len(buffer.lines) >= self.flush_lines:
                    full.append(self._buffers.pop(key))
            self._in_flight += len(full)
        for buffer in full:
            self._write(buffer)

    def flush(self, older_than_s: float | None = None) -> int:
        """Write every buffer (or those older than ``older_than_s``); returns objects written."""
        now = time.monotonic()
        with self._lock:
            keys = [
                k
                for k, b in self._buffers.items()
                if older_than_s is None or now - b.started >= older_than_s
            ]
            ready = [self._buffers.pop(k) for k in keys]
            self._in_flight += len(ready)
        for buffer in ready:
            self._write(buffer)
        if older_than_s is None:  # "now" includes what other threads are writing
            with self._idle:
                self._idle.wait_for(lambda: self._in_flight == 0, timeout=30.0)
        return len(ready)

    def _write(self, buffer: _Buffer) -> None:
        try:
            self._put(buffer)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _put(self, buffer: _Buffer) -> None:
        from moto.s3.models import s3_backends

        at = buffer.first_at
        name = f"{at:%M-%S}-{at.microsecond // 1000:03d}-{uuid.uuid4().hex[:12]}.jsonl"
        key = f"{buffer.prefix}/{name}"
        try:
            s3_backends[buffer.account_id]["aws"].put_object(
                buffer.bucket, key, ("\n".join(buffer.lines) + "\n").encode()
            )
        except Exception as exc:  # the destination bucket is missing: SageMaker drops them too
            self.lines_dropped += len(buffer.lines)
            log.warning("data capture to s3://%s/%s failed: %s", buffer.bucket, key, exc)
            return
        with self._lock:
            self.objects_written += 1


def put_metrics(account_id: str, region: str, endpoint_name: str, answers: list[Any]) -> None:
    """``Invocations`` and ``ModelLatency`` of each answering variant, in CloudWatch."""
    from moto.cloudwatch.models import cloudwatch_backends

    data = []
    for answer in answers:
        dims = [
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": answer.variant.name},
        ]
        data.append({"MetricName": "Invocations", "Value": 1.0, "Unit": "None", "Dimensions": dims})
        data.append(
            {
                "MetricName": "ModelLatency",
                "Value": float(answer.latency_us),
                "Unit": "Microseconds",
                "Dimensions": dims,
            }
        )
    cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)


RECORDER = CaptureRecorder()


def flush_capture() -> int:
    """Write every buffered capture line to S3 now; returns the objects written."""
    return RECORDER.flush()


class BackgroundFlusher:
    """Writes buffers older than :data:`FLUSH_AGE_S` every ``interval_s`` (a daemon thread)."""

    def __init__(self, interval_s: float = FLUSH_AGE_S) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fraud-jlab-capture", daemon=True)

    def start(self) -> BackgroundFlusher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                RECORDER.flush(older_than_s=FLUSH_AGE_S)
            except Exception:  # never let the flusher die
                log.exception("data capture flush failed")

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        RECORDER.flush()


__all__ = [
    "FLUSH_AGE_S",
    "FLUSH_LINES",
    "RECORDER",
    "BackgroundFlusher",
    "CaptureRecorder",
    "capture_line",
    "capture_plan",
    "flush_capture",
    "put_metrics",
]
