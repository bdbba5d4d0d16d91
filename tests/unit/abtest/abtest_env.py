"""Shared A/B testing test setup: names, an AWS environment holder, production endpoint, runtime seeding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypedDict

import requests

from fraud_jlab.abtest import ABTestingManager
from fraud_jlab.config import FraudJlab

REGION = "us-east-1"
MODELS_BUCKET = "fraud-detection-models"
ARTIFACT = f"s3://{MODELS_BUCKET}/exp-20240115-001/model.tar.gz"
PRODUCTION = "fraud-detection-production"
PRODUCTION_CONFIG = "fraud-detection-production-config-v1"
CONFIG_BUCKET = "fraud-detection-config"


#: The approver and reason every audited endpoint change takes.
class Audit(TypedDict):
    approver: str
    reason: str


AUDIT: Audit = {"approver": "alice", "reason": "A/B test readout passed"}
NOW = datetime(2024, 1, 15, 10, 30, 0, tzinfo=timezone.utc)


@dataclass
class AbEnv:
    settings: FraudJlab
    sagemaker: Any
    runtime: Any
    s3: Any

    def manager(self, moment: datetime = NOW) -> ABTestingManager:
        return ABTestingManager(
            self.settings,
            sagemaker_client=self.sagemaker,
            runtime_client=self.runtime,
            s3_client=self.s3,
            clock=lambda: moment,
        )

    def endpoints(self) -> list[str]:
        return sorted(e["EndpointName"] for e in self.sagemaker.list_endpoints()["Endpoints"])

    def endpoint_configs(self) -> list[str]:
        configs = self.sagemaker.list_endpoint_configs()["EndpointConfigs"]
        return sorted(c["EndpointConfigName"] for c in configs)

    def models(self) -> list[str]:
        return sorted(m["ModelName"] for m in self.sagemaker.list_models()["Models"])


def create_endpoint(sagemaker: Any, endpoint: str, config: str) -> None:
    """A model, endpoint configuration and endpoint the way production has them."""
    sagemaker.create_model(
        ModelName=config,
        PrimaryContainer={
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "ModelDataUrl": f"s3://{MODELS_BUCKET}/production/model.tar.gz",
        },
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": config,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)


def seed_runtime_results(bodies: list[str]) -> None:
    """Queue the bodies moto's sagemaker-runtime returns, one per invoke_endpoint call in order."""
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={
            "region": REGION,
            "results": [{"Body": body, "ContentType": "text/csv"} for body in bodies],
        },
        timeout=10,
    )
    assert response.status_code == 201
