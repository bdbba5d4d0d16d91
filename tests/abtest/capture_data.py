"""Write what a SageMaker endpoint records into (moto) S3: Data Capture and ground truth.

The formats are SageMaker's own (see :mod:`fraud_jlab.abtest.capture`): capture objects
``<dest>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/*.jsonl``, ground truth
``<gt>/<yyyy>/<mm>/<dd>/<hh>/*.jsonl`` keyed by the request's inference id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Scored:
    variant: str
    inference_id: str
    score: float
    label: int | None  # None: not labelled yet
    at: datetime


def _bucket_prefix(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, prefix.strip("/")


def capture_line(record: Scored) -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": "0.1,0.2,0.3",
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "mode": "OUTPUT",
                    "data": f"{record.score:.6f}",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": str(uuid.uuid4()),
                "inferenceId": record.inference_id,
                "inferenceTime": record.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "eventVersion": "0",
        }
    )


def write_capture(
    s3: Any,
    uri: str,
    endpoint: str,
    records: Sequence[Scored],
    *,
    per_object: int = 500,
    extra_lines: Sequence[str] = (),
) -> int:
    """Capture objects per variant and hour; returns how many objects were written."""
    bucket, prefix = _bucket_prefix(uri)
    groups: dict[str, list[str]] = {}
    for r in records:
        key = f"{prefix}/{endpoint}/{r.variant}/{r.at:%Y/%m/%d/%H}"
        groups.setdefault(key, []).append(capture_line(r))
    if extra_lines and groups:
        groups[next(iter(groups))].extend(extra_lines)
    n = 0
    for key, lines in groups.items():
        for i in range(0, len(lines), per_object):
            body = "\n".join(lines[i : i + per_object]) + "\n"
            s3.put_object(Bucket=bucket, Key=f"{key}/{i:06d}-{uuid.uuid4()}.jsonl", Body=body)
            n += 1
    return n


def write_ground_truth(s3: Any, uri: str, records: Sequence[Scored], at: datetime) -> None:
    """One ground-truth object holding the labels known of ``records``."""
    bucket, prefix = _bucket_prefix(uri)
    lines = [
        json.dumps(
            {
                "groundTruthData": {"data": str(r.label), "encoding": "CSV"},
                "eventMetadata": {"eventId": r.inference_id},
                "eventVersion": "0",
            }
        )
        for r in records
        if r.label is not None
    ]
    key = f"{prefix}/{at:%Y/%m/%d/%H}/{uuid.uuid4()}.jsonl"
    s3.put_object(Bucket=bucket, Key=key, Body="\n".join(lines) + "\n")


def simulate(
    *,
    n: int,
    weights: dict[str, float],
    fraud_rate: float,
    detection: dict[str, float],
    false_alarm: dict[str, float],
    start: datetime,
    days: float,
    labelled_share: float = 1.0,
    seed: int = 7,
) -> list[Scored]:
    """``n`` scored requests split by ``weights``: each variant flags (score >= 0.5) a fraud
    with probability ``detection[v]`` and a genuine record with ``false_alarm[v]``."""
    rng = np.random.default_rng(seed)
    names = list(weights)
    p = np.array([weights[v] for v in names], dtype=float)
    which = rng.choice(len(names), size=n, p=p / p.sum())
    fraud = rng.random(n) < fraud_rate
    u = rng.random(n)
    offsets = np.sort(rng.random(n)) * days * 86400
    out: list[Scored] = []
    for i in range(n):
        v = names[which[i]]
        flag = u[i] < (detection[v] if fraud[i] else false_alarm[v])
        score = 0.5 + 0.5 * rng.random() if flag else 0.5 * rng.random()
        labelled = rng.random() < labelled_share
        out.append(
            Scored(
                variant=v,
                inference_id=f"req-{seed}-{i}",
                score=float(score),
                label=int(fraud[i]) if labelled else None,
                at=(start + timedelta(seconds=float(offsets[i]))).astimezone(timezone.utc),
            )
        )
    return out
