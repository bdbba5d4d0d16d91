"""Champion/challenger A/B testing on SageMaker endpoints (design section 8)."""

from fraud_jlab.abtest.compare import EndpointComparison, compare_endpoints
from fraud_jlab.abtest.criteria import CriteriaVerdict, CriterionCheck, evaluate_success_criteria
from fraud_jlab.abtest.decision import Decision, decide
from fraud_jlab.abtest.design import ABTestDesign, design_test
from fraud_jlab.abtest.manager import ABTestingManager
from fraud_jlab.abtest.naming import challenger_endpoint_name, experiment_slug, experiment_token
from fraud_jlab.abtest.readout import Readout, SampleRatioCheck, sample_ratio_check, variant_readout
from fraud_jlab.abtest.traffic import DEFAULT_ROLLOUT_PLAN, build_traffic_split_config

__all__ = [
    "DEFAULT_ROLLOUT_PLAN",
    "ABTestDesign",
    "ABTestingManager",
    "CriteriaVerdict",
    "CriterionCheck",
    "Decision",
    "EndpointComparison",
    "Readout",
    "SampleRatioCheck",
    "build_traffic_split_config",
    "challenger_endpoint_name",
    "compare_endpoints",
    "decide",
    "design_test",
    "evaluate_success_criteria",
    "experiment_slug",
    "experiment_token",
    "sample_ratio_check",
    "variant_readout",
]
