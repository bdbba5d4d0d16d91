"""Property 2: hyperparameter validation reports every problem with name, value and range."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_jlab.errors import ValidationError
from fraud_jlab.promotion.validation import ALLOWED_OBJECTIVES, validate_hyperparameters

# name -> (integer?, low, low inclusive?, high, range text the message must show)
SPEC = {
    "max_depth": (True, 1, True, 20, "[1, 20]"),
    "num_round": (True, 1, True, 1000, "[1, 1000]"),
    "eta": (False, 0.0, False, 1.0, "(0, 1]"),
    "subsample": (False, 0.0, False, 1.0, "(0, 1]"),
    "colsample_bytree": (False, 0.0, False, 1.0, "(0, 1]"),
}
REQUIRED = ("objective", *SPEC)

# A candidate value and the number it denotes (None: not a number at all).
numeric_values = st.one_of(
    st.integers(-50, 1500).map(lambda v: (v, float(v))),
    st.floats(-2.0, 30.0).map(lambda v: (v, v)),
    st.sampled_from([float("nan"), float("inf"), 0.0, 1.0, 1.0000001, 20.0, 20.5]).map(
        lambda v: (v, v)
    ),
    st.integers(-5, 1200).map(lambda v: (str(v), float(v))),
    st.floats(0.0, 1.5, allow_nan=False).map(lambda v: (repr(v), v)),
    st.sampled_from([True, False, None, "abc", "", [1], {"a": 1}]).map(lambda v: (v, None)),
)
objective_values = st.one_of(
    st.sampled_from(ALLOWED_OBJECTIVES), st.text(max_size=12), st.sampled_from([None, 3, True])
)


def _number_ok(name: str, number: float | None, raw: Any) -> bool:
    is_int, low, low_inclusive, high, _ = SPEC[name]
    if number is None or isinstance(raw, bool) or not math.isfinite(number):
        return False
    if is_int and not float(number).is_integer():
        return False
    above = number >= low if low_inclusive else number > low
    return above and number <= high


@settings(max_examples=100, deadline=None)
@given(
    present=st.sets(st.sampled_from(REQUIRED)),
    numbers=st.fixed_dictionaries({n: numeric_values for n in SPEC}),
    objective=objective_values,
    extras=st.sets(st.sampled_from(["gamma", "alpha", "learning_rate", "eval_metric"]), max_size=2),
)
def test_property_2_hyperparameter_validation(
    present: set[str],
    numbers: dict[str, tuple[Any, float | None]],
    objective: Any,
    extras: set[str],
) -> None:
    hp: dict[str, Any] = {n: numbers[n][0] for n in SPEC if n in present}
    if "objective" in present:
        hp["objective"] = objective
    hp.update({e: 1 for e in extras})
    bad_values = {
        n for n in SPEC if n in present and not _number_ok(n, numbers[n][1], numbers[n][0])
    }
    objective_bad = "objective" in present and not (
        isinstance(objective, str) and objective.strip() in ALLOWED_OBJECTIVES
    )
    missing = [n for n in REQUIRED if n not in present]
    if not bad_values and not objective_bad and not missing and not extras:
        clean = validate_hyperparameters(hp)
        assert set(clean) == set(REQUIRED)
        for n in SPEC:
            assert clean[n] == numbers[n][1]
        return
    with pytest.raises(ValueError) as info:
        validate_hyperparameters(hp)
    err = info.value
    assert isinstance(err, ValidationError)
    text = str(err)
    # every problem is reported at once, each naming the parameter, its value and the range
    for name in bad_values:
        [message] = [m for m in err.errors if f"'{name}'" in m]
        assert repr(hp[name]) in message and SPEC[name][4] in message
    if objective_bad:
        [message] = [m for m in err.errors if "'objective'" in m]
        assert repr(objective) in message and "binary:logistic" in message
    for name in missing:
        assert name in text
    for name in extras:
        assert name in text
    assert len(err.errors) == len(bad_values) + objective_bad + bool(missing) + bool(extras)
