"""Input checks of an audited endpoint change: free text, A/B test ids, variant weights."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fraud_jlab.errors import ValidationError

_AB_TEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VARIANT = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def check_text(value: Any, field: str, *, max_len: int = 2000) -> str:
    """A non-empty string of at most ``max_len`` characters, else ValidationError."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValidationError(
            f"{field} is required: a non-empty string of at most {max_len} characters, got {value!r}",
            field=field,
        )
    return value.strip()


def check_ab_test_id(value: Any, field: str = "ab_test_id") -> str:
    if not isinstance(value, str) or not _AB_TEST_ID.fullmatch(value):
        raise ValidationError(
            f"{field} must be 1-128 characters of letters, digits, '.', '_' or '-' starting with "
            f"a letter or digit, got {value!r}",
            field=field,
        )
    return value


def check_weights(weights: Any, field: str = "weights") -> dict[str, float]:
    """Variant name -> percent: each 0..100, at least one variant, summing to 100."""
    if not isinstance(weights, Mapping) or not weights:
        raise ValidationError(
            f"{field} must map production variant names to percentages 0..100 summing to 100, "
            f"got {weights!r}",
            field=field,
        )
    out: dict[str, float] = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not _VARIANT.fullmatch(name):
            raise ValidationError(f"{field}: {name!r} is not a SageMaker variant name", field=field)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 <= value <= 100
            or value != value
        ):
            raise ValidationError(
                f"{field}[{name!r}] must be a number between 0 and 100, got {value!r}",
                field=field,
            )
        out[name] = float(value)
    total = sum(out.values())
    if abs(total - 100.0) > 1e-6:
        raise ValidationError(
            f"{field} must sum to 100 (percent of traffic), got {total:g}", field=field
        )
    return out


__all__ = ["check_ab_test_id", "check_text", "check_weights"]
