"""The production endpoint serving one champion variant, and a challenger artifact, on moto.

Shared by the A/B REST and magic tests (the same starting point a real A/B test has).
"""

from __future__ import annotations

from typing import Any

REGION = "us-east-1"
MODELS_BUCKET = "fraud-detection-models"
ARTIFACT = f"s3://{MODELS_BUCKET}/challenger/model.tar.gz"
PRODUCTION = "fraud-detection-production"
CHAMPION_CONFIG = "fraud-detection-production-config-v1"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def serve_champion(s3: Any, sagemaker: Any) -> None:
    """Upload the challenger artifact and create the champion's model, config and endpoint."""
    s3.create_bucket(Bucket=MODELS_BUCKET)
    s3.put_object(Bucket=MODELS_BUCKET, Key="challenger/model.tar.gz", Body=b"model")
    sagemaker.create_model(
        ModelName="champion-model",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{MODELS_BUCKET}/champion.tar.gz"},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecutionRole",
    )
    sagemaker.create_endpoint_config(
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
    sagemaker.create_endpoint(EndpointName=PRODUCTION, EndpointConfigName=CHAMPION_CONFIG)
