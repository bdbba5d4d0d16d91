"""Every fraud_jlab route requires an authenticated Jupyter user; promotions also need authorization."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import tornado.web
from evaluated_runs import GATE_METRICS, log_evaluation
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import authorized

from fraud_jlab.server.base import (
    ABTESTS_AUTH_RESOURCE,
    PROMOTIONS_AUTH_RESOURCE,
    ABTestAuthorizedHandler,
    FraudJlabContext,
    PromotionAuthorizedHandler,
)
from fraud_jlab.server.extension import collect_routes
from fraud_jlab.server.openapi import implemented_verbs
from fraud_jlab.tracking.contract import TrackerStore

WRITE_VERBS = {"post", "put", "patch", "delete"}
AB_ACTIONS = ("advance", "promote", "rollback", "stop")


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


def test_abtest_and_job_verbs_are_decorated_authorized() -> None:
    checked = 0
    for route, handler in collect_routes():
        if route.startswith(("ab-tests", "jobs")):
            assert issubclass(handler, ABTestAuthorizedHandler), route
            for verb in implemented_verbs(handler):
                assert _is_authorized_wrapper(getattr(handler, verb).__wrapped__), f"{verb} {route}"
                checked += 1
    assert checked == 8


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


# --- every route the running app serves -------------------------------------------------

READ_PREFIXES = ("Get", "List", "Describe", "Head", "Search")


def _served(jp_serverapp: Any) -> list[tuple[str, type[Any]]]:
    """(URL pattern, handler class) of every fraud_jlab handler the running app routes to.

    Walks tornado's routers (not the extension's own table), so a handler registered any
    other way is found too.
    """
    from fraud_jlab.server.base import FraudJlabHandler

    found: list[tuple[str, type[Any]]] = []
    stack: list[Any] = [jp_serverapp.web_app.default_router, jp_serverapp.web_app.wildcard_router]
    while stack:
        router = stack.pop()
        for rule in getattr(router, "rules", []):
            target = rule.target
            if isinstance(target, type) and issubclass(target, FraudJlabHandler):
                found.append((rule.matcher.regex.pattern, target))
            elif hasattr(target, "rules"):
                stack.append(target)
            elif isinstance(target, list):
                from tornado.routing import RuleRouter

                stack.append(RuleRouter(target))
    return found


def _served_verbs(jp_serverapp: Any, base_url: str) -> list[tuple[list[str], str, type[Any]]]:
    """(URL path parts under base_url, verb, handler) for every served fraud_jlab verb."""
    out = []
    for pattern, handler in _served(jp_serverapp):
        path = re.sub(r"\(\?P<\w+>[^()]*\)", "x", pattern).rstrip("$").replace("\\.", ".")
        assert path.startswith(base_url), pattern
        parts = path[len(base_url) :].split("/")
        out.extend((parts, verb, handler) for verb in implemented_verbs(handler))
    return out


def test_served_routes_are_the_extension_route_table(jp_serverapp: Any) -> None:
    served = {handler for _, handler in _served(jp_serverapp)}
    assert served == {handler for _, handler in collect_routes()}
    assert len(served) >= 10


async def test_every_served_verb_is_403_without_a_token(
    jp_serverapp: Any, jp_base_url: str, fj_api: Any
) -> None:
    checked = 0
    for parts, verb, handler in _served_verbs(jp_serverapp, jp_base_url):
        assert parts[:2] == ["fraud-jlab", "api"], parts
        body = "{}" if verb in WRITE_VERBS else None
        status, payload = await fj_api(verb.upper(), *parts[2:], body=body, token=False)
        assert status == 403, f"{verb.upper()} {'/'.join(parts)} ({handler.__name__}): {status}"
        assert set(payload) == {"message", "errors", "field"}
        checked += 1
    assert checked >= 13


async def _login_cookie(jp_fetch: Any) -> str:
    """The login cookie the server sets on a token-authenticated request."""
    response = await jp_fetch("fraud-jlab", "api", "info")
    cookies = response.headers.get_list("Set-Cookie")
    [login] = [c.split(";", 1)[0] for c in cookies if c.startswith("username-")]
    return str(login)


async def test_state_changing_verbs_need_the_xsrf_token_under_cookie_auth(
    jp_serverapp: Any, jp_base_url: str, jp_fetch: Any, production: Any
) -> None:
    login = await _login_cookie(jp_fetch)

    async def call(parts: list[str], verb: str, headers: dict[str, str]) -> Any:
        return await jp_fetch(
            *parts,
            method=verb.upper(),
            body="{}" if verb in WRITE_VERBS else None,
            headers={"Authorization": "", **headers},
            raise_error=False,
        )

    served = _served_verbs(jp_serverapp, jp_base_url)
    writes = [(parts, verb) for parts, verb, _ in served if verb in WRITE_VERBS]
    assert len(writes) >= 5
    for parts, verb in writes:
        # Given only the session cookie (a browser tab on another site could send it)
        no_xsrf = await call(parts, verb, {"Cookie": login})
        # Then the request is refused before the handler runs
        assert no_xsrf.code == 403, (verb, parts, no_xsrf.code)
        assert b"XSRF" in no_xsrf.body or b"xsrf" in no_xsrf.body, no_xsrf.body[:200]
        # while the same cookie with a matching XSRF token gets past authentication
        with_xsrf = await call(
            parts, verb, {"Cookie": f"{login}; _xsrf=probe", "X-XSRFToken": "probe"}
        )
        assert with_xsrf.code != 403, (verb, parts, with_xsrf.body[:300])
    # reads work with the cookie alone
    for parts, verb, _ in served:
        if verb == "get" and "x" not in parts:
            response = await call(parts, verb, {"Cookie": login})
            assert response.code == 200, (parts, response.code)


class _DenyPromotionWrites(Authorizer):
    """Allows everything except writing to fraud_jlab promotions and A/B tests (both change
    production); records what was asked."""

    asked: list[tuple[str, str, str]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        self.asked.append((type(handler).__name__, action, resource))
        production = (PROMOTIONS_AUTH_RESOURCE, ABTESTS_AUTH_RESOURCE)
        return not (resource in production and action == "write")


@pytest.fixture
def aws_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every mutating boto3 operation any client makes (names like ``ssm.PutParameter``)."""
    import botocore.client

    made: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        if not operation_name.startswith(READ_PREFIXES):
            made.append(f"{self.meta.service_model.service_name}.{operation_name}")
        return real(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def _valid_bodies(run_ids: list[str]) -> dict[str, Any]:
    """A request body that would succeed, per operationId of every verb taking a body."""
    return {
        "searchRunsPost": {"filter": "", "max_results": 5},
        "compareRuns": {"run_ids": run_ids[:2]},
        "promoteRun": {"run_id": run_ids[1], "reason": "auth probe"},
        "rollbackToPromotion": {"reason": "auth probe"},
        "recoverProduction": {"reason": "auth probe"},
        "startABTest": {"run_id": run_ids[1], "reason": "auth probe"},
        **{f"{a}ABTest": {"reason": "auth probe"} for a in AB_ACTIONS},
    }


async def _promotable(
    fj_tracker: TrackerStore, fj_context: FraudJlabContext
) -> tuple[list[str], str]:
    from datetime import datetime, timezone

    from fraud_jlab.promotion import ProductionIntegrator

    now = datetime.now(timezone.utc)
    ids = []
    for depth in ("5", "6"):
        run_id = fj_tracker.create_run(
            "fraud-detection-optimization", "xgb", user="ds", start_time=now
        )
        fj_tracker.log_params(
            run_id,
            {
                "max_depth": depth,
                "learning_rate": "0.1",
                "n_estimators": "200",
                "subsample": "0.8",
                "colsample_bytree": "0.9",
            },
        )
        fj_tracker.log_metrics(
            run_id, {"accuracy": 0.97, "average_precision": 0.81, "auc_roc": 0.98, **GATE_METRICS}
        )
        log_evaluation(fj_tracker, run_id)
        fj_tracker.end_run(run_id, "completed", end_time=now)
        ids.append(run_id)
    record = ProductionIntegrator(fj_context.settings, tracker=fj_tracker).promote_run(
        ids[0], approver="seed", reason="baseline"
    )
    return ids, record.promotion_id


@pytest.mark.parametrize(
    "fj_extra_config", [{"ServerApp": {"authorizer_class": _DenyPromotionWrites}}]
)
async def test_every_production_changing_verb_is_refused_without_its_permission(
    jp_serverapp: Any,
    jp_base_url: str,
    fj_api: Any,
    fj_tracker: TrackerStore,
    fj_context: FraudJlabContext,
    production: Any,
    aws_writes: list[str],
) -> None:
    run_ids, promotion_id = await _promotable(fj_tracker, fj_context)
    bodies = _valid_bodies(run_ids)
    refused, allowed = [], []
    for parts, verb, handler in _served_verbs(jp_serverapp, jp_base_url):
        if verb == "get":
            continue
        op = handler.operations[verb]
        assert op.operation_id in bodies, f"add a valid body for {op.operation_id} to this test"
        path = [promotion_id if p == "x" else p for p in parts[2:]]
        del aws_writes[:]
        _DenyPromotionWrites.asked.clear()
        status, body = await fj_api(verb.upper(), *path, body=bodies[op.operation_id])
        if status == 403:
            # refused by the Authorizer for this very method, before any AWS write
            assert handler.auth_resource in body["message"], body
            assert (
                handler.__name__,
                "write",
                handler.auth_resource,
            ) in _DenyPromotionWrites.asked
            assert aws_writes == [], (op.operation_id, aws_writes)
            refused.append(op.operation_id)
        else:
            # not protected by the permission: then it must not change production at all
            assert aws_writes == [], (
                f"{op.operation_id} answered {status} without the promotions permission "
                f"but wrote to AWS: {aws_writes}"
            )
            allowed.append(op.operation_id)
    assert {"promoteRun", "rollbackToPromotion", "recoverProduction"} <= set(refused)
    assert {"startABTest", *(f"{a}ABTest" for a in AB_ACTIONS)} <= set(refused)
    assert set(allowed) == {"searchRunsPost", "compareRuns"}


async def test_the_same_requests_change_production_when_permitted(
    jp_serverapp: Any,
    jp_base_url: str,
    fj_api: Any,
    fj_tracker: TrackerStore,
    fj_context: FraudJlabContext,
    production: Any,
    aws_writes: list[str],
) -> None:
    # the control for the test above: with the permission the promote body does write
    run_ids, _ = await _promotable(fj_tracker, fj_context)
    del aws_writes[:]
    status, body = await fj_api("POST", "promotions", body=_valid_bodies(run_ids)["promoteRun"])
    assert status == 201, body
    assert "ssm.PutParameter" in aws_writes and "s3.PutObject" in aws_writes
