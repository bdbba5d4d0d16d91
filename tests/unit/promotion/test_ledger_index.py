"""The ledger index: a page of records is one list call and at most two GetObject calls."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from promotion_env import AwsEnv

from fraud_jlab.promotion.ledger import INDEX_PREFIX, PromotionLedger, record_key
from fraud_jlab.promotion.models import ProductionState, PromotionRecord
from fraud_jlab.promotion.store import ProductionStore

N_RECORDS = 300
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ulid(n: int) -> str:
    """A valid, time-sortable 26-character id for record ``n``."""
    digits = []
    for _ in range(26):
        digits.append(_ALPHABET[n % 32])
        n //= 32
    return "01" + "".join(reversed(digits))[2:]


def _record(n: int) -> PromotionRecord:
    return PromotionRecord(
        promotion_id=_ulid(n),
        kind="promotion",
        status="completed" if n % 3 else "rolled_back",
        run_id=f"run-{n}",
        approver="alice",
        reason=f"promotion {n}",
        timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=n),
        before=ProductionState(ssm={"/fraud-detection/hyperparameters/eta": str(n)}),
        after=ProductionState(ssm={"/fraud-detection/hyperparameters/eta": str(n + 1)}),
        parameter_store_backup_key=f"backups/{n}.yaml",
        metrics={"auc_roc": 0.9},
    )


class _Counter:
    def __init__(self, client: Any) -> None:
        self.calls = 0
        client.meta.events.register("before-call.s3.GetObject", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


def _ledger(env: AwsEnv) -> PromotionLedger:
    return PromotionLedger(
        ProductionStore(env.ssm, env.s3, env.settings.config_bucket, env.settings.ssm_prefix)
    )


def _pages(ledger: PromotionLedger, counter: _Counter) -> tuple[list[str], list[int], float]:
    ids: list[str] = []
    per_page: list[int] = []
    token: str | None = None
    first_page = 0.0
    while True:
        before = counter.calls
        t0 = time.perf_counter()
        records, token = ledger.page(50, token)
        if not ids:
            first_page = time.perf_counter() - t0
        per_page.append(counter.calls - before)
        ids.extend(r.promotion_id for r in records)
        if token is None:
            break
    return ids, per_page, first_page


@pytest.mark.slow  # ~20 s: 300 records written through the index path on moto
def test_page_of_50_is_at_most_two_get_object_calls(aws_env: AwsEnv) -> None:
    ledger = _ledger(aws_env)
    expected = [_ulid(n) for n in range(N_RECORDS)]
    # "before": records written without the index (as by versions before it existed)
    for n in range(N_RECORDS):
        rec = _record(n)
        ledger.store.put_new(
            "ledger_record", record_key(rec.promotion_id), rec.model_dump_json().encode(), "x"
        )
    counter = _Counter(aws_env.s3)
    ids, per_page, legacy_time = _pages(ledger, counter)
    assert ids == sorted(expected, reverse=True)  # still listed without an index
    assert per_page[0] >= 50
    # one more record through write_record backfills the newest entry
    newest = _record(N_RECORDS)
    ledger.write_record(newest)
    # "after": every record written through write_record (fresh bucket contents)
    aws_env.reset()
    for n in range(N_RECORDS):
        ledger.write_record(_record(n))
    assert len([k for k in aws_env.key_set() if k.startswith(INDEX_PREFIX)]) == N_RECORDS
    ids, per_page, indexed_time = _pages(ledger, counter)
    print(
        f"\nGET promotions page of 50 at {N_RECORDS} records: "
        f"without index {legacy_time * 1000:.1f} ms, with index {indexed_time * 1000:.1f} ms; "
        f"GetObject calls per page {per_page}"
    )
    assert ids == sorted(expected, reverse=True)
    assert all(calls <= 2 for calls in per_page), per_page
    assert indexed_time < 5.0
    got = ledger.page(50, None)[0]
    assert got[0] == _record(N_RECORDS - 1)  # index entries hold the full, equal records
    assert ledger.latest_completed() == _record(N_RECORDS - 1)


def test_records_without_index_entries_mix_with_indexed_ones(aws_env: AwsEnv) -> None:
    ledger = _ledger(aws_env)
    for n in range(10):  # legacy records
        rec = _record(n)
        ledger.store.put_new(
            "ledger_record", record_key(rec.promotion_id), rec.model_dump_json().encode(), "x"
        )
    for n in range(10, 20):
        ledger.write_record(_record(n))
    # the first indexed record's entry was backfilled from the legacy ones
    counter = _Counter(aws_env.s3)
    records, token = ledger.page(20, None)
    assert [r.promotion_id for r in records] == [_ulid(n) for n in reversed(range(20))]
    assert token is None and counter.calls == 1
    # an index entry that was lost: the record is still read on its own
    aws_env.s3.delete_object(
        Bucket=aws_env.settings.config_bucket, Key=f"{INDEX_PREFIX}{_ulid(19)}.json"
    )
    records, _ = ledger.page(5, None)
    assert [r.promotion_id for r in records] == [_ulid(n) for n in reversed(range(15, 20))]
    assert records == [_record(n) for n in reversed(range(15, 20))]


def test_index_write_failure_does_not_fail_the_record(aws_env: AwsEnv) -> None:
    ledger = _ledger(aws_env)

    def fail_index(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("Key", "")).startswith(INDEX_PREFIX):
            raise RuntimeError("index put failed")

    aws_env.s3.meta.events.register("before-parameter-build.s3.PutObject", fail_index)
    ledger.write_record(_record(1))
    aws_env.s3.meta.events.unregister("before-parameter-build.s3.PutObject", fail_index)
    assert ledger.page(5, None)[0] == [_record(1)]
