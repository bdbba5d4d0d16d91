"""Fixtures for the A/B testing tests: moto-backed SageMaker/S3 with the model artifact."""

from __future__ import annotations

import boto3
import pytest

from fraud_jlab.config import FraudJlab

from .abtest_env import CONFIG_BUCKET, MODELS_BUCKET, PRODUCTION, REGION, AbEnv


@pytest.fixture
def ab_env(moto_env: None) -> AbEnv:
    session = boto3.session.Session(region_name=REGION)
    env = AbEnv(
        settings=FraudJlab(region=REGION, production_endpoint=PRODUCTION),
        sagemaker=session.client("sagemaker"),
        runtime=session.client("sagemaker-runtime"),
        s3=session.client("s3"),
    )
    env.s3.create_bucket(Bucket=MODELS_BUCKET)
    env.s3.create_bucket(Bucket=CONFIG_BUCKET)
    env.s3.put_object(
        Bucket=MODELS_BUCKET, Key="exp-20240115-001/model.tar.gz", Body=b"model bytes"
    )
    return env
