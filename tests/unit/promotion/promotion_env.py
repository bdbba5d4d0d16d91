"""Helpers for promotion tests: a moto-backed production sandbox, tracked runs, fault injection."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.exceptions import ClientError
from evaluated_runs import GATE_METRICS, log_evaluation

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

REGION = "us-east-1"
BUCKET = "fraud-detection-config"
GOOD_PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
    "random_state": "0",
}
GOOD_METRICS = {"accuracy": 0.97, "average_precision": 0.81, "auc_roc": 0.98, **GATE_METRICS}


@dataclass
class AwsEnv:
    s3: Any
    ssm: Any
    sfn: Any
    settings: FraudJlab

    def clients(self) -> dict[str, Any]:
        return {"s3_client": self.s3, "ssm_client": self.ssm, "sfn_client": self.sfn}

    def new_clients(self) -> dict[str, Any]:
        return {
            "s3_client": boto3.client("s3", region_name=REGION),
            "ssm_client": boto3.client("ssm", region_name=REGION),
            "sfn_client": boto3.client("stepfunctions", region_name=REGION),
        }

    def key_set(self) -> set[str]:
        """Every key in the config bucket."""
        out: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            out.update(item["Key"] for item in page.get("Contents", []))
        return out

    def read(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def objects(self) -> dict[str, bytes]:
        """Every object in the config bucket -> its bytes."""
        out: dict[str, bytes] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                out[item["Key"]] = self.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        return out

    def ssm_values(self) -> dict[str, str]:
        resp = self.ssm.get_parameters_by_path(Path="/fraud-detection/", Recursive=True)
        return {p["Name"]: p["Value"] for p in resp["Parameters"]}

    def config_bytes(self) -> bytes | None:
        try:
            return bytes(
                self.s3.get_object(Bucket=BUCKET, Key="production-model-config.yaml")["Body"].read()
            )
        except ClientError:
            return None

    def reset(self) -> None:
        """Empty the bucket and delete the parameters (cheap reset between hypothesis examples)."""
        keys = [{"Key": k} for k in self.key_set()]
        if keys:
            self.s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})
        names = list(self.ssm_values())
        if names:
            self.ssm.delete_parameters(Names=names)


def provision(settings: FraudJlab | None = None) -> AwsEnv:
    s3 = boto3.client("s3", region_name=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    settings = settings or FraudJlab()
    provision_sandbox(settings, s3_client=s3, sfn_client=sfn)
    return AwsEnv(s3=s3, ssm=ssm, sfn=sfn, settings=settings)


_names = itertools.count()


def make_run(
    tracker: SqliteTrackerStore,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    experiment: str = "fraud-detection-optimization",
    scores: Any = None,
) -> str:
    """A completed run with ``params`` and ``metrics`` (plus the gates' holdout metrics) and
    holdout ``scores`` on the shared test holdout (default: the same as every run's)."""
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run(experiment, f"run-{next(_names)}", user="tester", start_time=now)
    tracker.log_params(run_id, GOOD_PARAMS if params is None else params)
    tracker.log_metrics(run_id, GOOD_METRICS if metrics is None else {**GATE_METRICS, **metrics})
    log_evaluation(tracker, run_id, scores)
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


class FailNthCall:
    """Raise a ClientError on the n-th AWS call made through the given clients (1-based)."""

    def __init__(self, n: int | set[int], code: str = "InternalError") -> None:
        self.fail_at = {n} if isinstance(n, int) else set(n)
        self.code = code
        self.calls: list[str] = []
        self.failed: str | None = None

    def attach(self, *clients: Any) -> FailNthCall:
        for client in clients:
            client.meta.events.register("before-call.*.*", self._handler)
        return self

    def detach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", self._handler)

    def _handler(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls.append(f"{service}.{model.name}")
        if len(self.calls) in self.fail_at:
            self.failed = self.failed or self.calls[-1]
            raise ClientError(
                {
                    "Error": {
                        "Code": self.code,
                        "Message": f"injected failure of call {len(self.calls)}",
                    }
                },
                model.name,
            )


def failing(n: int | set[int], env: AwsEnv, code: str = "InternalError") -> FailNthCall:
    return FailNthCall(n, code).attach(env.s3, env.ssm, env.sfn)


Factory = Callable[..., ProductionIntegrator]
