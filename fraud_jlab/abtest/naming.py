"""Challenger endpoint names that carry the experiment id and a timestamp (Property 21).

The design's name is ``fraud-detection-challenger-{experiment_id}-{YYYYmmdd-HHMMSS}``.
SageMaker accepts at most 63 characters matching ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``,
so the experiment id is first turned into a *slug* (lower case, every run of characters
other than ``a-z0-9`` becomes one ``-``, no leading/trailing ``-``) and then:

* slug of at most 20 characters: ``fraud-detection-challenger-{slug}-{timestamp}``
  (exactly the design's name for ids such as ``exp-20240115-001``);
* slug of 21-30 characters (a 26-character ULID, say): the shorter prefix
  ``fraud-challenger-{slug}-{timestamp}``;
* longer slugs are truncated: ``fraud-challenger-{slug[:21]}-{hash8}-{timestamp}`` where
  ``hash8`` is the first 8 hex digits of SHA-256 of the original experiment id, so two long
  ids with the same first 21 slug characters still get different names.

The timestamp is always complete and in UTC. :func:`experiment_token` returns the part
that stands for the experiment id. Ids that differ only in case or punctuation share a
slug; their names differ by timestamp only.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME

MAX_NAME_LENGTH = 63
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
TIMESTAMP_LENGTH = 15
FULL_PREFIX = "fraud-detection-challenger-"
SHORT_PREFIX = "fraud-challenger-"
#: Longest slug that fits with the design's prefix (63 - 27 - 1 - 15).
FULL_PREFIX_SLUG_MAX = MAX_NAME_LENGTH - len(FULL_PREFIX) - 1 - TIMESTAMP_LENGTH
#: Longest experiment token that fits with the short prefix (63 - 17 - 1 - 15).
SHORT_PREFIX_TOKEN_MAX = MAX_NAME_LENGTH - len(SHORT_PREFIX) - 1 - TIMESTAMP_LENGTH
HASH_LENGTH = 8
#: Slug characters kept when an id is truncated (30 - 1 - 8).
TRUNCATED_SLUG_LENGTH = SHORT_PREFIX_TOKEN_MAX - 1 - HASH_LENGTH

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NAME_TAIL = re.compile(r"-(\d{8}-\d{6})$")


def experiment_slug(experiment_id: str) -> str:
    """``experiment_id`` in lower case with each run of other characters replaced by ``-``.

    Raises ValidationError (field ``experiment_id``) when nothing usable is left.
    """
    if not isinstance(experiment_id, str):
        raise ValidationError(
            f"experiment_id must be a string, got {type(experiment_id).__name__}",
            field="experiment_id",
        )
    slug = _NON_ALNUM.sub("-", experiment_id.lower()).strip("-")
    if not slug:
        raise ValidationError(
            "experiment_id must contain at least one ASCII letter or digit "
            f"(endpoint names allow only a-z, 0-9 and '-'), got {experiment_id!r}",
            field="experiment_id",
        )
    return slug


def experiment_token(experiment_id: str) -> str:
    """The form of ``experiment_id`` that appears in its challenger endpoint names.

    The slug itself when it has at most 30 characters, else its first 21 characters
    (without a trailing ``-``) plus ``-`` and an 8-hex-digit hash of the original id.
    """
    slug = experiment_slug(experiment_id)
    if len(slug) <= SHORT_PREFIX_TOKEN_MAX:
        return slug
    digest = hashlib.sha256(experiment_id.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    return f"{slug[:TRUNCATED_SLUG_LENGTH].rstrip('-')}-{digest}"


def format_timestamp(moment: datetime) -> str:
    """``YYYYmmdd-HHMMSS`` of ``moment`` in UTC (a naive datetime is taken as UTC)."""
    if not isinstance(moment, datetime):
        raise ValidationError(
            f"moment must be a datetime, got {type(moment).__name__}", field="moment"
        )
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime(TIMESTAMP_FORMAT)


def challenger_endpoint_name(experiment_id: str, moment: datetime) -> str:
    """The SageMaker-valid challenger endpoint name for ``experiment_id`` deployed at ``moment``.

    >>> challenger_endpoint_name("exp-20240115-001", datetime(2024, 1, 15, 10, 30))
    'fraud-detection-challenger-exp-20240115-001-20240115-103000'

    Raises ValidationError (field ``experiment_id``) for an id without letters or digits.
    """
    token = experiment_token(experiment_id)
    prefix = FULL_PREFIX if len(token) <= FULL_PREFIX_SLUG_MAX else SHORT_PREFIX
    name = f"{prefix}{token}-{format_timestamp(moment)}"
    # Both checks hold by construction; keep them so a future edit cannot break SageMaker.
    assert len(name) <= MAX_NAME_LENGTH and ENDPOINT_NAME.fullmatch(name), name
    return name


def token_from_endpoint_name(endpoint_name: str) -> str | None:
    """The experiment token of a name made by :func:`challenger_endpoint_name`, else None."""
    match = _NAME_TAIL.search(endpoint_name)
    if match is None:
        return None
    for prefix in (FULL_PREFIX, SHORT_PREFIX):
        if endpoint_name.startswith(prefix):
            token = endpoint_name[len(prefix) : match.start()]
            return token or None
    return None
