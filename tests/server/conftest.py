"""Fixtures for handler tests: a Jupyter server with fraud_jlab enabled on a temp tracker.

pytest-jupyter ships no pytest entry point; importing its server module here
brings in its fixtures and its async-test hooks for tests under ``tests/server``
only (async tests run on its own event loop; pytest-asyncio is not used).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPResponse
from traitlets.config import Config

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.server.base import FraudJlabContext
from fraud_jlab.tracking.contract import TrackerStore

FjApi = Callable[..., Awaitable[tuple[int, Any]]]

#: Username every token-authenticated test request is served as.
TEST_USER = "fraud-analyst"


class NamedUserIdentityProvider(IdentityProvider):
    """Token requests authenticate as one named user.

    Jupyter's default makes up a new anonymous user per token request; a real
    deployment (Studio, JupyterHub) has one stable name, which approvals record.
    """

    def generate_anonymous_user(self, handler: Any) -> User:
        return User(username=TEST_USER, name="Fraud Analyst")


@pytest.fixture(autouse=True)
def _isolate_fraud_jlab_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's FRAUD_JLAB_* variables must not leak into (or override) test servers."""
    for name in list(os.environ):
        if name.startswith("FRAUD_JLAB_"):
            monkeypatch.delenv(name)
    yield
    from fraud_jlab.config import set_settings

    set_settings(None)


@pytest.fixture
def fj_tracking_uri(tmp_path: Path) -> str:
    """A fresh SQLite tracking store per test."""
    folder = tmp_path / "tracking"
    folder.mkdir()
    return "sqlite:///" + str(folder / "runs.db")


@pytest.fixture
def fj_extra_config() -> dict[str, Any]:
    """Extra server config merged over the defaults (parametrize or override to change)."""
    return {}


@pytest.fixture  # type: ignore[no-redef]  # overrides pytest-jupyter's fixture
def jp_server_config(fj_tracking_uri: str, fj_extra_config: dict[str, Any]) -> Config:
    config = Config(
        {
            "ServerApp": {
                # terminals' websocket handler trips JupyterServerAuthWarning (an error under
                # filterwarnings=error) and is not needed here
                "jpserver_extensions": {"fraud_jlab": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": NamedUserIdentityProvider,
            },
            "FraudJlab": {"tracking_uri": fj_tracking_uri},
        }
    )
    config.merge(Config(fj_extra_config))
    return config


@pytest.fixture
def fj_user() -> str:
    """The Jupyter username of every token-authenticated test request."""
    return TEST_USER


@pytest.fixture
def fj_context(jp_serverapp: Any) -> FraudJlabContext:
    """The running server's fraud_jlab context (settings, tracker, route table)."""
    context: FraudJlabContext = jp_serverapp.web_app.settings["fraud_jlab_context"]
    return context


@pytest.fixture
def fj_tracker(fj_context: FraudJlabContext) -> TrackerStore:
    """The tracker the server reads from."""
    return fj_context.tracker


@pytest.fixture
def fj_api(jp_fetch: Any) -> FjApi:
    """``await fj_api(method, *path, body=None, params=None, token=True) -> (status, json)``.

    Paths are relative to ``fraud-jlab/api/``; 4xx/5xx are returned, not raised.
    """

    async def call(
        method: str,
        *path: str,
        body: Any = None,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        token: bool = True,
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method in {"POST", "PUT", "PATCH"}:
            kwargs["body"] = b""
        if not token:
            kwargs["headers"] = {"Authorization": ""}
        response: HTTPResponse = await jp_fetch("fraud-jlab", "api", *path, params=params, **kwargs)
        text = response.body.decode() if response.body else ""
        try:
            payload = json.loads(text) if text else None
        except json.JSONDecodeError:
            payload = text
        return response.code, payload

    return call


@pytest.fixture
def production(moto_env: None) -> Any:
    """moto-backed AWS with the production sandbox; the S3 client.

    The server's worker threads use it too: ``mock_aws`` patches every client created inside it.
    """
    s3 = boto3.client("s3", region_name="us-east-1")
    provision_sandbox(
        FraudJlab(), s3_client=s3, sfn_client=boto3.client("stepfunctions", region_name="us-east-1")
    )
    return s3
