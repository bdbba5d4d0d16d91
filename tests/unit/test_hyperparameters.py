"""One hyperparameter vocabulary: promotion, tuning and the demo use fraud_jlab.hyperparameters."""

from __future__ import annotations

from fraud_jlab.demo.seed import HYPERPARAMETER_NAMES
from fraud_jlab.hyperparameters import ALIASES, ALLOWED_OBJECTIVES, HYPERPARAMETERS
from fraud_jlab.promotion.algorithms import ALGORITHMS
from fraud_jlab.promotion.validation import RANGES, REQUIRED_PARAMS, SKLEARN_ALIASES
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
