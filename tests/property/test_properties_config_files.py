"""Properties 5-8: the production config file in S3 (moto)."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.validation import ALLOWED_OBJECTIVES
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

CONFIG_KEY = "production-model-config.yaml"
#: Who and why: every config write is audited (lock + ledger).
AUDIT = {"approver": "alice", "reason": "property test"}
ARCHIVE_KEY = re.compile(r"^archive/production-model-config-(\d{8})-(\d{6})-[0-9a-f]{12}\.yaml$")
unit = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, allow_nan=False)
hyperparameters = st.fixed_dictionaries(
    {
        "objective": st.sampled_from(ALLOWED_OBJECTIVES),
        "num_round": st.integers(1, 1000),
        "max_depth": st.integers(1, 20),
        "eta": unit,
        "subsample": unit,
        "colsample_bytree": unit,
    }
)
metrics = st.dictionaries(
    st.sampled_from(
        ["accuracy", "precision", "recall", "f1_score", "auc_roc", "average_precision"]
    ),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    min_size=1,
)
experiment_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s)
approvers = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=30
)


class Sandbox:
    """moto-backed config bucket: one mock per module, emptied before each example."""

    def __init__(self, tracker: SqliteTrackerStore) -> None:
        self.settings = FraudJlab()
        self.bucket = self.settings.config_bucket
        self.s3 = boto3.client("s3", region_name="us-east-1")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        provision_sandbox(self.settings, s3_client=self.s3, sfn_client=sfn)
        self.integrator = ProductionIntegrator(
            self.settings,
            s3_client=self.s3,
            sfn_client=sfn,
            ssm_client=boto3.client("ssm", region_name="us-east-1"),
            tracker=tracker,
        )

    def key_set(self) -> set[str]:
        return {o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])}

    def read(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def reset(self) -> None:
        objects = [{"Key": k} for k in self.key_set()]
        if objects:
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})


@pytest.fixture(scope="module")
def sandbox(moto_env_module: None, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(SqliteTrackerStore(tmp_path_factory.mktemp("tracker") / "runs.db"))


def _write(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> dict[str, Any]:
    config = sandbox.integrator.generate_production_config(exp, hp, m, who)
    sandbox.integrator.write_config_to_s3(config, **AUDIT)
    return config


@settings(max_examples=100, deadline=None)
@given(exp=experiment_ids, hp=hyperparameters, m=metrics, who=approvers)
def test_property_5_configuration_file_yaml_format(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    sandbox.reset()
    _write(sandbox, exp, hp, m, who)
    loaded = yaml.safe_load(sandbox.read(CONFIG_KEY))
    assert isinstance(loaded, dict) and "model" in loaded


@settings(max_examples=100, deadline=None)
@given(exp=experiment_ids, hp=hyperparameters, m=metrics, who=approvers)
def test_property_6_configuration_file_completeness(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    sandbox.reset()
    _write(sandbox, exp, hp, m, who)
    model = yaml.safe_load(sandbox.read(CONFIG_KEY))["model"]
    assert model["algorithm"] == "xgboost" and model["version"] == exp
    assert model["hyperparameters"] == hp and model["performance"] == m
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", model["tested_date"]) and model["approved_by"] == who
    sandbox.integrator.validate_config_schema({"model": model})


@settings(max_examples=100, deadline=None)
@given(exp=experiment_ids, hp=hyperparameters, m=metrics, who=approvers)
def test_property_7_configuration_file_s3_location(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    sandbox.reset()
    config = _write(sandbox, exp, hp, m, who)
    assert sandbox.bucket == "fraud-detection-config"
    assert CONFIG_KEY in sandbox.key_set()
    assert yaml.safe_load(sandbox.read(CONFIG_KEY)) == config


@settings(max_examples=100, deadline=None)
@given(first=experiment_ids, second=experiment_ids, hp=hyperparameters, m=metrics, who=approvers)
def test_property_8_configuration_file_backup_creation(
    sandbox: Sandbox, first: str, second: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    sandbox.reset()
    _write(sandbox, first, hp, m, who)
    previous = sandbox.read(CONFIG_KEY)
    keys_before = sandbox.key_set()
    archive = sandbox.integrator.write_config_to_s3(
        sandbox.integrator.generate_production_config(second, hp, m, who), **AUDIT
    )
    assert archive is not None and ARCHIVE_KEY.match(archive), archive
    assert archive not in keys_before  # a new object: earlier archives are never overwritten
    assert sandbox.read(archive) == previous
    assert yaml.safe_load(sandbox.read(CONFIG_KEY))["model"]["version"] == second
