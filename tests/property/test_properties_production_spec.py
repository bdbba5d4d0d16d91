"""Per-algorithm production hyperparameters: every allowed value round-trips through a run's
string params, every value outside the range is refused naming the field and the range."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraud_jlab.errors import ValidationError
from fraud_jlab.promotion.algorithms import ALGORITHMS, Spec, normalise_for_algorithm
from fraud_jlab.tuning.space import format_param

BASE: dict[str, dict[str, str]] = {
    "xgboost": {"objective": "binary:logistic", "num_round": "10", "max_depth": "3",
                "eta": "0.3", "subsample": "1.0", "colsample_bytree": "1.0"},
    "lightgbm": {}, "random_forest": {}, "mlp": {},
}  # fmt: skip
NUMERIC = [
    (algorithm, name, spec)
    for algorithm, table in ALGORITHMS.items()
    for name, spec in table.params.items()
    if spec.kind in ("int", "float")
]


def _inside(spec: Spec) -> st.SearchStrategy[Any]:
    if spec.kind == "int":
        return st.integers(math.ceil(spec.low), int(spec.high)).filter(
            lambda v: not (spec.low_open and v == spec.low)
        )
    return st.floats(
        spec.low,
        spec.high,
        exclude_min=spec.low_open,
        exclude_max=spec.high_open,
        allow_nan=False,
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), case=st.sampled_from(NUMERIC))
def test_allowed_values_round_trip_through_run_params(
    data: st.DataObject, case: tuple[str, str, Spec]
) -> None:
    algorithm, name, spec = case
    value = data.draw(_inside(spec))
    params = {**BASE[algorithm], name: format_param(value)}
    out = normalise_for_algorithm(algorithm, params)
    assert out[name] == value and type(out[name]) is (int if spec.kind == "int" else float)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), case=st.sampled_from([c for c in NUMERIC if c[2].high < 1e8]))
def test_values_above_the_range_are_refused_naming_field_and_range(
    data: st.DataObject, case: tuple[str, str, Spec]
) -> None:
    algorithm, name, spec = case
    above = data.draw(st.floats(spec.high, spec.high * 10 + 10, exclude_min=True))
    if spec.kind == "int":
        above = float(math.floor(above) + 1)
    params = {**BASE[algorithm], name: format_param(above)}
    with pytest.raises(ValidationError) as info:
        normalise_for_algorithm(algorithm, params)
    assert info.value.field == name
    [message] = [m for m in info.value.errors if f"'{name}'" in m]
    assert spec.describe() in message and format_param(above) in message
