"""Error bodies never echo hostile input in full: a 40 KB id gets a small 4xx body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fraud_jlab.errors import NotFoundError, ValidationError, shorten
from fraud_jlab.promotion.ledger import check_promotion_id
from fraud_jlab.server.errors import MAX_ERROR_MESSAGE, error_status_and_body

HUGE = "A" * 40_000


def test_shorten_keeps_short_values_and_cuts_long_ones() -> None:
    assert shorten("abc") == "'abc'"
    cut = shorten(HUGE)
    assert cut.endswith("... (40000 characters)") and len(cut) < 140


def test_not_found_and_ledger_id_messages_are_short() -> None:
    assert len(str(NotFoundError("run", HUGE))) < 200
    with pytest.raises(ValidationError) as info:
        check_promotion_id(HUGE)
    assert len(str(info.value)) < 250 and "40000 characters" in str(info.value)


def test_error_body_is_capped() -> None:
    exc = ValidationError("x" * 50_000, field="f" * 5000, errors=["e" * 5000] * 500)
    status, body = error_status_and_body(exc)
    assert status == 400
    assert len(body["message"]) < MAX_ERROR_MESSAGE + 60
    assert len(json.dumps(body)) < 10_000


@pytest.mark.parametrize(
    ("path", "expected"),
    [(("runs", HUGE), 404), (("promotions", HUGE), 400)],
    ids=["run", "promotion"],
)
async def test_huge_id_gets_a_small_error_body(
    jp_fetch: Any, path: tuple[str, ...], expected: int
) -> None:
    response = await jp_fetch("fraud-jlab", "api", *path, raise_error=False)
    assert response.code == expected, response.body[:300]
    assert len(response.body) < 2048, len(response.body)
    assert "40000 characters" in json.loads(response.body)["message"]
