"""Input checks every tracking backend applies, so all backends reject the same bad input.

Each raises :class:`fraud_jlab.errors.ValidationError` naming the field and the limit.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.contract import MAX_KEY_LENGTH, MAX_PARAM_LENGTH


def check_key(key: Any, field: str) -> str:
    """A param/metric/tag name: a non-empty string of at most ``MAX_KEY_LENGTH`` characters."""
    if not isinstance(key, str) or not key.strip():
        raise ValidationError(f"{field} names must be non-empty strings, got {key!r}", field=field)
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            f"{field} name {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}",
            field=field,
        )
    return key


def check_value(key: str, value: Any, field: str, limit: int = MAX_PARAM_LENGTH) -> str:
    """A param/tag value as text, at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise ValidationError(
            f"{field} {key!r} has a value of {len(text)} characters; the limit is {limit}",
            field=f"{field}.{key}",
        )
    return text


def check_mapping(values: Any, field: str, limit: int = MAX_PARAM_LENGTH) -> dict[str, str]:
    """A mapping of names to values (``None`` is empty), values as text."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationError(f"{field} must be a mapping of name -> value", field=field)
    return {check_key(k, field): check_value(k, v, field, limit) for k, v in values.items()}


def check_name(value: Any, field: str) -> str:
    """An experiment/run/user name: non-empty, at most ``MAX_KEY_LENGTH`` characters, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string", field=field)
    if len(value) > MAX_KEY_LENGTH:
        raise ValidationError(f"{field} must be at most {MAX_KEY_LENGTH} characters", field=field)
    return value.strip()


def artifact_source(local_path: Path, artifact_path: str | None) -> tuple[Path, PurePosixPath]:
    """The file to store and its relative path in the run's artifacts (no absolute, no '..')."""
    source = Path(local_path)
    if not source.is_file():
        raise ValidationError(
            f"local_path {str(source)!r} is not an existing file", field="local_path"
        )
    rel = PurePosixPath((artifact_path or source.name).replace("\\", "/"))
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or str(rel) == ".":
        raise ValidationError(
            f"artifact_path {artifact_path!r} must be a relative path without '..'",
            field="artifact_path",
        )
    return source, rel


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime, field: str) -> int:
    """Milliseconds since the epoch; naive datetimes are taken as UTC."""
    if not isinstance(moment, datetime):
        raise ValidationError(f"{field} must be a datetime", field=field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime ``ms`` milliseconds after the epoch."""
    return _EPOCH + ms * _MS


def check_metrics(metrics: Any, step: Any) -> list[tuple[str, float]]:
    """``(name, value)`` pairs of a metrics mapping; every value a finite real number, ``step``
    ``None`` or a non-negative int. ValidationError names the metric or ``step``."""
    if not isinstance(metrics, Mapping):
        raise ValidationError("metrics must be a mapping of name -> number", field="metrics")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        raise ValidationError(f"step must be a non-negative integer, got {step!r}", field="step")
    rows: list[tuple[str, float]] = []
    for key, value in metrics.items():
        check_key(key, "metrics")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValidationError(
                f"metric {key!r} must be a number, got {type(value).__name__} {value!r:.60}",
                field=f"metrics.{key}",
            )
        if not math.isfinite(float(value)):
            raise ValidationError(
                f"metric {key!r} must be finite, got {value}", field=f"metrics.{key}"
            )
        rows.append((key, float(value)))
    return rows


def check_end_status(status: Any) -> str:
    """``status`` if it can end a run (``completed`` or ``failed``)."""
    if status not in ("completed", "failed"):
        raise ValidationError(
            f"status must be 'completed' or 'failed' to end a run, got {status!r}",
            field="status",
        )
    return str(status)


def check_payload(payload: Any) -> str:
    """An event payload as JSON text (a mapping, JSON-serialisable, no NaN)."""
    if not isinstance(payload, Mapping):
        raise ValidationError("payload must be a mapping", field="payload")
    try:
        return json.dumps(dict(payload), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"payload must be JSON-serialisable: {exc}", field="payload"
        ) from None
