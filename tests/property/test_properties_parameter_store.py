"""Properties 1, 3, 9, 10 and 23: Parameter Store writes, backups and pipeline triggers (moto)."""

from __future__ import annotations

import json
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
from fraud_jlab.promotion.validation import ALLOWED_OBJECTIVES, REQUIRED_PARAMS
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

PREFIX = "/fraud-detection/hyperparameters/"
#: Who and why: every Parameter Store write is audited (lock + ledger).
AUDIT = {"approver": "alice", "reason": "property test"}
EXPECTED_PATHS = {
    "/fraud-detection/hyperparameters/objective",
    "/fraud-detection/hyperparameters/num_round",
    "/fraud-detection/hyperparameters/max_depth",
    "/fraud-detection/hyperparameters/eta",
    "/fraud-detection/hyperparameters/subsample",
    "/fraud-detection/hyperparameters/colsample_bytree",
}
unit = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, allow_nan=False)
valid_hyperparameters = st.fixed_dictionaries(
    {
        "objective": st.sampled_from(ALLOWED_OBJECTIVES),
        "num_round": st.integers(1, 1000),
        "max_depth": st.integers(1, 20),
        "eta": unit,
        "subsample": unit,
        "colsample_bytree": unit,
    }
)


class Sandbox:
    """moto-backed production: one mock per module, emptied before each example."""

    def __init__(self, tracker: SqliteTrackerStore) -> None:
        self.settings = FraudJlab()
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.ssm = boto3.client("ssm", region_name="us-east-1")
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")
        provision_sandbox(self.settings, s3_client=self.s3, sfn_client=self.sfn)
        self.integrator = ProductionIntegrator(
            self.settings,
            ssm_client=self.ssm,
            s3_client=self.s3,
            sfn_client=self.sfn,
            tracker=tracker,
        )

    def reset(self) -> None:
        keys = [
            {"Key": o["Key"]}
            for o in self.s3.list_objects_v2(Bucket=self.settings.config_bucket).get("Contents", [])
        ]
        if keys:
            self.s3.delete_objects(Bucket=self.settings.config_bucket, Delete={"Objects": keys})
        names = list(self.ssm_values())
        if names:
            self.ssm.delete_parameters(Names=names)

    def ssm_values(self) -> dict[str, str]:
        resp = self.ssm.get_parameters_by_path(Path=PREFIX, Recursive=True)
        return {p["Name"]: p["Value"] for p in resp["Parameters"]}


@pytest.fixture(scope="module")
def sandbox(moto_env_module: None, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(SqliteTrackerStore(tmp_path_factory.mktemp("tracker") / "runs.db"))


@settings(max_examples=100, deadline=None)
@given(hp=valid_hyperparameters)
def test_property_1_parameter_store_path_correctness(sandbox: Sandbox, hp: dict[str, Any]) -> None:
    sandbox.reset()
    sandbox.integrator.write_hyperparameters_to_parameter_store(hp, **AUDIT)
    stored = sandbox.ssm_values()
    assert set(stored) == EXPECTED_PATHS
    for name in REQUIRED_PARAMS:
        assert stored[PREFIX + name] == (
            repr(hp[name]) if isinstance(hp[name], float) else str(hp[name])
        )


_backup_keys: set[str] = set()
BACKUP_KEY = re.compile(r"^parameter-store-backups/backup-(\d{8})-(\d{6})-[0-9a-f]{12}\.yaml$")


@settings(max_examples=100, deadline=None)
@given(
    previous=st.dictionaries(
        st.sampled_from(REQUIRED_PARAMS), st.text("0123456789.abc", min_size=1, max_size=8)
    ),
    hp=valid_hyperparameters,
)
def test_property_3_parameter_store_backup_creation(
    sandbox: Sandbox, previous: dict[str, str], hp: dict[str, Any]
) -> None:
    sandbox.reset()
    for name, value in previous.items():
        sandbox.ssm.put_parameter(Name=PREFIX + name, Value=value, Type="String")
    key = sandbox.integrator.write_hyperparameters_to_parameter_store(hp, **AUDIT)
    match = BACKUP_KEY.match(key)
    assert match, key
    assert key not in _backup_keys  # unique, even within one second
    _backup_keys.add(key)
    body = sandbox.s3.get_object(Bucket=sandbox.settings.config_bucket, Key=key)["Body"].read()
    recorded = yaml.safe_load(body)["parameters"]
    assert recorded == {
        PREFIX + n: ({"value": previous[n], "version": 1} if n in previous else None)
        for n in REQUIRED_PARAMS
    }


_execution_arns: set[str] = set()
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@settings(max_examples=100, deadline=None)
@given(experiment_id=st.text(min_size=1, max_size=120))
def test_property_9_pipeline_trigger_metadata(sandbox: Sandbox, experiment_id: str) -> None:
    arn = sandbox.integrator.trigger_production_pipeline(experiment_id)
    execution = sandbox.sfn.describe_execution(executionArn=arn)
    assert json.loads(execution["input"])["experimentId"] == experiment_id
    assert NAME.match(execution["name"]), execution["name"]


@settings(max_examples=100, deadline=None)
@given(experiment_id=st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=100))
def test_property_10_pipeline_trigger_response(sandbox: Sandbox, experiment_id: str) -> None:
    arn = sandbox.integrator.trigger_production_pipeline(experiment_id)
    assert isinstance(arn, str) and arn.startswith("arn:aws:states:")
    assert arn not in _execution_arns
    _execution_arns.add(arn)
    assert sandbox.integrator.check_pipeline_status(arn)["status"] == "RUNNING"


@settings(max_examples=100, deadline=None)
@given(hp=valid_hyperparameters)
def test_property_23_hyperparameter_round_trip_consistency(
    sandbox: Sandbox, hp: dict[str, Any]
) -> None:
    sandbox.reset()
    sandbox.integrator.write_hyperparameters_to_parameter_store(hp, **AUDIT)
    # Read back as the production pipeline does: by path, then typed.
    stored = {k.removeprefix(PREFIX): v for k, v in sandbox.ssm_values().items()}
    assert stored["objective"] == hp["objective"]
    assert int(stored["num_round"]) == hp["num_round"]
    assert int(stored["max_depth"]) == hp["max_depth"]
    for name in ("eta", "subsample", "colsample_bytree"):
        assert float(stored[name]) == hp[name]
    assert sandbox.integrator.normalise_hyperparameters(stored) == hp
    assert sandbox.integrator.validate_hyperparameters(stored) is True
