"""Which value a setting takes: keyword > ``FRAUD_JLAB_<NAME>`` > config file > default."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from fraud_jlab.config import FraudJlab, settings_from_config
from fraud_jlab.errors import ValidationError


def test_a_keyword_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "sqlite:////tmp/from-env.db")
    monkeypatch.setenv("FRAUD_JLAB_MAX_COMPARE_RUNS", "4")
    settings = FraudJlab(tracking_uri="sqlite:////tmp/explicit.db")
    assert settings.tracking_uri == "sqlite:////tmp/explicit.db"
    # Settings not given as keywords still come from the environment.
    assert settings.max_compare_runs == 4


def test_the_environment_wins_over_a_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config()
    config.FraudJlab.tracking_uri = "sqlite:////tmp/from-config.db"
    config.FraudJlab.max_compare_runs = 3
    monkeypatch.setenv("FRAUD_JLAB_TRACKING_URI", "sqlite:////tmp/from-env.db")
    monkeypatch.delenv("FRAUD_JLAB_MAX_COMPARE_RUNS", raising=False)
    settings = settings_from_config(config)
    assert settings.tracking_uri == "sqlite:////tmp/from-env.db"
    assert settings.max_compare_runs == 3


def test_a_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUD_JLAB_MAX_COMPARE_RUNS", "many")
    with pytest.raises(ValidationError, match="FRAUD_JLAB_MAX_COMPARE_RUNS='many'"):
        FraudJlab()
    # Given as a keyword, the broken variable is not read at all.
    assert FraudJlab(max_compare_runs=5).max_compare_runs == 5
