"""The search-space table: canonical names, aliases, defaults and range errors."""

from __future__ import annotations

import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.tuning.space import (
    CANONICAL_NAMES,
    SEARCH_SPACE,
    canonicalize,
    check_range,
    default_parameter_ranges,
    format_param,
)


def test_canonical_names_are_the_six_promotion_writes() -> None:
    assert CANONICAL_NAMES == (
        "objective",
        "num_round",
        "max_depth",
        "eta",
        "subsample",
        "colsample_bytree",
    )


def test_sklearn_aliases_translate_and_defaults_fill_the_rest() -> None:
    params = canonicalize({"learning_rate": 0.1, "n_estimators": 150, "max_depth": 4})
    assert params == {
        "objective": "binary:logistic",
        "num_round": 150,
        "max_depth": 4,
        "eta": 0.1,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
    }
    assert isinstance(params["num_round"], int)
    assert isinstance(params["eta"], float)


def test_design_ranges_are_the_table() -> None:
    ranges = default_parameter_ranges()
    assert (ranges["max_depth"].min_value, ranges["max_depth"].max_value) == (3, 10)
    assert (ranges["eta"].min_value, ranges["eta"].max_value) == (0.01, 0.3)
    assert (ranges["num_round"].min_value, ranges["num_round"].max_value) == (50, 200)
    assert ranges["subsample"].type == "Continuous"
    assert ranges["max_depth"].type == "Integer"
    assert "objective" not in ranges


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"max_depth": 11}, "max_depth", "an integer in [3, 10]"),
        ({"learning_rate": 0.5}, "learning_rate", "a number in [0.01, 0.3]"),
        ({"n_estimators": 10}, "n_estimators", "an integer in [50, 200]"),
        ({"subsample": 0.2}, "subsample", "a number in [0.5, 1]"),
        ({"max_depth": 4.5}, "max_depth", "an integer in [3, 10]"),
        ({"eta": "0.1"}, "eta", "a number in [0.01, 0.3]"),
        ({"objective": "reg:squarederror"}, "objective", "'binary:logistic'"),
    ],
)
def test_out_of_range_value_names_param_and_range(
    params: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(ValidationError) as err:
        canonicalize(params)
    assert err.value.field == f"params.{field}"
    assert field in str(err.value)
    assert allowed in str(err.value)


def test_unknown_name_lists_allowed_names() -> None:
    with pytest.raises(ValidationError, match=r"gamma.*allowed: objective, num_round"):
        canonicalize({"gamma": 1})


def test_name_and_alias_together_rejected() -> None:
    with pytest.raises(ValidationError, match="'eta'"):
        canonicalize({"eta": 0.1, "learning_rate": 0.2})


def test_check_range_rejects_ranges_leaving_the_space() -> None:
    with pytest.raises(ValidationError, match=r"max_depth.*\[3, 10\]"):
        check_range(
            "max_depth",
            ParameterRange(type="Integer", min_value=1, max_value=20),
            field="r.max_depth",
        )
    with pytest.raises(ValidationError, match="Integer range"):
        check_range(
            "max_depth",
            ParameterRange(type="Continuous", min_value=3, max_value=5),
            field="r.max_depth",
        )


def test_format_param_keeps_floats_exact() -> None:
    assert format_param(0.1) == "0.1"
    assert float(format_param(0.14382901505335025)) == 0.14382901505335025
    assert format_param(150) == "150"
    assert SEARCH_SPACE["eta"].describe() == "a number in [0.01, 0.3]"
