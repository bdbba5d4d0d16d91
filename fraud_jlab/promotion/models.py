"""Promotion ledger and plan models (the REST shapes of API.md "Promotions").

``PromotionRecord`` is what the ledger stores for every attempt (one JSON
object per state change, never overwritten); ``PromotionPlan`` is what a dry
run returns. Both serialise unchanged to the REST API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PromotionKind = Literal[
    "promotion",
    "rollback",
    "recovery",
    "ab_deploy",
    "ab_weights",
    "ab_promote",
    "ab_rollback",
    "ab_stop",
]
#: The kinds of audited SageMaker endpoint changes (A/B tests); see promotion/endpoint_change.py.
ENDPOINT_CHANGE_KINDS: tuple[str, ...] = (
    "ab_deploy",
    "ab_weights",
    "ab_promote",
    "ab_rollback",
    "ab_stop",
)
PromotionStatus = Literal["completed", "rolled_back", "failed"]
#: What a rollback restores: the state before a record ("before", undo it) or the state it
#: wrote ("after").
RollbackTarget = Literal["before", "after"]


class Gate(BaseModel):
    """One promotion gate and its outcome."""

    model_config = ConfigDict(extra="forbid")

    name: str
    passed: bool
    detail: str
    lower_bound: float | None = Field(
        default=None,
        description=(
            "average_precision_vs_production: one-sided 95% lower bound of the paired AP "
            "difference (candidate - production) on the same rows."
        ),
    )
    margin: float | None = Field(
        default=None, description="The non-inferiority margin: passes when lower_bound > -margin."
    )
    n_pos: int | None = Field(
        default=None, description="Frauds in the holdout the gate's numbers come from."
    )


class ProductionState(BaseModel):
    """The production state fraud_jlab manages: the SSM values and the config file."""

    model_config = ConfigDict(extra="forbid")

    ssm: dict[str, str | None] = Field(
        description="SSM path -> value (null when the parameter does not exist)."
    )
    config: dict[str, Any] | None = Field(
        default=None, description="production-model-config.yaml parsed (null when absent)."
    )


class EndpointState(BaseModel):
    """A SageMaker endpoint as an audited endpoint change sees it."""

    model_config = ConfigDict(extra="forbid")

    endpoint_name: str
    config_name: str | None = Field(description="The endpoint configuration it serves.")
    weights: dict[str, float] = Field(
        default_factory=dict, description="Production variant name -> current weight."
    )
    shadow_variants: list[str] = Field(
        default_factory=list, description="Shadow variant names (they score a copy of traffic)."
    )


class PromotionRecord(BaseModel):
    """The ledger record of one promotion or rollback attempt."""

    model_config = ConfigDict(extra="forbid")

    promotion_id: str = Field(description="Time-sortable id (26-character ULID).")
    kind: PromotionKind
    status: PromotionStatus = Field(
        description="completed; rolled_back (production verified unchanged); failed (restore failed)."
    )
    run_id: str
    experiment_name: str | None = None
    approver: str
    reason: str
    timestamp: datetime
    forced: bool = False
    forced_gates: list[str] = Field(
        default_factory=list,
        description="The failed gates a forced promotion overrode (with its reason).",
    )
    gates: list[Gate] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    before: ProductionState
    after: ProductionState
    parameter_store_backup_key: str
    config_file_backup_key: str | None = None
    pipeline_execution_arn: str | None = None
    pipeline_status: str | None = None
    failed_step: str | None = None
    error: str | None = None
    rollback_of: str | None = None
    rollback_target: RollbackTarget | None = Field(
        default=None,
        description=(
            "Rollbacks: 'after' restored the state rollback_of wrote; 'before' undid it "
            "(restored the state before it, from its backup)."
        ),
    )
    ab_test_id: str | None = Field(
        default=None, description="Endpoint changes (kind ab_*): the A/B test it belongs to."
    )
    endpoint_before: EndpointState | None = Field(
        default=None, description="Endpoint changes: the endpoint before the change."
    )
    endpoint_after: EndpointState | None = Field(
        default=None,
        description="Endpoint changes: the endpoint after (completed) or the target (otherwise).",
    )


class BaselineEntry(BaseModel):
    """The production state before fraud_jlab's first ledger record (its first backup).

    Restore it with ``POST promotions/{promotion_id}/rollback`` and ``target: "before"``.
    """

    model_config = ConfigDict(extra="forbid")

    promotion_id: str = Field(description="The first ledger record; its backup holds the state.")
    timestamp: datetime = Field(description="When that backup was taken.")
    state: ProductionState
    parameter_store_backup_key: str
    config_file_backup_key: str | None = None


class SsmDiff(BaseModel):
    """One SSM parameter: current value versus the value a promotion would write."""

    model_config = ConfigDict(extra="forbid")

    path: str
    current: str | None
    new: str
    changed: bool


class ConfigDiff(BaseModel):
    """The config file now and after the promotion."""

    model_config = ConfigDict(extra="forbid")

    current: dict[str, Any] | None
    new: dict[str, Any]


class PlanDiff(BaseModel):
    """Everything a promotion would change."""

    model_config = ConfigDict(extra="forbid")

    ssm: list[SsmDiff]
    config: ConfigDiff


class PromotionPlan(BaseModel):
    """What a dry run returns: the diff and the gate results; nothing was written."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    hyperparameters: dict[str, str]
    gates: list[Gate]
    gates_passed: bool
    diff: PlanDiff


class UnfinishedAttempt(BaseModel):
    """A promotion whose process died before writing its final record (see recovery.py)."""

    model_config = ConfigDict(extra="forbid")

    promotion_id: str
    kind: PromotionKind
    run_id: str
    approver: str
    started: datetime
    message: str
    live: bool = Field(
        default=False,
        description=(
            "True while its lock may still be held by the live process (a promotion in "
            "progress); false when its process died (recover it)."
        ),
    )


class PromotionsPage(BaseModel):
    """One page of the ledger, newest first."""

    model_config = ConfigDict(extra="forbid")

    promotions: list[PromotionRecord]
    next_page_token: str | None = None
    in_progress: list[UnfinishedAttempt] = Field(
        default_factory=list,
        description=(
            "First page only: attempts without a final record (status in_progress), "
            "live ones and ones whose process died."
        ),
    )
    baseline: BaselineEntry | None = Field(
        default=None,
        description=(
            "First page only: the state before fraud_jlab's first promotion, restorable "
            "(null when the ledger is empty)."
        ),
    )


class ProductionView(BaseModel):
    """``GET production``: what is live and the promotion that put it there."""

    model_config = ConfigDict(extra="forbid")

    ssm: dict[str, str | None]
    config: dict[str, Any] | None = None
    promotion: PromotionRecord | None = None
    unfinished: list[UnfinishedAttempt] = Field(
        default_factory=list,
        description=(
            "Attempts whose process died mid-promotion: production may be half-written "
            "until POST production/recover restores the state before them."
        ),
    )
