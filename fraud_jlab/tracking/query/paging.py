"""Paging shared by every tracking backend: ``max_results`` bounds and opaque page tokens.

A page token is the offset of the next page plus a fingerprint of the filter and order it
belongs to, so a token reused with another filter is rejected instead of paging wrongly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence

from fraud_jlab.errors import ValidationError
from fraud_jlab.tracking.query.filters import Node, OrderKey, render_filter, render_order_by

MAX_RESULTS_LIMIT = 1000
#: Longest page token accepted (the tokens this module writes are about 40 characters).
MAX_TOKEN_LENGTH = 256


def check_max_results(max_results: object) -> int:
    """``max_results`` if it is an int in 1..1000, else ValidationError naming the range."""
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_RESULTS_LIMIT
    ):
        raise ValidationError(
            f"max_results must be an integer between 1 and {MAX_RESULTS_LIMIT}, got {max_results!r}",
            field="max_results",
        )
    return max_results


def fingerprint(node: Node | None, keys: Sequence[OrderKey]) -> str:
    """Short hash binding a page token to its filter and order."""
    text = render_filter(node) + "\n" + render_order_by(list(keys))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(offset: int, print_: str) -> str:
    """An opaque page token for ``offset`` in the search identified by ``print_``."""
    raw = json.dumps({"o": offset, "f": print_}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, print_: str) -> int:
    """The offset in ``token``; ValidationError (field ``page_token``) if foreign or malformed."""
    if token is None or token == "":
        return 0
    try:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("not a page token")
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset, token_print = data["o"], data["f"]
    except (ValueError, TypeError, KeyError, binascii.Error, RecursionError):
        raise ValidationError(
            "page_token is not a token returned by this search", field="page_token"
        ) from None
    if not isinstance(offset, int) or offset < 0 or token_print != print_:
        raise ValidationError(
            "page_token belongs to a search with a different filter or order_by; "
            "repeat the same filter and order_by, or start without a page_token",
            field="page_token",
        )
    return offset
