"""Credentials in URIs and settings are masked wherever they are shown or logged."""

from __future__ import annotations

import pytest

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import ValidationError
from fraud_jlab.redact import redact_text, redact_uri, redact_value
from fraud_jlab.tracking.registry import tracker_from_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlflow+http://user:password@host/", "mlflow+http://***@host/"),
        ("https://token@host:5000/path", "https://***@host:5000/path"),
        ("http://host:5000/x?run=1&token=abc", "http://host:5000/x?run=1&token=***"),
        (
            "s3://b/k?X-Amz-Signature=deadbeef&X-Amz-Credential=c&api_key=k1&Password=p&secret=s",
            "s3://b/k?X-Amz-Signature=***&X-Amz-Credential=c&api_key=***&Password=***&secret=***",
        ),
        ("sqlite:////tmp/runs.db", "sqlite:////tmp/runs.db"),
        ("/tmp/runs.db", "/tmp/runs.db"),
        ("http://host/?monkey=1", "http://host/?monkey=***"),
    ],
)
def test_redact_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


def test_redact_text_masks_every_uri_in_a_sentence() -> None:
    text = "cannot open 'http://a:b@h1/' nor http://h2/?password=pw refused"
    assert redact_text(text) == "cannot open 'http://***@h1/' nor http://h2/?password=*** refused"


def test_redact_value_recurses() -> None:
    value = {"a": ["http://u:p@h/"], "b": 3, "c": {"d": "x?token=t"}}
    assert redact_value(value) == {"a": ["http://***@h/"], "b": 3, "c": {"d": "x?token=***"}}


def test_public_dict_masks_the_tracking_uri_password() -> None:
    settings = FraudJlab(tracking_uri="mlflow+http://user:password@host/?token=tok123")
    shown = settings.public_dict()
    assert shown["tracking_uri"] == "mlflow+http://***@host/?token=***"
    assert "password" not in repr(shown) and "tok123" not in repr(shown)
    assert settings.tracking_uri.endswith("?token=tok123")  # the real value is untouched


def test_unknown_scheme_error_does_not_echo_the_password() -> None:
    with pytest.raises(ValidationError) as info:
        tracker_from_uri("nosuch://user:hunter2@host/")
    assert "hunter2" not in str(info.value) and "***@host" in str(info.value)
