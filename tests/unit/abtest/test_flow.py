"""The design's A/B testing flow end to end: deploy, split, compare, decide, promote, roll back."""

from __future__ import annotations

import numpy as np

from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.models.abtest import ABTestConfig

from .abtest_env import (
    ARTIFACT,
    AUDIT,
    PRODUCTION,
    PRODUCTION_CONFIG,
    AbEnv,
    create_endpoint,
    seed_runtime_results,
)


def test_challenger_that_wins_is_promoted_and_can_be_rolled_back(ab_env: AbEnv) -> None:
    # Given production serving its configuration
    install_sagemaker_update_endpoint()
    create_endpoint(ab_env.sagemaker, PRODUCTION, PRODUCTION_CONFIG)
    manager = ab_env.manager()

    # When a challenger is deployed and a 10% split is planned
    challenger = manager.deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)
    plan = ABTestConfig.from_yaml(
        manager.generate_traffic_split_config(PRODUCTION, challenger).to_yaml()
    )
    assert plan.challenger_endpoint == challenger
    assert plan.challenger_experiment_id == "exp-20240115-001"

    # And both endpoints score 20 labelled transactions; the challenger ranks fraud better
    rng = np.random.default_rng(1)
    records = rng.normal(size=(20, 30))
    labels = np.array([1, 0, 0, 0, 1] * 4)
    champion_scores = np.where(labels == 1, 0.55, 0.1) + rng.uniform(0, 0.4, 20)
    champion_scores[[0, 1]] = [0.2, 0.9]  # the champion misses one fraud, flags one legit
    challenger_scores = np.where(labels == 1, 0.8, 0.05) + rng.uniform(0, 0.1, 20)
    seed_runtime_results(
        [f"{s:.6f}" for pair in zip(champion_scores, challenger_scores, strict=True) for s in pair]
    )
    result = manager.compare_endpoints(PRODUCTION, challenger, records, labels=labels)
    verdict = manager.challenger_meets_criteria(result, plan)

    # Then the challenger meets the plan's criteria and is promoted
    assert result.comparison["challenger"]["average_precision"] == 1.0
    assert result.comparison["champion"]["average_precision"] < 1.0
    assert verdict.passed, verdict.checks
    previous = manager.promote_challenger_to_champion(challenger, **AUDIT)
    assert previous == PRODUCTION_CONFIG
    assert (
        ab_env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)["EndpointConfigName"]
        == challenger
    )
    assert ab_env.endpoints() == [PRODUCTION]

    # And the promotion can be undone
    assert manager.rollback_champion(previous, **AUDIT) == challenger
    assert (
        ab_env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)["EndpointConfigName"]
        == PRODUCTION_CONFIG
    )
