"""The persisted state of an A/B test: the models, the rollout stages, and its S3 store.

``ab-tests/<id>/state.json`` (created with ``IfNoneMatch='*'``, then replaced only with
``IfMatch=<ETag read>``) and one append-only event object per action
``ab-tests/<id>/events/<ULID>.json`` (``IfNoneMatch='*'``, never overwritten), in the
config bucket beside the promotion ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS, NOT_FOUND_CODES, PRECONDITION_CODES
from fraud_jlab.errors import AwsOperationError, ConflictError, NotFoundError, ValidationError

STATE_PREFIX = "ab-tests/"
CHAMPION_VARIANT = "Champion"
CHALLENGER_VARIANT = "Challenger"
#: The seed's rollout template: the challenger's share of traffic at each stage (percent).
DEFAULT_PLAN: tuple[int, ...] = (10, 25, 50, 100)
ABTestStatus = Literal["running", "completed", "rolled_back", "stopped"]


class ABTestEvent(BaseModel):
    """One action on an A/B test (stored once, never overwritten)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    action: Literal["start", "advance", "promote", "rollback", "stop"]
    approver: str
    reason: str
    timestamp: datetime = Field(description="When the change was done (the endpoint verified).")
    change_started_at: datetime | None = Field(
        default=None,
        description="When the endpoint change began; until `timestamp` the old weights may "
        "still have served (the SRM check leaves out records of that window).",
    )
    promotion_id: str = Field(description="The ledger record of the endpoint change.")
    stage: int
    weights: dict[str, float]
    status: ABTestStatus


class ABTestState(BaseModel):
    """The persisted state of one A/B test."""

    model_config = ConfigDict(extra="forbid")

    ab_test_id: str
    experiment_id: str
    status: ABTestStatus
    endpoint_name: str = Field(description="The production endpoint the variants run on.")
    champion_config: str = Field(description="Production's endpoint configuration before the test.")
    ab_config: str = Field(description="The two-variant endpoint configuration of the test.")
    promoted_config: str | None = None
    challenger_model: str
    plan: list[int] = Field(description="Challenger percent at each stage, increasing.")
    stage: int = Field(description="Index into plan of the current stage; -1 is the shadow stage.")
    shadow_config: str | None = Field(
        default=None, description="The shadow-stage configuration (champion + shadow challenger)."
    )
    weights: dict[str, float]
    started_at: datetime
    started_by: str
    updated_at: datetime
    history: list[ABTestEvent] = Field(default_factory=list)
    design: dict[str, Any] | None = Field(
        default=None,
        description="The sequential design frozen at start (ABTestDesign.to_dict()); "
        "null for a test started before designs were recorded.",
    )


def check_plan(plan: Any, field: str = "plan") -> list[int]:
    """Challenger percentages: 1-5 stages, each an integer 1..100, strictly increasing."""
    if isinstance(plan, (str, bytes)) or not isinstance(plan, Sequence) or not 1 <= len(plan) <= 10:
        raise ValidationError(
            f"{field} must be a list of 1-10 challenger percentages (integers 1..100, increasing), "
            f"got {plan!r}",
            field=field,
        )
    out: list[int] = []
    for i, pct in enumerate(plan):
        if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 100:
            raise ValidationError(
                f"{field}[{i}] must be an integer between 1 and 100 (percent), got {pct!r}",
                field=field,
            )
        if out and pct <= out[-1]:
            raise ValidationError(
                f"{field} must increase stage by stage, got {pct} after {out[-1]}", field=field
            )
        out.append(pct)
    return out


def shadow_config_name(ab_config: str) -> str:
    """The shadow-stage configuration of an A/B test (``challenger`` -> ``shadow``, <= 63 chars)."""
    name = ab_config.replace("challenger", "shadow", 1)
    return name if name != ab_config else f"{ab_config[:56]}-shadow"


def stage_weights(challenger_pct: int) -> dict[str, float]:
    """The variant weights (summing to 100) of a stage."""
    return {
        CHAMPION_VARIANT: float(100 - challenger_pct),
        CHALLENGER_VARIANT: float(challenger_pct),
    }


class ABTestStore:
    """``ab-tests/<id>/state.json`` (conditional writes) and its append-only events."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    @staticmethod
    def state_key(ab_test_id: str) -> str:
        return f"{STATE_PREFIX}{ab_test_id}/state.json"

    @staticmethod
    def event_key(ab_test_id: str, event_id: str) -> str:
        return f"{STATE_PREFIX}{ab_test_id}/events/{event_id}.json"

    def _fail(self, step: str, exc: BaseException) -> AwsOperationError:
        return AwsOperationError(
            f"{step} in s3://{self.bucket}/{STATE_PREFIX} failed: {exc}",
            step=step,
            aws_error_code=error_code(exc) or None,
        )

    def read(self, ab_test_id: str) -> tuple[ABTestState, str]:
        """The state and its ETag; NotFoundError for an unknown test."""
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=self.state_key(ab_test_id))
        except AWS_ERRORS as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                raise NotFoundError("A/B test", ab_test_id) from exc
            raise self._fail("read_ab_test", exc) from exc
        return ABTestState.model_validate_json(resp["Body"].read()), str(resp["ETag"])

    def write(self, state: ABTestState, etag: str | None) -> str:
        """Create (``etag`` None) or replace the state read with ``etag``; ConflictError if changed."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            resp = self.s3.put_object(
                Bucket=self.bucket,
                Key=self.state_key(state.ab_test_id),
                Body=state.model_dump_json().encode(),
                ContentType="application/json",
                **condition,
            )
        except AWS_ERRORS as exc:
            if error_code(exc) in PRECONDITION_CODES:
                raise ConflictError(
                    f"A/B test {state.ab_test_id} was changed by someone else meanwhile"
                ) from exc
            raise self._fail("write_ab_test", exc) from exc
        return str(resp["ETag"])

    def append_event(self, ab_test_id: str, event: ABTestEvent) -> None:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.event_key(ab_test_id, event.event_id),
                Body=event.model_dump_json().encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except AWS_ERRORS as exc:
            raise self._fail("write_ab_test_event", exc) from exc

    def events(self, ab_test_id: str) -> list[ABTestEvent]:
        """The test's append-only event objects, oldest first (keys are ULIDs)."""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": f"{STATE_PREFIX}{ab_test_id}/events/",
        }
        keys: list[str] = []
        try:
            while True:
                resp = self.s3.list_objects_v2(**kwargs)
                keys += [str(item["Key"]) for item in resp.get("Contents", [])]
                token = resp.get("NextContinuationToken")
                if not resp.get("IsTruncated") or not token:
                    break
                kwargs["ContinuationToken"] = token
            bodies = [self.s3.get_object(Bucket=self.bucket, Key=k)["Body"] for k in sorted(keys)]
            return [ABTestEvent.model_validate_json(body.read()) for body in bodies]
        except AWS_ERRORS as exc:
            raise self._fail("read_ab_test_events", exc) from exc

    def ids(self) -> list[str]:
        out: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": STATE_PREFIX, "Delimiter": "/"}
        while True:
            try:
                resp = self.s3.list_objects_v2(**kwargs)
            except AWS_ERRORS as exc:
                raise self._fail("list_ab_tests", exc) from exc
            for prefix in resp.get("CommonPrefixes", []):
                out.append(prefix["Prefix"][len(STATE_PREFIX) :].rstrip("/"))
            token = resp.get("NextContinuationToken")
            if not resp.get("IsTruncated") or not token:
                return sorted(out)
            kwargs["ContinuationToken"] = token


__all__ = [
    "CHALLENGER_VARIANT",
    "CHAMPION_VARIANT",
    "DEFAULT_PLAN",
    "STATE_PREFIX",
    "ABTestEvent",
    "ABTestState",
    "ABTestStatus",
    "ABTestStore",
    "check_plan",
    "shadow_config_name",
    "stage_weights",
]
