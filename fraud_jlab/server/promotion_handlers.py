"""REST handlers for production promotion (API.md "Promotions").

Thin: parse, call :class:`fraud_jlab.promotion.ProductionIntegrator` in a
worker thread, write the model. The approver is never a body field: it is
resolved by :func:`fraud_jlab.identity.resolve_identity` (named Jupyter user,
SageMaker Studio user profile, ``c.FraudJlab.approver``; otherwise production
changes are refused with 403 and dry runs still work); production-changing verbs are also
``@authorized`` against ``fraud_jlab_promotions`` (action "write"), and so are
the reads of promotions and production (action "read", from the HTTP method).
"""

from __future__ import annotations

from typing import Any, Literal

import tornado.web
from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from fraud_jlab.browse.names import resolve_run_ref
from fraud_jlab.errors import NotFoundError
from fraud_jlab.promotion import (
    ProductionIntegrator,
    ProductionView,
    PromotionPlan,
    PromotionRecord,
    PromotionsPage,
)
from fraud_jlab.server.base import FraudJlabHandler, PromotionAuthorizedHandler
from fraud_jlab.server.openapi import Operation, QueryParam

MAX_PAGE = 1000
DEFAULT_PAGE = 50


class PromotionRequest(BaseModel):
    """``POST promotions`` body."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(
        min_length=1,
        description="The tracked run to promote: its id, or its name when unique (400 lists "
        "the matching ids when not).",
    )
    experiment_name: str | None = Field(
        default=None,
        max_length=250,
        description="Experiment a run name in `run_id` is looked up in (default: all).",
    )
    reason: str = Field(
        default="",
        max_length=1000,
        description="Why (recorded in the ledger); required unless dry_run is true.",
    )
    trigger_pipeline: StrictBool = Field(
        default=False, description="Start the production pipeline."
    )
    dry_run: StrictBool = Field(
        default=False, description="Return the diff and gates; write nothing."
    )
    force: StrictBool = Field(default=False, description="Override failed gates (recorded).")


class RollbackRequest(BaseModel):
    """``POST promotions/{promotion_id}/rollback`` body."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000, description="Why (recorded in the ledger).")
    target: Literal["before", "after"] = Field(
        default="after",
        description=(
            "'after' (default): restore the state this record wrote. 'before': undo it, "
            "restore the state before it from its backup (the first record's 'before' is the "
            "production that predates fraud_jlab, GET promotions 'baseline')."
        ),
    )


class RecoverRequest(BaseModel):
    """``POST production/recover`` body."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=1000, description="Why (recorded in the recovery record)."
    )


class RecoverResponse(BaseModel):
    """What ``POST production/recover`` wrote: each attempt's final record, then the
    ``recovery`` record (empty when nothing was unfinished)."""

    model_config = ConfigDict(extra="forbid")

    records: list[PromotionRecord]


def _integrator(handler: FraudJlabHandler) -> ProductionIntegrator:
    # Built inside the worker thread, with the server's boto3 clients (made once).
    context = handler._fj_context
    return ProductionIntegrator(
        settings=handler.fraud_settings,
        tracker=handler.tracker,
        ssm_client=context.aws_client("ssm"),
        s3_client=context.aws_client("s3"),
        sfn_client=context.aws_client("stepfunctions"),
    )


def _promote(handler: FraudJlabHandler, body: PromotionRequest, approver: str) -> Any:
    try:
        run_id = resolve_run_ref(
            body.run_id, tracker=handler.tracker, experiment_name=body.experiment_name
        )
    except NotFoundError:
        # Neither an id nor a name: the integrator checks the rest of the body first
        # (a missing reason is the 400 to fix first), then answers this 404 itself.
        run_id = body.run_id
    return _integrator(handler).promote_run(
        run_id,
        approver=approver,
        reason=body.reason,
        trigger_pipeline=body.trigger_pipeline,
        dry_run=body.dry_run,
        force=body.force,
    )


class PromotionsHandler(PromotionAuthorizedHandler):
    """``GET promotions`` (the ledger) and ``POST promotions`` (promote a run)."""

    operations = {
        "get": Operation(
            operation_id="listPromotions",
            summary="The promotion ledger, newest first",
            tags=("promotions",),
            query=(
                QueryParam(
                    "max_results",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
                    "Page size.",
                ),
                QueryParam(
                    "page_token", {"type": "string"}, "`next_page_token` of the previous page."
                ),
            ),
            responses={200: PromotionsPage},
            errors=(502,),
        ),
        "post": Operation(
            operation_id="promoteRun",
            summary="Promote a run to production (all-or-nothing), or plan it with dry_run",
            description=(
                "200 with a PromotionPlan for dry_run (nothing written); otherwise 201 with the "
                "ledger record. 409 when another promotion holds the lock or production changed "
                "meanwhile; 502 when an AWS call failed (the message says 'production unchanged' "
                "when everything was restored and verified)."
            ),
            tags=("promotions",),
            request_model=PromotionRequest,
            responses={200: PromotionPlan, 201: PromotionRecord},
            errors=(404, 409, 502),
        ),
    }

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        max_results = self.query_int("max_results", DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
        page_token = self.query_str("page_token") or None
        page = await self.run_blocking(
            lambda: _integrator(self).list_promotions(max_results, page_token), pool="aws"
        )
        self.write_model(page)

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(PromotionRequest)
        identity = self.approver_identity()
        approver = identity.approver_or_dry_run() if body.dry_run else identity.require()
        result = await self.run_blocking(_promote, self, body, approver, pool="aws")
        self.write_model(result, status=200 if isinstance(result, PromotionPlan) else 201)


class PromotionHandler(PromotionAuthorizedHandler):
    """``GET promotions/{promotion_id}``."""

    operations = {
        "get": Operation(
            operation_id="getPromotion",
            summary="One ledger record, with the live pipeline status when one was started",
            tags=("promotions",),
            path_params={"promotion_id": "Promotion id (26-character ULID)."},
            responses={200: PromotionRecord},
            errors=(404, 502),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def get(self, promotion_id: str) -> None:
        record = await self.run_blocking(
            lambda: _integrator(self).get_promotion(promotion_id), pool="aws"
        )
        self.write_model(record)


class RollbackHandler(PromotionAuthorizedHandler):
    """``POST promotions/{promotion_id}/rollback``: restore that promotion's state."""

    operations = {
        "post": Operation(
            operation_id="rollbackToPromotion",
            summary=(
                "Restore the production state an earlier record wrote (target 'after') or the "
                "state before it (target 'before': undo it), all-or-nothing"
            ),
            tags=("promotions",),
            path_params={"promotion_id": "The ledger record whose state to restore or undo."},
            request_model=RollbackRequest,
            responses={201: PromotionRecord},
            errors=(404, 409, 502),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def post(self, promotion_id: str) -> None:
        body = self.parse_body(RollbackRequest)
        approver = self.approver_identity().require()
        record = await self.run_blocking(
            lambda: _integrator(self).rollback_to(
                promotion_id, approver=approver, reason=body.reason, target=body.target
            ),
            pool="aws",
        )
        self.write_model(record, status=201)


class ProductionHandler(PromotionAuthorizedHandler):
    """``GET production``: what is live and which promotion put it there."""

    operations = {
        "get": Operation(
            operation_id="getProduction",
            summary="Live SSM hyperparameters, config file and the promotion behind them",
            tags=("promotions",),
            responses={200: ProductionView},
            errors=(502,),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        view = await self.run_blocking(lambda: _integrator(self).current_production(), pool="aws")
        self.write_model(view)


class RecoverHandler(PromotionAuthorizedHandler):
    """``POST production/recover``: restore production from attempts whose process died."""

    operations = {
        "post": Operation(
            operation_id="recoverProduction",
            summary=(
                "Restore the state before every unfinished promotion (its process died) "
                "and record it"
            ),
            tags=("promotions",),
            request_model=RecoverRequest,
            responses={200: RecoverResponse},
            errors=(409, 502),
        )
    }

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(RecoverRequest)
        approver = self.approver_identity().require()
        records = await self.run_blocking(
            lambda: _integrator(self).recover(approver=approver, reason=body.reason), pool="aws"
        )
        self.write_model(RecoverResponse(records=records))


def routes() -> list[tuple[str, type]]:
    """Promotion routes relative to ``fraud-jlab/api/``."""
    return [
        (r"promotions", PromotionsHandler),
        (r"promotions/(?P<promotion_id>[^/]+)/rollback", RollbackHandler),
        (r"promotions/(?P<promotion_id>[^/]+)", PromotionHandler),
        (r"production/recover", RecoverHandler),
        (r"production", ProductionHandler),
    ]
