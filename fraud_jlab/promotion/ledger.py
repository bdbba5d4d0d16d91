"""The append-only promotion ledger in the config bucket.

Layout (nothing is ever overwritten; every put uses ``IfNoneMatch='*'``):

- ``promotions/<promotion_id>/attempt.json`` written when an attempt starts
  (``status: in_progress``, who, why, the backup keys);
- ``promotions/<promotion_id>.json`` the final :class:`PromotionRecord`
  (``completed``, ``rolled_back`` or ``failed``), written once.

- ``promotions-index/<promotion_id>.json`` written right after a final record:
  a JSON list of up to :data:`INDEX_WINDOW` final records, this one first and
  then the records that were newest when it was written, newest first.

An attempt without a final record is a promotion in progress, or one whose
process died (its lock then expires). Promotion ids are ULIDs, so sorting
keys sorts records by time.

Paging: the set and order of records always comes from listing
``promotions/`` (one ``list_objects_v2`` call per 1000 records, no bodies);
the bodies of a page come from the index entry of its first record (one
``GetObject`` for a page of up to :data:`INDEX_WINDOW` records). A record the
entry does not hold (written before the index existed, or an index write
that failed) is read on its own, so an index entry is only ever a cache of
immutable records, never the source of truth. Writing a record backfills: the
new entry is built from the newest record's entry, or, when that has none,
from the records themselves.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from fraud_jlab.errors import NotFoundError, ValidationError, shorten
from fraud_jlab.promotion.models import PromotionRecord
from fraud_jlab.promotion.state import ProductionStore, aws_step

LEDGER_PREFIX = "promotions/"
INDEX_PREFIX = "promotions-index/"
INDEX_WINDOW = 50
"""Records held by one index entry (a page of up to this many is one GetObject)."""

log = logging.getLogger(__name__)
_ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def attempt_key(promotion_id: str) -> str:
    return f"{LEDGER_PREFIX}{promotion_id}/attempt.json"


def record_key(promotion_id: str) -> str:
    return f"{LEDGER_PREFIX}{promotion_id}.json"


def index_key(promotion_id: str) -> str:
    return f"{INDEX_PREFIX}{promotion_id}.json"


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
        try:
            self.write_index(record)
        except Exception:  # the index is a cache: listing still finds the record
            log.warning("could not write the ledger index entry of %s", record.promotion_id)
        return key

    def write_index(self, record: PromotionRecord) -> None:
        """Write the index entry of ``record``: it and the newest other records."""
        others = [i for i in self.ids() if i != record.promotion_id]
        held: list[PromotionRecord] = [record]
        held.extend(self.records(others[: INDEX_WINDOW - 1]))
        body = json.dumps([r.model_dump(mode="json") for r in held]).encode()
        self.store.put_new("ledger_index", index_key(record.promotion_id), body, "application/json")

    def _read_index(self, promotion_id: str) -> dict[str, PromotionRecord]:
        body, _ = self.store.read_object("read_ledger", index_key(promotion_id))
        if body is None:
            return {}
        try:
            held = [PromotionRecord.model_validate(r) for r in json.loads(body)]
        except ValueError:
            log.warning("ignoring an unreadable ledger index entry for %s", promotion_id)
            return {}
        return {r.promotion_id: r for r in held}

    def records(self, ids: list[str]) -> Iterator[PromotionRecord]:
        """The records of ``ids`` (newest first, as listed), lazily, via the index.

        The index entry of the first id not yet held is read; ids it does not
        hold are read one by one. After an id without an entry (records older
        than the index) the rest are read one by one, not two requests each.
        """
        cache: dict[str, PromotionRecord] = {}
        use_index = True
        for promotion_id in ids:
            if use_index and promotion_id not in cache:
                cache = self._read_index(promotion_id)
                use_index = bool(cache)
            record = cache.get(promotion_id)
            yield record if record is not None else self.get(promotion_id)

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
        records = list(self.records(chosen))
        next_token = chosen[-1] if len(ids) > max_results else None
        return records, next_token

    def latest_completed(self) -> PromotionRecord | None:
        """The newest completed record (promotion or rollback), or None.

        ``recovery`` records are skipped: they restore the state an earlier record put;
        so are endpoint changes (``ab_*``): they do not touch Parameter Store.
        """
        for record in self.records(self.ids()):
            if (
                record.status == "completed"
                and record.kind != "recovery"
                and not record.kind.startswith("ab_")
            ):
                return record
        return None
