"""Base handler for every fraud_jlab REST endpoint.

Handlers stay thin: parse the request (query args, a pydantic body), call the
core off the event loop with :meth:`FraudJlabHandler.run_blocking`, write a
pydantic model. Exceptions are mapped to HTTP status in exactly one place,
:meth:`FraudJlabHandler.send_error`, so no handler catches domain errors itself.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import responses
from typing import Any, ClassVar, Literal, TypeVar

import anyio.to_thread
import pydantic
from jupyter_server.auth.identity import IdentityProvider
from jupyter_server.base.handlers import APIHandler

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import (
    PayloadTooLarge,
    ValidationError,
)
from fraud_jlab.identity import Identity, JupyterUser, resolve_identity
from fraud_jlab.server.errors import error_status_and_body as error_status_and_body
from fraud_jlab.server.jobs import JobRegistry
from fraud_jlab.server.json_body import load_json_body
from fraud_jlab.server.openapi import Operation
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.search_cache import SearchCache

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
ResultT = TypeVar("ResultT")

#: Which worker-thread pool a blocking call runs in: tracker reads/writes, or AWS calls.
PoolKind = Literal["tracker", "aws"]

#: The resource name production-changing routes are authorized against.
PROMOTIONS_AUTH_RESOURCE = "fraud_jlab_promotions"
#: The resource name A/B test routes (and their jobs) are authorized against.
ABTESTS_AUTH_RESOURCE = "fraud_jlab_abtests"


@dataclass
class FraudJlabContext:
    """What the extension hands to every handler through ``initialize(context=...)``.

    Mutable on purpose: tests may swap ``tracker`` on a running server.
    """

    settings: FraudJlab
    tracker: TrackerStore
    #: Every ``(path relative to fraud-jlab/api/, handler class)`` the extension serves.
    routes: list[tuple[str, type[Any]]] = field(default_factory=list)
    #: One thread limiter per pool kind (sizes: ``tracker_threads`` / ``aws_threads``),
    #: made per server so slow AWS calls never take the threads tracker reads need.
    limiters: dict[str, anyio.CapacityLimiter] = field(default_factory=dict)
    #: Background jobs (``GET jobs/{job_id}``): A/B test changes that wait for SageMaker.
    jobs: JobRegistry = field(default_factory=lambda: JobRegistry(error_status_and_body))
    _search_cache: SearchCache | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not self.limiters:
            self.limiters = {
                "tracker": anyio.CapacityLimiter(self.settings.tracker_threads),
                "aws": anyio.CapacityLimiter(self.settings.aws_threads),
            }

    def aws_client(self, service: str) -> Any:
        """The server's boto3 client for ``service``, made on first use and then shared.

        Making a client costs ~50 ms of CPU and, in a fresh worker thread, a boto3 session
        another ~300 ms (anyio ends idle worker threads after 10 s, so thread-local caches
        do not last); a promotions request needing three clients paid that every time.
        boto3 clients are thread-safe; only their creation is serialised here.
        """
        from fraud_jlab import aws

        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = aws.client(service, self.settings)
            return self._clients[service]

    def search_cache(self) -> SearchCache:
        """The search response cache of the current ``tracker`` (a new one if it was swapped)."""
        cache = self._search_cache
        if cache is None or cache.store is not self.tracker:
            cache = self._search_cache = SearchCache(self.tracker)
        return cache

    def limiter(self, pool: PoolKind) -> anyio.CapacityLimiter:
        try:
            return self.limiters[pool]
        except KeyError:
            raise ValueError(f"pool must be one of {sorted(self.limiters)}, got {pool!r}") from None


_ANONYMOUS_ID = re.compile(r"[0-9a-f]{32}")


def is_generated_anonymous(user: Any, provider: Any) -> bool:
    """True for the random identity jupyter-server's ``IdentityProvider`` makes up.

    Under a shared token (or with authentication off) the default provider generates
    ``User(<uuid4 hex>, "Anonymous <moon>")`` per browser session; it names nobody. A
    provider that overrides ``generate_anonymous_user`` (JupyterHub, a deployment's own)
    decides itself who its users are, so its users are taken as named.
    """
    if provider is not None:
        generator = getattr(type(provider), "generate_anonymous_user", None)
        if generator is not None and generator is not IdentityProvider.generate_anonymous_user:
            return False
    username = str(getattr(user, "username", "") or "")
    name = str(getattr(user, "name", "") or "")
    return bool(_ANONYMOUS_ID.fullmatch(username)) and name.startswith("Anonymous ")


class FraudJlabHandler(APIHandler):
    """Base class of fraud_jlab handlers.

    Subclasses decorate every verb with ``@tornado.web.authenticated`` and
    declare their OpenAPI operations in ``operations`` (see
    :mod:`fraud_jlab.server.openapi`).
    """

    #: HTTP verb (lower case) -> OpenAPI operation, read by the OpenAPI generator.
    operations: ClassVar[dict[str, Operation]] = {}

    def initialize(self, context: FraudJlabContext, **kwargs: Any) -> None:
        super().initialize(**kwargs)
        self._fj_context = context

    async def prepare(self) -> None:  # type: ignore[override]
        """Refuse a body over ``max_body_bytes`` (413) for an authenticated caller.

        Unauthenticated requests fall through to the verb's ``@authenticated`` (403), so
        the size limit never tells an anonymous caller more than "forbidden".
        """
        await super().prepare()
        size = len(self.request.body or b"")
        limit = self.fraud_settings.max_body_bytes
        if size > limit and self.current_user is not None:
            raise PayloadTooLarge(size, limit)

    # --- dependencies ------------------------------------------------------
    @property
    def fraud_settings(self) -> FraudJlab:
        """The server's fraud_jlab settings."""
        return self._fj_context.settings

    @property
    def tracker(self) -> TrackerStore:
        """The tracker built from ``FraudJlab.tracking_uri`` at start-up."""
        return self._fj_context.tracker

    @property
    def user_name(self) -> str:
        """The authenticated Jupyter user's name (``IdentityProvider``)."""
        user = self.current_user
        name = getattr(user, "username", None) or getattr(user, "name", None)
        return str(name) if name else "anonymous"

    @property
    def jupyter_user(self) -> JupyterUser | None:
        """The Jupyter user, marked anonymous when it is jupyter-server's generated identity."""
        user = self.current_user
        name = getattr(user, "username", None) or getattr(user, "name", None)
        if not name:
            return None
        return JupyterUser(
            username=str(name),
            anonymous=is_generated_anonymous(user, getattr(self, "identity_provider", None)),
            display_name=str(getattr(user, "display_name", "") or ""),
        )

    def approver_identity(self) -> Identity:
        """Who approves production changes made by this request (``fraud_jlab.identity``)."""
        return resolve_identity(self.jupyter_user, settings=self.fraud_settings)

    # --- blocking work -----------------------------------------------------
    async def run_blocking(
        self,
        fn: Callable[..., ResultT],
        *args: Any,
        pool: PoolKind = "tracker",
        **kwargs: Any,
    ) -> ResultT:
        """Run ``fn(*args, **kwargs)`` in a worker thread of ``pool`` and await its result.

        Every store call, boto3 call or training step goes through here so the
        tornado event loop keeps serving other requests. ``pool="aws"`` for work
        that calls AWS (promotions, production, compare with production): its
        threads are separate from the tracker's, so many slow AWS calls in flight
        never delay ``GET runs``.
        """
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self._fj_context.limiter(pool)
        )

    # --- request parsing ---------------------------------------------------
    def parse_body(self, model: type[ModelT]) -> ModelT:
        """Parse the JSON request body into ``model``.

        Raises ValidationError (field ``body``) for missing or malformed JSON or JSON
        nested deeper than ``MAX_BODY_DEPTH``, ValidationError naming the field for a
        string with a lone surrogate (see ``json_body``), and pydantic.ValidationError for a body that does not fit the model (both 400).
        """
        data = load_json_body(self.request.body or b"")
        if not isinstance(data, dict):
            raise ValidationError(
                f"Request body must be a JSON object, got {type(data).__name__}", field="body"
            )
        return model.model_validate(data)

    def query_str(self, name: str, default: str | None = None) -> str | None:
        """The last value of query argument ``name`` (stripped), or ``default``."""
        value = self.get_query_argument(name, default=None)
        if value is None:
            return default
        return value.strip()

    def query_list(self, name: str) -> list[str]:
        """All values of ``name``; each may also be comma-separated (``a,b&name=c`` -> a, b, c)."""
        out: list[str] = []
        for raw in self.get_query_arguments(name):
            out.extend(part.strip() for part in raw.split(",") if part.strip())
        return out

    def query_int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        """Integer query argument within ``minimum..maximum``.

        Raises ValidationError naming ``name`` and the allowed range.
        """
        raw = self.get_query_argument(name, default=None)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValidationError(
                f"{name} must be an integer between {minimum} and {maximum}, got {raw!r}",
                field=name,
            ) from None
        if not minimum <= value <= maximum:
            raise ValidationError(
                f"{name} must be between {minimum} and {maximum}, got {value}", field=name
            )
        return value

    def query_bool(self, name: str, default: bool = False) -> bool:
        """Boolean query argument (``true/false/1/0/yes/no``); raises ValidationError otherwise."""
        raw = self.get_query_argument(name, default=None)
        if raw is None or raw.strip() == "":
            return default
        value = raw.strip().lower()
        if value in {"1", "true", "yes"}:
            return True
        if value in {"0", "false", "no"}:
            return False
        raise ValidationError(f"{name} must be true or false, got {raw!r}", field=name)

    # --- responses ---------------------------------------------------------
    def write_json(self, data: Any, status: int = 200) -> None:
        """Finish the request with ``data`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    async def write_model_blocking(
        self, fn: Callable[..., pydantic.BaseModel], *args: Any, pool: PoolKind = "tracker"
    ) -> None:
        """Finish with ``fn(*args)``'s model, computed *and serialised* in a worker thread.

        For large pages: ``model_dump`` + ``json.dumps`` of 100 runs is several ms of CPU
        that would otherwise run on the event loop once per request.
        """

        def call() -> str:
            return json.dumps(fn(*args).model_dump(mode="json"))

        text = await self.run_blocking(call, pool=pool)
        self.set_status(200)
        self.set_header("Content-Type", "application/json")
        self.finish(text)

    async def write_search(
        self, filter_string: str, order_by: list[str], max_results: int, page_token: str | None
    ) -> None:
        """Finish with the ``RunsPage`` JSON of a search, from the response cache when the store
        has not changed since (answered here on the loop), else searched in a worker thread."""
        cache = self._fj_context.search_cache()
        key = cache.key(filter_string, order_by, max_results, page_token)
        text = cache.lookup(key)
        if text is None:
            text = await self.run_blocking(cache.compute, key)
        self.set_status(200)
        self.set_header("Content-Type", "application/json")
        self.finish(text)

    def write_model(self, model: pydantic.BaseModel, status: int = 200) -> None:
        """Finish the request with a pydantic model (``model_dump(mode="json")``)."""
        self.write_json(model.model_dump(mode="json"), status)

    # --- errors (the one place exceptions become HTTP status) ---------------
    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info and exc_info[1] is not None:
            status_code, _ = error_status_and_body(exc_info[1])
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if value is None:
            super().log_exception(typ, value, tb)
            return
        status, body = error_status_and_body(value)
        if status >= 500:
            self.log.error(
                "%s %s -> %d:\n%s",
                self.request.method,
                self.request.uri,
                status,
                "".join(traceback.format_exception(typ, value, tb)),
            )
        else:
            self.log.warning(
                "%s %s -> %d: %s", self.request.method, self.request.uri, status, body["message"]
            )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info and exc_info[1] is not None:
            _, body = error_status_and_body(exc_info[1])
        else:
            body = {
                "message": responses.get(status_code, "Error"),
                "errors": [],
                "field": None,
            }
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class PromotionAuthorizedHandler(FraudJlabHandler):
    """Base for production-changing routes.

    Verbs carry both ``@tornado.web.authenticated`` and
    ``@jupyter_server.auth.decorator.authorized`` so a custom ``Authorizer`` can
    allow or deny ``fraud_jlab_promotions`` separately from the rest of Jupyter.
    """

    auth_resource = PROMOTIONS_AUTH_RESOURCE


class ABTestAuthorizedHandler(FraudJlabHandler):
    """Base for A/B test routes: ``@authorized`` against ``fraud_jlab_abtests``.

    Every A/B change switches the production endpoint, so a custom ``Authorizer`` can
    allow or deny it (action "write") and its reads ("read") separately.
    """

    auth_resource = ABTESTS_AUTH_RESOURCE
