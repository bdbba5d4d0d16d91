"""What a promotion would change, read only: the production config, the gates, the plan.

:func:`plan_promotion` turns a tracked run, its production spec and the production
state read now into the :class:`PromotionPlan` a dry run shows and the
:class:`~fraud_jlab.promotion.transaction.Change` a real promotion applies. Nothing
here writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraud_jlab.config import FraudJlab
from fraud_jlab.promotion.gates import GatePolicy, evaluate_gates
from fraud_jlab.promotion.models import ConfigDiff, Gate, PlanDiff, PromotionPlan, SsmDiff
from fraud_jlab.promotion.noninferiority import compare_with_production
from fraud_jlab.promotion.spec import RunSpec
from fraud_jlab.promotion.store import ProductionStore, Snapshot
from fraud_jlab.promotion.transaction import Change
from fraud_jlab.promotion.validation import REQUIRED_PARAMS, format_value, validate_config_schema
from fraud_jlab.tracking.contract import RunDetail, TrackerStore


def production_config(
    experiment_id: str,
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, float],
    approver: str,
    tested_date: str,
    *,
    algorithm: str = "xgboost",
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The production config dict (``model.algorithm/version/hyperparameters/performance/...``).

    ``details`` adds the spec fields of :func:`fraud_jlab.promotion.spec.run_spec`
    (threshold and its rule, features, dataset hash, model URI, run id).
    """
    model: dict[str, Any] = {
        "algorithm": algorithm,
        "version": str(experiment_id),
        "hyperparameters": dict(hyperparameters),
        "performance": {k: float(v) for k, v in metrics.items()},
        "tested_date": tested_date,
        "approved_by": str(approver),
    }
    model.update(details or {})
    return {"model": model}


def production_run_id(snap: Snapshot) -> str | None:
    """The run in production: ``model.version`` of the config in ``snap`` (None when unknown)."""
    config = snap.config_obj()
    model = config.get("model") if isinstance(config, dict) else None
    version = model.get("version") if isinstance(model, dict) else None
    return str(version) if version else None


def run_gates(
    tracker: TrackerStore, settings: FraudJlab, run: RunDetail, current: Snapshot
) -> list[Gate]:
    """The promotion gates of ``run`` against the production in ``current``."""
    in_production = production_run_id(current)
    paired = (
        compare_with_production(tracker, run, in_production) if in_production is not None else None
    )
    return evaluate_gates(
        run.metrics,
        run_status=run.status,
        tags=run.tags,
        policy=GatePolicy.from_settings(settings),
        production_run_id=in_production,
        paired=paired,
    )


def plan_promotion(
    store: ProductionStore,
    run: RunDetail,
    spec: RunSpec,
    current: Snapshot,
    gates: list[Gate],
    approver: str,
) -> tuple[PromotionPlan, Change]:
    """The plan (gates and diff) of promoting ``run`` and the change that would apply it."""
    tested = (run.end_time or run.start_time).strftime("%Y-%m-%d")
    config = production_config(
        run.run_id,
        spec.hyperparameters,
        run.metrics,
        approver,
        tested,
        algorithm=spec.algorithm,
        details=spec.details,
    )
    validate_config_schema(config)
    desired: dict[str, str | None]
    if spec.parameter_store is not None:
        six = spec.parameter_store
        desired = {store.path(n): format_value(six[n]) for n in REQUIRED_PARAMS}
        promoted = {n: format_value(six[n]) for n in REQUIRED_PARAMS}
    else:
        # The six SSM names are XGBoost's: another algorithm leaves them as they are
        # (config model.parameter_store_applies is false) and is fully in the config.
        desired = dict(current.values)
        promoted = {k: _text(v) for k, v in spec.hyperparameters.items()}
    plan = PromotionPlan(
        run_id=run.run_id,
        hyperparameters=promoted,
        gates=gates,
        gates_passed=all(g.passed for g in gates),
        diff=PlanDiff(
            ssm=[
                SsmDiff(path=p, current=current.values[p], new=v, changed=current.values[p] != v)
                for p, v in desired.items()
                if v is not None  # left absent (another algorithm): nothing to show
            ],
            config=ConfigDiff(current=current.config_obj(), new=config),
        ),
    )
    change = Change(
        kind="promotion",
        run_id=run.run_id,
        experiment_name=run.experiment_name,
        approver=approver,
        reason="",
        desired_ssm=desired,
        desired_config=config,
        hyperparameters=plan.hyperparameters,
        metrics=dict(run.metrics),
        gates=gates,
        event_run_id=run.run_id,
    )
    return plan, change


def _text(value: Any) -> str:
    """A config value as the ledger's string (lists as JSON-ish text, floats exact)."""
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return format_value(value) if isinstance(value, (int, float, str)) else str(value)


__all__ = ["plan_promotion", "production_config", "production_run_id", "run_gates"]
