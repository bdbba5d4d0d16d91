"""The input and state checks of an audited endpoint change (nothing here calls AWS).

:func:`check_change` validates a whole request before anything is read or written:
approver, reason (unless a dry run), kind, A/B test id, the target's config name and
weights (:func:`check_weights`). :func:`endpoint_state`, :func:`same_state` and
:func:`describe_state` read, compare and word the endpoint as ``DescribeEndpoint``
reports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME
from fraud_jlab.promotion.models import ENDPOINT_CHANGE_KINDS, EndpointState

_AB_TEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VARIANT = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@dataclass(frozen=True)
class EndpointTarget:
    """What the endpoint should become: a config name and/or variant weights (percent)."""

    config_name: str | None = None
    weights: Mapping[str, float] | None = None


def check_text(value: Any, field: str, *, max_len: int = 2000) -> str:
    """A non-empty string of at most ``max_len`` characters, else ValidationError."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValidationError(
            f"{field} is required: a non-empty string of at most {max_len} characters, got {value!r}",
            field=field,
        )
    return value.strip()


def check_audit(approver: Any, reason: Any, dry_run: bool) -> tuple[str, str]:
    """``(approver, reason)`` checked: both required for a real change; a dry run may omit them."""
    if not isinstance(dry_run, bool):
        raise ValidationError(f"dry_run must be true or false, got {dry_run!r}", field="dry_run")
    if not dry_run:
        return check_text(approver, "approver", max_len=256), check_text(reason, "reason")
    for value, field in ((approver, "approver"), (reason, "reason")):
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{field} must be a string, got {value!r}", field=field)
    return (approver or "").strip(), (reason or "").strip()


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


def endpoint_state(description: Mapping[str, Any]) -> EndpointState:
    """An :class:`EndpointState` from a ``DescribeEndpoint`` response."""
    weights: dict[str, float] = {}
    for variant in description.get("ProductionVariants") or []:
        weight = variant.get("CurrentWeight", variant.get("DesiredWeight"))
        weights[str(variant["VariantName"])] = float(weight) if weight is not None else 1.0
    shadows = [str(v["VariantName"]) for v in description.get("ShadowProductionVariants") or []]
    return EndpointState(
        endpoint_name=str(description["EndpointName"]),
        config_name=description.get("EndpointConfigName"),
        weights=weights,
        shadow_variants=shadows,
    )


def same_state(a: EndpointState, b: EndpointState) -> bool:
    """Same config, same shadow variants, same weights (to 1e-6)."""
    if a.config_name != b.config_name or set(a.weights) != set(b.weights):
        return False
    if sorted(a.shadow_variants) != sorted(b.shadow_variants):
        return False
    return all(abs(a.weights[k] - b.weights[k]) <= 1e-6 for k in a.weights)


def describe_state(state: EndpointState) -> str:
    """``config 'name', weights {A=90, B=10}`` for messages and logs."""
    weights = ", ".join(f"{k}={v:g}" for k, v in sorted(state.weights.items()))
    return f"config {state.config_name!r}, weights {{{weights}}}"


def check_change(
    kind: Any, ab_test_id: Any, approver: Any, reason: Any, target: EndpointTarget, dry_run: bool
) -> tuple[str, str, str, EndpointTarget]:
    """``(ab_test_id, approver, reason, target)`` checked; ValidationError naming the field.

    ``reason`` may be omitted (None) for a dry run; it is then returned as ``""``.
    """
    approver = check_text(approver, "approver", max_len=256)
    if not dry_run:
        reason = check_text(reason, "reason")
    elif reason is not None and not isinstance(reason, str):
        raise ValidationError(f"reason must be a string, got {reason!r}", field="reason")
    if kind not in ENDPOINT_CHANGE_KINDS:
        raise ValidationError(
            f"kind must be one of {', '.join(ENDPOINT_CHANGE_KINDS)}, got {kind!r}",
            field="kind",
        )
    ab_test_id = check_ab_test_id(ab_test_id)
    if target.config_name is not None and (
        not isinstance(target.config_name, str) or not ENDPOINT_NAME.fullmatch(target.config_name)
    ):
        raise ValidationError(
            f"config_name must be a SageMaker endpoint configuration name, got {target.config_name!r}",
            field="config_name",
        )
    weights = check_weights(target.weights) if target.weights is not None else None
    if target.config_name is None and weights is None:
        raise ValidationError(
            "an endpoint change needs a target: config_name and/or weights", field="target"
        )
    return ab_test_id, approver, reason or "", EndpointTarget(target.config_name, weights)


__all__ = [
    "EndpointTarget",
    "check_ab_test_id",
    "check_audit",
    "check_change",
    "check_text",
    "check_weights",
    "describe_state",
    "endpoint_state",
    "same_state",
]
