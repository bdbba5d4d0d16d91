"""Production promotion: validated, all-or-nothing, audited and reversible.

Example::

    from fraud_jlab.promotion import ProductionIntegrator
    integrator = ProductionIntegrator()
    plan = integrator.promote_run(run_id, approver="alice", reason="better AP", dry_run=True)
    record = integrator.promote_run(run_id, approver="alice", reason="better AP")
    integrator.rollback_to(record.promotion_id, approver="alice", reason="restore")
"""

from fraud_jlab.promotion.integrator import ProductionIntegrator
from fraud_jlab.promotion.models import (
    Gate,
    ProductionState,
    ProductionView,
    PromotionPlan,
    PromotionRecord,
    PromotionsPage,
)
from fraud_jlab.promotion.validation import validate_config_schema, validate_hyperparameters

__all__ = [
    "Gate",
    "ProductionIntegrator",
    "ProductionState",
    "ProductionView",
    "PromotionPlan",
    "PromotionRecord",
    "PromotionsPage",
    "validate_config_schema",
    "validate_hyperparameters",
]
