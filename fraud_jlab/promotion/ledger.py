"""The append-only promotion ledger in the config bucket.

Layout (nothing is ever overwritten; every put uses ``IfNoneMatch='*'``):

- ``promotions/<promotion_id>/attempt.json`` written when an attempt starts
  (``status: in_progress``, who, why, the backup keys);
- ``promotions/<promotion_id>.json`` the final :class:`PromotionRecord`
  (``completed``, ``rolled_back`` or ``failed``), written once.

An attempt without a final record is a promotion in progress, or one whose
process died (its lock then expires). Promotion ids are ULIDs, so sorting
keys sorts records by time.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fraud_jlab.errors import NotFoundError, ValidationError, shorten
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.promotion.state import ProductionStore, aws_step

LEDGER_PREFIX = "promotions/"
_ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def attempt_key(promotion_id: str) -> str:
    return f"{LEDGER_PREFIX}{promotion_id}/attempt.json"


def record_key(promotion_id: str) -> str:
    return f"{LEDGER_PREFIX}{promotion_id}.json"


def check_promotion_id(promotion_id: str, field: str = "promotion_id") -> str:
    """Raise ValidationError unless ``promotion_id`` is a 26-character ULID."""
    if not isinstance(promotion_id, str) or not _ID_RE.match(promotion_id):
        raise ValidationError(
            f"{field} must be a 26-character promotion id (ULID), got {shorten(promotion_id)}",
            field=field,
        )
    return promotion_id


class PromotionLedger:
    """Read and append promotion records."""

    def __init__(self, store: ProductionStore) -> None:
        self.store = store

    def write_attempt(self, promotion_id: str, attempt: dict[str, Any]) -> str:
        key = attempt_key(promotion_id)
        self.store.put_new("ledger_attempt", key, json.dumps(attempt).encode(), "application/json")
        return key

    def write_record(self, record: PromotionRecord) -> str:
        key = record_key(record.promotion_id)
        self.store.put_new(
            "ledger_record", key, record.model_dump_json().encode(), "application/json"
        )
        return key

    def get(self, promotion_id: str) -> PromotionRecord:
        """One record; raises NotFoundError for an unknown id."""
        check_promotion_id(promotion_id)
        body, _ = self.store.read_object("read_ledger", record_key(promotion_id))
        if body is None:
            raise NotFoundError(
                "promotion",
                promotion_id,
                "List promotions with GET promotions or list_promotions().",
            )
        return PromotionRecord.model_validate_json(body)

    def ids(self) -> list[str]:
        """Every final record's id, newest first."""
        out: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "Bucket": self.store.bucket,
                "Prefix": LEDGER_PREFIX,
                "Delimiter": "/",
            }
            if token:
                kwargs["ContinuationToken"] = token

            resp = aws_step("read_ledger", "s3", self.store.s3.list_objects_v2, **kwargs)
            for item in resp.get("Contents", []):
                name = item["Key"][len(LEDGER_PREFIX) :]
                if name.endswith(".json") and _ID_RE.match(name[:-5]):
                    out.append(name[:-5])
            token = resp.get("NextContinuationToken")
            if not resp.get("IsTruncated") or not token:
                break
        return sorted(out, reverse=True)

    def page(
        self, max_results: int, page_token: str | None
    ) -> tuple[list[PromotionRecord], str | None]:
        """Records newest first; ``page_token`` is the last id of the previous page."""
        if (
            not isinstance(max_results, int)
            or isinstance(max_results, bool)
            or not 1 <= max_results <= 1000
        ):
            raise ValidationError(
                f"max_results must be an integer between 1 and 1000, got {max_results!r}",
                field="max_results",
            )
        ids = self.ids()
        if page_token:
            check_promotion_id(page_token, field="page_token")
            ids = [i for i in ids if i < page_token]
        chosen = ids[:max_results]
        records = [self.get(i) for i in chosen]
        next_token = chosen[-1] if len(ids) > max_results else None
        return records, next_token

    def latest_completed(self) -> PromotionRecord | None:
        """The newest completed record (promotion or rollback), or None."""
        for promotion_id in self.ids():
            record = self.get(promotion_id)
            if record.status == "completed":
                return record
        return None
