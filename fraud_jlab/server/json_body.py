"""Decoding untrusted JSON request bodies without crashing: bounded nesting, no lone surrogates.

``json.loads`` recurses once per nesting level, so a body nested ~1,000 deep raises
RecursionError (a 500) and a deeper one may exhaust the stack; and ``"\\ud800"``
decodes to a lone surrogate that cannot be encoded later (UnicodeEncodeError, a 500).
:func:`load_json_body` rejects both as ValidationError (400) first:

* nesting deeper than ``MAX_BODY_DEPTH`` (64) arrays/objects is rejected by a
  linear scan of the raw text, before ``json.loads`` runs;
* any string (value or object key) holding a lone surrogate (U+D800..U+DFFF) is
  rejected naming the top-level field it sits under.
"""

from __future__ import annotations

import json
import re

from fraud_jlab.errors import ValidationError

#: Deepest nesting of JSON arrays/objects accepted in a request body.
MAX_BODY_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _max_depth(raw: bytes) -> int:
    """The deepest ``[``/``{`` nesting of ``raw`` outside string literals (one pass, no recursion)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def check_strings(data: object) -> None:
    """ValidationError naming the field if any string in ``data`` has a lone surrogate."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        items: list[tuple[object, tuple[str | int, ...]]] = []
        if isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    where = _path(path) if path else "body"
                    raise ValidationError(
                        f"{where} has a key with a lone UTF-16 surrogate (U+D800..U+DFFF); "
                        "keys must be valid Unicode text",
                        field=str(path[0]) if path else "body",
                    )
                items.append((item, (*path, key)))
        elif isinstance(value, list):
            items = [(item, (*path, i)) for i, item in enumerate(value)]
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise ValidationError(
                f"{_path(path)} contains a lone UTF-16 surrogate (U+D800..U+DFFF); "
                "strings must be valid Unicode text",
                field=str(path[0]) if path else "body",
            )
        stack.extend(reversed(items))


def load_json_body(raw: bytes) -> object:
    """``json.loads(raw)`` for a request body; ValidationError (400) for anything hostile."""
    if not raw.strip():
        raise ValidationError("Request body is empty; expected a JSON object", field="body")
    depth = _max_depth(raw)
    if depth > MAX_BODY_DEPTH:
        raise ValidationError(
            f"Request body nests arrays/objects {depth} deep: allowed 1..{MAX_BODY_DEPTH}",
            field="body",
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"Request body is not valid JSON: {exc}", field="body") from exc
    except RecursionError:  # defensive: the depth scan should have caught this
        raise ValidationError(
            f"Request body nests too deeply: allowed 1..{MAX_BODY_DEPTH}", field="body"
        ) from None
    check_strings(data)
    return data
