"""Every fraud_jlab route requires an authenticated Jupyter user; promotions also need authorization."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import tornado.web
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import authorized

from fraud_jlab.server.base import (
    PROMOTIONS_AUTH_RESOURCE,
    FraudJlabContext,
    PromotionAuthorizedHandler,
)
from fraud_jlab.server.extension import collect_routes
from fraud_jlab.server.openapi import implemented_verbs

WRITE_VERBS = {"post", "put", "patch", "delete"}


def _fill(route: str) -> list[str]:
    """A concrete URL (as path parts) for a route regex: every path parameter becomes 'x'."""
    path = re.sub(r"\(\?P<\w+>[^()]*\)", "x", route).replace("\\.", ".")
    return path.split("/")


def _route_verbs() -> list[tuple[str, str]]:
    return [
        (route, verb) for route, handler in collect_routes() for verb in implemented_verbs(handler)
    ]


def _is_authenticated_wrapper(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return (
        code is not None
        and code.co_filename == tornado.web.__file__
        and code.co_qualname == "authenticated.<locals>.wrapper"
    )


def _is_authorized_wrapper(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_qualname == authorized(lambda s: None).__code__.co_qualname


def test_every_registered_verb_is_decorated_authenticated() -> None:
    routes = collect_routes()
    assert len(routes) >= 5
    for route, handler in routes:
        verbs = implemented_verbs(handler)
        assert verbs, f"{route}: {handler.__name__} serves no verb"
        for verb in verbs:
            method = getattr(handler, verb)
            assert _is_authenticated_wrapper(method), (
                f"{handler.__name__}.{verb} ({route}) is not @tornado.web.authenticated"
            )
            if issubclass(handler, PromotionAuthorizedHandler) and verb in WRITE_VERBS:
                assert _is_authorized_wrapper(method.__wrapped__), (
                    f"{handler.__name__}.{verb} changes production but is not @authorized"
                )


@pytest.mark.parametrize(
    "fj_extra_config",
    [
        {},
        # even if the server let unauthenticated requests through, the handlers refuse them
        {"ServerApp": {"allow_unauthenticated_access": True}},
    ],
    ids=["server-requires-auth", "handlers-require-auth"],
)
async def test_requests_without_token_are_403_on_every_route(fj_api: Any) -> None:
    checked = 0
    for route, verb in _route_verbs():
        body = "{}" if verb in WRITE_VERBS else None
        status, payload = await fj_api(verb.upper(), *_fill(route), body=body, token=False)
        assert status == 403, f"{verb.upper()} {route} without a token answered {status}"
        assert set(payload) == {"message", "errors", "field"}
        checked += 1
    assert checked == len(_route_verbs())


async def test_wrong_token_is_403(jp_fetch: Any) -> None:
    response = await jp_fetch(
        "fraud-jlab", "api", "runs", headers={"Authorization": "token wrong"}, raise_error=False
    )
    assert response.code == 403


async def test_valid_token_is_accepted(fj_api: Any) -> None:
    status, _ = await fj_api("GET", "info")
    assert status == 200


# --- authorization of production-changing routes ---------------------------------


class _PromoteProbe(PromotionAuthorizedHandler):
    """Test-only production-changing handler."""

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json({"approver": self.user_name}, status=201)


class _DenyPromotions(Authorizer):
    """Allows everything except writing to fraud_jlab promotions."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == PROMOTIONS_AUTH_RESOURCE and action == "write")


@pytest.fixture
def promote_probe(jp_serverapp: Any, fj_context: FraudJlabContext) -> Iterator[None]:
    base = jp_serverapp.web_app.settings["base_url"]
    jp_serverapp.web_app.add_handlers(
        ".*$", [(base + "fraud-jlab/api/_promote", _PromoteProbe, {"context": fj_context})]
    )
    yield


async def test_promotion_routes_are_allowed_by_the_default_authorizer(
    fj_api: Any, promote_probe: None
) -> None:
    status, body = await fj_api("POST", "_promote", body={})
    assert status == 201
    assert body["approver"]


@pytest.mark.parametrize("fj_extra_config", [{"ServerApp": {"authorizer_class": _DenyPromotions}}])
async def test_authorizer_can_deny_promotions_but_not_reads(
    fj_api: Any, promote_probe: None
) -> None:
    status, body = await fj_api("POST", "_promote", body={})
    assert status == 403
    assert PROMOTIONS_AUTH_RESOURCE in body["message"]

    status, _ = await fj_api("GET", "runs")
    assert status == 200


class _DenyPromotionReads(Authorizer):
    """Allows everything except reading fraud_jlab promotions."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == PROMOTIONS_AUTH_RESOURCE and action == "read")


def test_promotion_reads_are_decorated_authorized() -> None:
    for route, handler in collect_routes():
        if route.startswith(("promotions", "production")) and "get" in implemented_verbs(handler):
            assert issubclass(handler, PromotionAuthorizedHandler), route
            assert _is_authorized_wrapper(handler.get.__wrapped__), f"GET {route}"


@pytest.mark.parametrize(
    "fj_extra_config", [{"ServerApp": {"authorizer_class": _DenyPromotionReads}}]
)
async def test_authorizer_can_deny_promotion_reads_but_not_runs(fj_api: Any) -> None:
    for path in (("promotions",), ("promotions", "01J0000000000000000000000X"), ("production",)):
        status, body = await fj_api("GET", *path)
        assert status == 403, path
        assert PROMOTIONS_AUTH_RESOURCE in body["message"]
    status, _ = await fj_api("GET", "runs")
    assert status == 200
