"""ULID-style run ids: 26 Crockford base32 characters, sortable by creation time.

The first 48 bits are the Unix time in milliseconds, the last 80 bits are
random. Within one millisecond in one process the random part is incremented
instead of redrawn, so ids created in a tight loop still sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_MAX_TIME = (1 << 48) - 1
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(timestamp_ms: int | None = None) -> str:
    """A new 26-character ULID for ``timestamp_ms`` (default: now).

    Raises ``ValueError`` when ``timestamp_ms`` does not fit in 48 bits.
    """
    global _last_ms, _last_random
    ms = time.time_ns() // 1_000_000 if timestamp_ms is None else int(timestamp_ms)
    if not 0 <= ms <= _MAX_TIME:
        raise ValueError(f"timestamp_ms must be between 0 and {_MAX_TIME}, got {ms}")
    with _lock:
        if ms == _last_ms and _last_random + 1 < (1 << _RANDOM_BITS):
            rand = _last_random + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_random = ms, rand
    return _encode((ms << _RANDOM_BITS) | rand)


def id_timestamp_ms(ulid: str) -> int:
    """The millisecond timestamp encoded in ``ulid``; raises ``ValueError`` if malformed."""
    if len(ulid) != 26:
        raise ValueError(f"a ULID has 26 characters, got {len(ulid)}")
    value = 0
    for ch in ulid.upper():
        idx = _ALPHABET.find(ch)
        if idx < 0:
            raise ValueError(f"invalid ULID character {ch!r}")
        value = (value << 5) | idx
    return value >> _RANDOM_BITS
