"""Settings and fixtures shared by every fraud_jlab test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws

# XGBoost/LightGBM use OpenMP; with libgomp's default busy-waiting, two threads on a loaded
# 2-core CI machine run many times slower than one. Must be set before either library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Region of every moto-backed test (where the design's resources live).
MOTO_REGION = "us-east-1"


@contextmanager
def _moto(mp: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every boto3 client made inside, with a developer's AWS and fraud_jlab
    environment (endpoint, profile, ``FRAUD_JLAB_*`` overrides) kept out."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        mp.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("FRAUD_JLAB_"):
            mp.delenv(name)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", MOTO_REGION)
    with mock_aws():
        yield


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto active for one test (see :func:`_moto`)."""
    with _moto(monkeypatch):
        yield


@pytest.fixture(scope="module")
def moto_env_module() -> Iterator[None]:
    """moto active for a whole module: hypothesis examples reset state instead of the mock."""
    with pytest.MonkeyPatch.context() as mp, _moto(mp):
        yield
