"""Promotion of a challenger to the production endpoint, and rolling it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.errors import ConflictError, NotFoundError, ValidationError

from .abtest_env import ARTIFACT, AUDIT, PRODUCTION, PRODUCTION_CONFIG, AbEnv, create_endpoint


@pytest.fixture
def live(ab_env: AbEnv) -> Iterator[tuple[AbEnv, str]]:
    """Production serving PRODUCTION_CONFIG and a deployed challenger."""
    install_sagemaker_update_endpoint()
    create_endpoint(ab_env.sagemaker, PRODUCTION, PRODUCTION_CONFIG)
    challenger = ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)
    yield ab_env, challenger


def serving(env: AbEnv) -> str:
    return str(env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)["EndpointConfigName"])


def test_promote_switches_production_and_deletes_the_challenger(live: tuple[AbEnv, str]) -> None:
    env, challenger = live

    previous = env.manager().promote_challenger_to_champion(challenger, **AUDIT)

    assert previous == PRODUCTION_CONFIG
    assert serving(env) == challenger
    assert env.sagemaker.describe_endpoint(EndpointName=PRODUCTION)["EndpointStatus"] == "InService"
    assert env.endpoints() == [PRODUCTION]
    # Production now runs on the challenger's configuration and model: both are kept.
    assert challenger in env.endpoint_configs()
    assert challenger in env.models()


def test_rollback_restores_the_previous_configuration(live: tuple[AbEnv, str]) -> None:
    env, challenger = live
    previous = env.manager().promote_challenger_to_champion(challenger, **AUDIT)

    replaced = env.manager().rollback_champion(previous, **AUDIT)

    assert replaced == challenger
    assert serving(env) == PRODUCTION_CONFIG
    with pytest.raises(ConflictError, match="already serves"):
        env.manager().rollback_champion(previous, **AUDIT)


def test_promote_can_keep_the_challenger(live: tuple[AbEnv, str]) -> None:
    env, challenger = live

    env.manager().promote_challenger_to_champion(challenger, delete_challenger=False, **AUDIT)

    assert env.endpoints() == sorted([PRODUCTION, challenger])
    with pytest.raises(ConflictError, match="already serves"):
        env.manager().promote_challenger_to_champion(challenger, **AUDIT)


def test_unknown_challenger_is_not_found_and_production_is_unchanged(
    live: tuple[AbEnv, str],
) -> None:
    env, _ = live

    with pytest.raises(NotFoundError, match="no-such-endpoint"):
        env.manager().promote_challenger_to_champion("no-such-endpoint", **AUDIT)

    assert serving(env) == PRODUCTION_CONFIG


@pytest.mark.parametrize("bad", ["bad_name", "challenger\n", ""])
def test_invalid_challenger_name_is_rejected(live: tuple[AbEnv, str], bad: str) -> None:
    env, _ = live

    with pytest.raises(ValidationError) as err:
        env.manager().promote_challenger_to_champion(bad, **AUDIT)

    assert err.value.field == "challenger_endpoint"
    assert serving(env) == PRODUCTION_CONFIG


def test_production_cannot_be_its_own_challenger(live: tuple[AbEnv, str]) -> None:
    env, _ = live

    with pytest.raises(ValidationError) as err:
        env.manager().promote_challenger_to_champion(PRODUCTION, **AUDIT)

    assert err.value.field == "challenger_endpoint"


def test_missing_production_endpoint_is_not_found(ab_env: AbEnv) -> None:
    install_sagemaker_update_endpoint()
    challenger = ab_env.manager().deploy_challenger_endpoint("exp-20240115-001", ARTIFACT)

    with pytest.raises(NotFoundError, match=PRODUCTION):
        ab_env.manager().promote_challenger_to_champion(challenger, **AUDIT)

    assert ab_env.endpoints() == [challenger]


def test_rollback_to_unknown_configuration_is_not_found(live: tuple[AbEnv, str]) -> None:
    env, _ = live

    with pytest.raises(NotFoundError, match="endpoint configuration"):
        env.manager().rollback_champion("deleted-config", **AUDIT)

    assert serving(env) == PRODUCTION_CONFIG


def test_rejected_update_leaves_production_unchanged(live: tuple[AbEnv, str]) -> None:
    from fraud_jlab.errors import AwsOperationError

    from .test_deploy import fail_operation

    env, challenger = live
    fail_operation(env.sagemaker, "UpdateEndpoint", code="ResourceLimitExceeded")

    with pytest.raises(AwsOperationError) as err:
        env.manager().promote_challenger_to_champion(challenger, **AUDIT)

    assert err.value.step == "update_endpoint"
    assert err.value.production_unchanged is True
    assert "production unchanged" in str(err.value)
    assert serving(env) == PRODUCTION_CONFIG
    assert challenger in env.endpoints()
