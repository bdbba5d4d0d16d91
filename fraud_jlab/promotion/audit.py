"""The frame of every audited production change: the promotion lock, the ledger, retried restores.

A Parameter Store promotion (``transaction.py``) and a SageMaker endpoint change
(``endpoint_change.py``) both run inside :meth:`Audit.run`:

1. take the S3 promotion lock (ConflictError while another change holds it; an AWS
   failure is amended "Production unchanged.");
2. name a fresh promotion id (a ULID) in the lock;
3. the change itself: it writes its ledger attempt (:meth:`Audit.begin`) before it
   changes production and its final record after, or, when it fails, restores
   production (each restore call through :meth:`Audit.retrying`) and records the
   outcome (:meth:`Audit.finish`);
4. release the lock in ``finally``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import amended
from fraud_jlab.errors import AwsOperationError
from fraud_jlab.promotion.ledger import PromotionLedger
from fraud_jlab.promotion.lock import PromotionLock
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.tracking.ids import new_id

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Sleeps between the tries of a failed restore call (so 3 tries in all).
RESTORE_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.2)


@dataclass
class Audit:
    """The lock and ledger one audited change runs with (see the module docstring)."""

    lock: PromotionLock
    ledger: PromotionLedger
    clock: Callable[[], datetime]
    #: Called with the seconds to wait between the tries of a failed restore call.
    sleep: Callable[[float], None] = time.sleep
    retry_delays: tuple[float, ...] = RESTORE_RETRY_DELAYS

    def run(self, holder: str, body: Callable[[str], T]) -> T:
        """``body(promotion_id)`` under the promotion lock, the id named in the lock.

        Raises ConflictError (the lock is held, nothing written) and the mapped AWS
        errors of taking the lock (amended: production unchanged).
        """
        with amended("Production unchanged.", production_unchanged=True):
            lease = self.lock.acquire(holder)
        try:
            promotion_id = new_id(int(self.clock().timestamp() * 1000))
            with amended(
                f"Production unchanged (change {promotion_id}).", production_unchanged=True
            ):
                self.lock.name_promotion(lease, promotion_id)
            return body(promotion_id)
        finally:
            self.lock.release(lease)

    def begin(self, record: PromotionRecord) -> None:
        """Write the ledger attempt of ``record`` (``in_progress``) before production changes."""
        attempt = record.model_dump(mode="json") | {"status": "in_progress"}
        self.ledger.write_attempt(record.promotion_id, attempt)

    def finish(self, record: PromotionRecord, step: str, message: str, status: str) -> None:
        """Write the final record of a failed attempt (``rolled_back`` or ``failed``)."""
        record.status = "failed" if status == "failed" else "rolled_back"
        record.failed_step = step
        record.error = message
        try:
            self.ledger.write_record(record)
        except AwsOperationError as exc:
            log.error("Could not write ledger record %s: %s", record.promotion_id, exc)

    def retrying(self, fn: Callable[[], T]) -> T:
        """``fn()``, retried with backoff on a failed AWS call (``retry_delays`` sleeps between tries)."""
        for delay in self.retry_delays:
            try:
                return fn()
            except AwsOperationError as exc:
                log.warning(
                    "Restore step %s failed (%s); retrying in %.2fs",
                    exc.step,
                    failure_code(exc),
                    delay,
                )
                self.sleep(delay)
        return fn()


def failure_code(exc: AwsOperationError) -> str:
    """The AWS code of a failed call for a log line or a problem (the error when it has none)."""
    cause = exc.__cause__
    return (
        exc.aws_error_code or (error_code(cause) if cause is not None else "") or str(cause or exc)
    )


def root_cause(exc: BaseException) -> tuple[BaseException, str]:
    """The exception an AWS call raised under a mapped error (else ``exc``) and its code."""
    inner = exc.__cause__ if isinstance(exc, AwsOperationError) and exc.__cause__ else exc
    return inner, error_code(inner) or type(inner).__name__


__all__ = ["RESTORE_RETRY_DELAYS", "Audit", "failure_code", "root_cause"]
