"""Challenger endpoint names: the design's format when it fits, always valid for SageMaker."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from fraud_jlab.abtest import challenger_endpoint_name, experiment_token
from fraud_jlab.errors import ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME

MOMENT = datetime(2024, 1, 15, 10, 30, 0, tzinfo=timezone.utc)


def test_design_example_keeps_the_design_format() -> None:
    name = challenger_endpoint_name("exp-20240115-001", MOMENT)

    assert name == "fraud-detection-challenger-exp-20240115-001-20240115-103000"


def test_ulid_is_kept_whole_with_the_short_prefix() -> None:
    ulid = "01HMBX9ZQK4W8V2T6R3N5P7Y0A"

    name = challenger_endpoint_name(ulid, MOMENT)

    assert name == f"fraud-challenger-{ulid.lower()}-20240115-103000"
    assert len(name) <= 63 and ENDPOINT_NAME.match(name)


def test_long_id_is_truncated_with_a_hash_of_the_original_id() -> None:
    experiment_id = "fraud-xgboost-depth-sweep-with-smote-and-time-features-v12"

    name = challenger_endpoint_name(experiment_id, MOMENT)

    digest = hashlib.sha256(experiment_id.encode()).hexdigest()[:8]
    assert name == f"fraud-challenger-fraud-xgboost-depth-s-{digest}-20240115-103000"
    assert len(name) <= 63 and ENDPOINT_NAME.match(name)
    # Two long ids sharing their first 21 slug characters still get different names.
    other = challenger_endpoint_name(experiment_id + "-b", MOMENT)
    assert other != name


def test_symbols_and_case_are_sanitised() -> None:
    name = challenger_endpoint_name("  Exp_2024/01.15 #3 ", MOMENT)

    assert name == "fraud-detection-challenger-exp-2024-01-15-3-20240115-103000"
    assert experiment_token("  Exp_2024/01.15 #3 ") == "exp-2024-01-15-3"


def test_timestamp_is_utc() -> None:
    eastern = timezone(timedelta(hours=-5))

    name = challenger_endpoint_name("exp-1", datetime(2024, 1, 15, 5, 30, 0, tzinfo=eastern))

    assert name.endswith("-20240115-103000")


@pytest.mark.parametrize("bad", ["", "   ", "---", "#$%^", "实验"])
def test_ids_without_letters_or_digits_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        challenger_endpoint_name(bad, MOMENT)

    assert err.value.field == "experiment_id"
    assert "letter or digit" in str(err.value)


def test_non_string_id_is_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        challenger_endpoint_name(42, MOMENT)  # type: ignore[arg-type]

    assert err.value.field == "experiment_id"
