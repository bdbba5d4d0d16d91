"""One hyperparameter vocabulary: promotion, tuning and the demo use fraud_jlab.hyperparameters."""

from __future__ import annotations

import pytest

from fraud_jlab.demo.seed import HYPERPARAMETER_NAMES, _hyperparameters
from fraud_jlab.errors import ValidationError
from fraud_jlab.hyperparameters import ALIASES, ALLOWED_OBJECTIVES, HYPERPARAMETERS
from fraud_jlab.promotion.algorithms import ALGORITHMS
from fraud_jlab.promotion.validation import (
    RANGES,
    REQUIRED_PARAMS,
    SKLEARN_ALIASES,
    validate_hyperparameters,
)
from fraud_jlab.tuning.space import ALIASES as TUNING_ALIASES
from fraud_jlab.tuning.space import CANONICAL_NAMES, SEARCH_SPACE


def test_every_part_uses_the_one_list_of_names_and_aliases() -> None:
    assert REQUIRED_PARAMS is HYPERPARAMETERS and CANONICAL_NAMES is HYPERPARAMETERS
    assert HYPERPARAMETER_NAMES is HYPERPARAMETERS and tuple(SEARCH_SPACE) == HYPERPARAMETERS
    assert SKLEARN_ALIASES is ALIASES and TUNING_ALIASES is ALIASES
    xgboost = ALGORITHMS["xgboost"]
    assert set(HYPERPARAMETERS) <= set(xgboost.params)
    assert ALIASES.items() <= xgboost.aliases.items()


def test_xgboost_promotion_ranges_are_the_production_ranges() -> None:
    xgboost = ALGORITHMS["xgboost"].params
    assert xgboost["objective"].choices == ALLOWED_OBJECTIVES
    for name, rng in RANGES.items():
        spec = xgboost[name]
        assert (spec.low, spec.high, spec.low_open) == (rng.low, rng.high, rng.low_open), name
        assert spec.kind == ("int" if rng.kind is int else "float"), name


def test_the_demo_accepts_exactly_the_configs_promotion_accepts() -> None:
    base = {"max_depth": 4, "eta": 0.1, "num_round": 10, "subsample": 1.0, "colsample_bytree": 1.0}
    edits: list[dict[str, object]] = [
        {},
        {"eta": 1.0},
        {"eta": 0.0},
        {"max_depth": 20},
        {"max_depth": 21},
        {"num_round": 1000},
        {"num_round": 2.5},
        {"subsample": 0.0},
        {"objective": "binary:hinge"},
        {"objective": "multi:softmax"},
        {"gamma": 1},
    ]
    for edit in edits:
        config = {"objective": "binary:logistic", **base, **edit}
        try:
            validate_hyperparameters(config)
            promotion_accepts = True
        except ValidationError:
            promotion_accepts = False
        if promotion_accepts:
            assert _hyperparameters({"run_name": "r", **config})["max_depth"] == config["max_depth"]
        else:
            with pytest.raises(ValidationError) as err:
                _hyperparameters({"run_name": "r", **config})
            assert err.value.field == "configs", edit
