"""A moto production endpoint for the audited endpoint-change tests, and call recording."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypedDict

import boto3
from botocore.exceptions import ClientError

from fraud_jlab.abtest import ABTestingManager
from fraud_jlab.abtest.service import ABTestService
from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sagemaker_update import install_sagemaker_update_endpoint
from fraud_jlab.promotion.endpoint_change import EndpointChanger

REGION = "us-east-1"
CONFIG_BUCKET = "fraud-detection-config"
MODELS_BUCKET = "fraud-detection-models"
ARTIFACT = f"s3://{MODELS_BUCKET}/exp-20240115-001/model.tar.gz"
PRODUCTION = "fraud-detection-production"
CHAMPION_CONFIG = "fraud-detection-production-config-v1"
AB_CONFIG = "fraud-detection-production-ab"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
NOW = datetime(2024, 1, 15, 10, 30, 0, tzinfo=timezone.utc)


class Audit(TypedDict):
    approver: str
    reason: str


AUDIT: Audit = {"approver": "alice", "reason": "rollout stage readout passed"}


@dataclass
class Env:
    settings: FraudJlab
    sagemaker: Any
    s3: Any

    def manager(self) -> ABTestingManager:
        m = ABTestingManager(
            self.settings, sagemaker_client=self.sagemaker, s3_client=self.s3, clock=lambda: NOW
        )
        m._changer = self.changer()
        return m

    def changer(self) -> EndpointChanger:
        return EndpointChanger.for_settings(
            self.settings,
            sagemaker=self.sagemaker,
            s3=self.s3,
            clock=lambda: NOW,
            sleep=lambda _s: None,
            waiter_delay=1,
            waiter_max_attempts=2,
        )

    def service(self) -> ABTestService:
        return ABTestService(self.manager())

    def endpoint(self) -> tuple[str, dict[str, float]]:
        """Production's config name and variant weights as SageMaker describes them."""
        d = self.sagemaker.describe_endpoint(EndpointName=PRODUCTION)
        weights = {
            v["VariantName"]: float(v.get("CurrentWeight", 1.0)) for v in d["ProductionVariants"]
        }
        return str(d["EndpointConfigName"]), weights

    def keys(self, prefix: str = "") -> list[str]:
        resp = self.s3.list_objects_v2(Bucket=CONFIG_BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in resp.get("Contents", []))

    def records(self) -> list[dict[str, Any]]:
        """Final ledger records, oldest first."""
        out = []
        for key in self.keys("promotions/"):
            if key.count("/") == 1 and key.endswith(".json"):
                body = self.s3.get_object(Bucket=CONFIG_BUCKET, Key=key)["Body"].read()
                out.append(json.loads(body))
        return out


def make_env() -> Env:
    install_sagemaker_update_endpoint()
    session = boto3.session.Session(region_name=REGION)
    env = Env(
        settings=FraudJlab(region=REGION, production_endpoint=PRODUCTION),
        sagemaker=session.client("sagemaker"),
        s3=session.client("s3"),
    )
    env.s3.create_bucket(Bucket=CONFIG_BUCKET)
    env.s3.create_bucket(Bucket=MODELS_BUCKET)
    env.s3.put_object(Bucket=MODELS_BUCKET, Key="exp-20240115-001/model.tar.gz", Body=b"model")
    for name in ("champion-model", "challenger-model"):
        env.sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={
                "Image": IMAGE,
                "ModelDataUrl": f"s3://{MODELS_BUCKET}/{name}.tar.gz",
            },
            ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
        )
    env.sagemaker.create_endpoint_config(
        EndpointConfigName=CHAMPION_CONFIG,
        ProductionVariants=[
            {
                "VariantName": "Champion",
                "ModelName": "champion-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 100.0,
            }
        ],
    )
    env.sagemaker.create_endpoint_config(
        EndpointConfigName=AB_CONFIG,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, model, weight in (
                ("Champion", "champion-model", 90.0),
                ("Challenger", "challenger-model", 10.0),
            )
        ],
    )
    env.sagemaker.create_endpoint(EndpointName=PRODUCTION, EndpointConfigName=CHAMPION_CONFIG)
    return env


def record_calls(env: Env) -> list[str]:
    """Every AWS call both clients make from now on, as ``service.Operation``."""
    calls: list[str] = []

    def hook(event_name: str, **_: Any) -> None:
        calls.append(event_name[len("before-call.") :])

    for client in (env.sagemaker, env.s3):
        client.meta.events.register("before-call", hook)
    return calls


def fail_nth_call(env: Env, n: int) -> Callable[[], str | None]:
    """Make the ``n``-th AWS call (0-based, counting both clients) fail once."""
    seen: list[str] = []
    failed: list[str] = []

    def hook(event_name: str, **_: Any) -> None:
        seen.append(event_name)
        if len(seen) - 1 == n:
            op = event_name.rsplit(".", 1)[-1]
            failed.append(op)
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, op)

    for client in (env.sagemaker, env.s3):
        client.meta.events.register("before-call", hook)
    return lambda: failed[0] if failed else None
