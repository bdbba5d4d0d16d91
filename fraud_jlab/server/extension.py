"""The fraud_jlab Jupyter server extension.

Builds :class:`fraud_jlab.config.FraudJlab` from the server config
(``c.FraudJlab.*``, then ``FRAUD_JLAB_*`` environment overrides), opens the
tracker for ``tracking_uri`` and serves every handler module's routes under
``<base_url>fraud-jlab/api/``.

Once the handlers are in place, every object allocated so far (Jupyter, tornado, pydantic
models, fraud_jlab's modules) is moved out of the garbage collector's reach with
``gc.freeze()``: a full collection then no longer walks them, which took the longest pauses
out of the request latency tail. ``FRAUD_JLAB_GC_FREEZE=0`` leaves the collector as it is
(to measure the difference).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.redact import redact_uri
from fraud_jlab.server import (
    abtest_handlers,
    browse_handlers,
    compare_handlers,
    identity_handlers,
    promotion_handlers,
    runs_handlers,
    tracker_handlers,
)
from fraud_jlab.server.base import FraudJlabContext
from fraud_jlab.tracking.registry import tracker_from_uri

API_PREFIX = runs_handlers.API_PREFIX

#: Handler modules; each exposes ``routes() -> list[tuple[str, type]]``.
ROUTE_MODULES: Sequence[ModuleType] = (
    runs_handlers,
    compare_handlers,
    promotion_handlers,
    abtest_handlers,
    identity_handlers,
    browse_handlers,
    tracker_handlers,
)


def collect_routes(
    modules: Sequence[ModuleType] = ROUTE_MODULES,
) -> list[tuple[str, type[Any]]]:
    """Every ``(path relative to fraud-jlab/api/, handler class)`` the extension serves.

    Raises ValueError when two modules claim the same path.
    """
    table: list[tuple[str, type[Any]]] = []
    seen: dict[str, str] = {}
    for module in modules:
        module_routes: Callable[[], list[tuple[str, type[Any]]]] = module.routes
        for path, handler in module_routes():
            if path in seen:
                raise ValueError(f"route {path!r} defined by {seen[path]} and {module.__name__}")
            seen[path] = module.__name__
            table.append((path, handler))
    return table


def check_unfinished(settings: FraudJlab, tracker: Any, log: logging.Logger | Any) -> int:
    """Log a warning per unfinished promotion (its process died); returns how many.

    Never raises: a failure (no AWS credentials, no bucket) is only logged.
    """
    try:
        from fraud_jlab.promotion import ProductionIntegrator

        pending = ProductionIntegrator(settings=settings, tracker=tracker).unfinished_attempts()
    except Exception as exc:
        log.info("fraud_jlab: could not check for unfinished promotions: %s", exc)
        return 0
    for attempt in pending:
        log.warning(
            "fraud_jlab: %s Recover with POST fraud-jlab/api/production/recover, the "
            "sidebar's Production section or `fraud-jlab recover --reason ...`.",
            attempt.message,
        )
    return len(pending)


def start_unfinished_check(
    settings: FraudJlab, tracker: Any, log: logging.Logger | Any
) -> threading.Thread:
    """Run :func:`check_unfinished` in a daemon thread (start-up never waits on AWS)."""
    thread = threading.Thread(
        target=check_unfinished,
        args=(settings, tracker, log),
        name="fraud-jlab-unfinished-check",
        daemon=True,
    )
    thread.start()
    return thread


class FraudJlabExtension(ExtensionApp):
    """Jupyter server extension serving the fraud_jlab REST API."""

    name = "fraud_jlab"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        settings = FraudJlab(parent=self)
        set_settings(settings)
        tracker = tracker_from_uri(settings.tracking_uri)
        self.fraud_context = FraudJlabContext(
            settings=settings, tracker=tracker, routes=collect_routes()
        )
        self.settings["fraud_jlab_context"] = self.fraud_context
        self.log.info(
            "fraud_jlab: tracking runs with %s at %s",
            type(tracker).__name__,
            redact_uri(settings.tracking_uri),
        )

        self.unfinished_check = start_unfinished_check(settings, tracker, self.log)

    async def stop_extension(self) -> None:
        """Stop taking background jobs (running ones finish in their threads)."""
        context = getattr(self, "fraud_context", None)
        if context is not None:
            context.jobs.shutdown()

    def initialize_handlers(self) -> None:
        for path, handler in self.fraud_context.routes:
            self.handlers.append(
                (url_path_join(API_PREFIX, path), handler, {"context": self.fraud_context})
            )
        if os.environ.get("FRAUD_JLAB_GC_FREEZE", "1").strip() != "0":
            # Collect what start-up left behind, then freeze the survivors (see module doc).
            gc.collect()
            gc.freeze()
