"""Redact credentials from URIs and settings before they are shown or logged.

``redact_uri("mlflow+http://user:pw@host/x?token=abc&run=1")`` ->
``"mlflow+http://***@host/x?token=***&run=1"``: the userinfo of the authority
and the values of secret-looking query parameters (names containing token,
password, secret, key or signature, any case) are replaced with ``***``.
:func:`redact_text` does the same for every URI found inside a longer text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
SECRET_PARAM_WORDS = ("token", "password", "passwd", "secret", "key", "signature")

# scheme://userinfo@  (userinfo: anything up to the first @ before the path)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#@\s]*)@")
# name=value in a query string (after ? or &, or ;)
_QUERY_PARAM = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&#\s;]+)=(?P<value>[^&#\s;'\"]*)")


def _is_secret_name(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in SECRET_PARAM_WORDS)


def _mask_param(match: re.Match[str]) -> str:
    if _is_secret_name(match.group("name")) and match.group("value"):
        return f"{match.group('sep')}{match.group('name')}={MASK}"
    return match.group(0)


def redact_text(text: str) -> str:
    """``text`` with the userinfo of every URI and every secret query value masked."""
    out = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return _QUERY_PARAM.sub(_mask_param, out)


def redact_uri(uri: str) -> str:
    """One URI with its credentials masked (see the module docstring)."""
    return redact_text(uri)


def redact_value(value: Any) -> Any:
    """Strings redacted; mappings and lists redacted recursively; anything else as is."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


__all__ = ["MASK", "redact_text", "redact_uri", "redact_value"]
