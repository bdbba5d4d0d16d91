"""One promotion at a time: an S3 lock object created with ``IfNoneMatch='*'``.

The lock body names the holder, the promotion and the expiry. A held,
unexpired lock raises :class:`ConflictError`. An expired lock (its holder
crashed) is replaced with ``IfMatch=<etag it had when read>``, so when two
processes try to take over the same expired lock only one put succeeds.
Release is a delete conditioned on the lock's current ETag, so a process
never deletes a lock someone else took over; a failed delete is retried with
backoff. Should it still fail, the lock stays behind although its promotion is
finished: the same holder's next attempt then takes it over (``IfMatch``)
instead of waiting for the expiry, once the final ledger record of the
promotion named in the lock exists. Anyone else still gets a ConflictError.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS, NOT_FOUND_CODES, PRECONDITION_CODES, map_aws_error
from fraud_jlab.errors import ConflictError
from fraud_jlab.promotion.ledger import record_key

LOCK_KEY = "locks/promotion.lock"
#: Sleeps between the tries of a failed lock release (so 3 tries in all).
RELEASE_RETRY_DELAYS: tuple[float, ...] = (0.05, 0.2)
log = logging.getLogger(__name__)


@dataclass
class LockLease:
    """A held lock: the ETag of our lock object identifies our ownership."""

    etag: str
    token: str
    holder: str
    expires_at: datetime


class PromotionLock:
    """The S3 promotion lock in ``bucket``."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        clock: Callable[[], datetime],
        ttl_seconds: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        release_delays: tuple[float, ...] = RELEASE_RETRY_DELAYS,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        #: Waits between release tries (tests replace it).
        self.sleep = sleep
        self.release_delays = release_delays

    def _body(self, holder: str, token: str, expires: datetime, promotion_id: str | None) -> bytes:
        return json.dumps(
            {
                "holder": holder,
                "promotion_id": promotion_id,
                "token": token,
                "acquired_at": self.clock().isoformat(),
                "expires_at": expires.isoformat(),
            }
        ).encode()

    def _put(
        self, body: bytes, condition: dict[str, str], step: str = "acquire_lock"
    ) -> str | None:
        """Put the lock; ``None`` when the condition failed (someone else holds it)."""
        try:
            resp = self.s3.put_object(
                Bucket=self.bucket,
                Key=LOCK_KEY,
                Body=body,
                ContentType="application/json",
                **condition,
            )
        except AWS_ERRORS as exc:
            if error_code(exc) in PRECONDITION_CODES | NOT_FOUND_CODES:
                return None
            raise map_aws_error(exc, service="s3", step=step, bucket=self.bucket) from exc
        return str(resp["ETag"])

    def acquire(self, holder: str, promotion_id: str | None = None) -> LockLease:
        """Take the lock or raise ConflictError naming the holder and the expiry."""
        token = secrets.token_hex(8)
        expires = self.clock() + self.ttl
        etag = self._put(self._body(holder, token, expires, promotion_id), {"IfNoneMatch": "*"})
        if etag is not None:
            return LockLease(etag, token, holder, expires)
        current = self._read()
        if current is None:
            # Released between our put and our read: one more try, then give up.
            etag = self._put(self._body(holder, token, expires, promotion_id), {"IfNoneMatch": "*"})
            if etag is not None:
                return LockLease(etag, token, holder, expires)
            raise ConflictError("Another promotion just took the promotion lock; try again.")
        info, old_etag = current
        their_expiry = _parse_time(info.get("expires_at"))
        stale_own = self._own_finished(info, holder)
        if their_expiry is not None and their_expiry > self.clock() and not stale_own:
            raise ConflictError(
                f"Another promotion is in progress: the lock s3://{self.bucket}/{LOCK_KEY} is held by "
                f"{info.get('holder', 'unknown')!s} (promotion {info.get('promotion_id') or 'starting'}) "
                f"until {their_expiry.isoformat()}. Production was not changed; try again after it finishes."
            )
        etag = self._put(self._body(holder, token, expires, promotion_id), {"IfMatch": old_etag})
        if etag is None:
            raise ConflictError(
                "Another process took over the expired promotion lock first; production was not changed."
            )
        if stale_own:
            log.warning(
                "Took over our own promotion lock left behind by finished promotion %s (%s)",
                info.get("promotion_id"),
                holder,
            )
        else:
            log.warning(
                "Took over an expired promotion lock held by %s (expired %s)",
                info.get("holder"),
                info.get("expires_at"),
            )
        return LockLease(etag, token, holder, expires)

    def _own_finished(self, info: dict[str, Any], holder: str) -> bool:
        """True when the lock is ``holder``'s and its promotion has its final ledger record."""
        promotion_id = info.get("promotion_id")
        if info.get("holder") != holder or not isinstance(promotion_id, str) or not promotion_id:
            return False
        try:
            self.s3.head_object(Bucket=self.bucket, Key=record_key(promotion_id))
        except AWS_ERRORS as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return False
            raise map_aws_error(exc, service="s3", step="acquire_lock", bucket=self.bucket) from exc
        return True

    def take_over(self, holder: str, etag: str) -> LockLease:
        """Take the lock whose ETag is still ``etag`` (one left by a dead attempt).

        Raises ConflictError when another process changed or took it meanwhile.
        """
        token = secrets.token_hex(8)
        expires = self.clock() + self.ttl
        new_etag = self._put(self._body(holder, token, expires, None), {"IfMatch": etag})
        if new_etag is None:
            raise ConflictError(
                "Another process took the promotion lock while recovery was starting; "
                "production was not changed. Try again."
            )
        return LockLease(new_etag, token, holder, expires)

    def name_promotion(self, lease: LockLease, promotion_id: str) -> None:
        """Record the promotion id in our lock (conditional on still owning it)."""
        etag = self._put(
            self._body(lease.holder, lease.token, lease.expires_at, promotion_id),
            {"IfMatch": lease.etag},
            step="name_lock",
        )
        if etag is None:
            raise ConflictError(
                "The promotion lock was taken over by another process; production was not changed."
            )
        lease.etag = etag

    def release(self, lease: LockLease) -> bool:
        """Delete our lock (only if it is still ours), retrying with backoff.

        False, with a warning, when it could not be deleted: it is no longer ours
        (someone took it over) or every try failed; then the lock stays until it
        expires or until the same holder's next attempt takes it over.
        """
        delays = list(self.release_delays)
        while True:
            try:
                self.s3.delete_object(Bucket=self.bucket, Key=LOCK_KEY, IfMatch=lease.etag)
                return True
            except AWS_ERRORS as exc:
                code = error_code(exc)
                final = not delays or code in PRECONDITION_CODES | NOT_FOUND_CODES
                if final:
                    log.warning(
                        "Could not release the promotion lock s3://%s/%s (%s); it expires at %s "
                        "unless %s's next promotion takes it over",
                        self.bucket,
                        LOCK_KEY,
                        code or exc,
                        lease.expires_at.isoformat(),
                        lease.holder,
                    )
                    return False
                delay = delays.pop(0)
                log.info("Lock release failed (%s); retrying in %.2fs", code or exc, delay)
                self.sleep(delay)

    def _read(self) -> tuple[dict[str, Any], str] | None:
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=LOCK_KEY)
        except AWS_ERRORS as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None
            raise map_aws_error(exc, service="s3", step="acquire_lock", bucket=self.bucket) from exc
        raw = resp["Body"].read()
        try:
            info = json.loads(raw)
        except ValueError:
            info = {}
        if not isinstance(info, dict):
            info = {}
        if "expires_at" not in info and resp.get("LastModified") is not None:
            # An unreadable lock expires one TTL after it was written.
            info["expires_at"] = (resp["LastModified"] + self.ttl).isoformat()
        return info, str(resp["ETag"])


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
