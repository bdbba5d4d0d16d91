"""boto3 client construction from fraud_jlab settings.

Every class that talks to AWS takes its clients as keyword arguments and only
falls back to :func:`client` when none is given, so tests pass moto clients
and production uses boto3's default credential chain (``AWS_ENDPOINT_URL``
honoured, which is how the local emulator is reached).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from fraud_jlab.config import FraudJlab, get_settings

# Explicit timeouts and a bounded number of attempts: a hung AWS endpoint fails a call in
# about (connect + read) x attempts instead of boto3's 60 s read timeout times 8 attempts.
# Throttling is retried by botocore's adaptive mode with backoff before we give up. The
# FraudJlab traits aws_connect_timeout_seconds / aws_read_timeout_seconds / aws_max_attempts
# override these per client (see :func:`boto_config`).
_RETRY_CONFIG = BotoConfig(
    connect_timeout=5,
    read_timeout=30,
    retries={"total_max_attempts": 4, "mode": "adaptive"},
)


def boto_config(settings: FraudJlab) -> BotoConfig:
    """The client config for ``settings``: its timeouts and attempts over the defaults."""
    return _RETRY_CONFIG.merge(
        BotoConfig(
            connect_timeout=settings.aws_connect_timeout_seconds,
            read_timeout=settings.aws_read_timeout_seconds,
            retries={"total_max_attempts": settings.aws_max_attempts, "mode": "adaptive"},
        )
    )


# Creating a Session loads botocore's data files (~0.3 s each time); sessions are not
# thread-safe, so each thread keeps one per region. The region itself is resolved on every
# call (environment, then profile), so a changed AWS_DEFAULT_REGION is honoured.
_local = threading.local()


def _session(region: str | None) -> boto3.session.Session:
    cache: dict[str, boto3.session.Session] | None = getattr(_local, "sessions", None)
    if cache is None:
        cache = _local.sessions = {}
    if region is None:
        resolver = cache.get("") or boto3.session.Session()
        cache[""] = resolver
        region = resolver.region_name or "us-east-1"
    if region not in cache:
        cache[region] = boto3.session.Session(region_name=region)
    return cache[region]


def client(service: str, settings: FraudJlab | None = None) -> Any:
    """A boto3 client for ``service`` in the configured region (or boto3's default).

    The endpoint and credentials are read when the client is made, so a client made
    after ``AWS_ENDPOINT_URL`` changes (tests, the demo) talks to the new endpoint.
    """
    settings = settings or get_settings()
    return _session(settings.region or None).client(service, config=boto_config(settings))  # type: ignore[call-overload]


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
