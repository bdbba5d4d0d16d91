"""Per-algorithm production hyperparameters: names, allowed values, normalisation.

A run logs its hyperparameters as strings (``run.params``); promotion turns them
into the typed values the retraining pipeline reads from the production config,
for each algorithm that can be promoted:

* ``xgboost``: SageMaker XGBoost names (``eta``, ``num_round``, ``seed``, ``alpha``,
  ``lambda``; ``learning_rate``/``n_estimators``/``random_state``/``reg_alpha``/
  ``reg_lambda`` are accepted). The six seed parameters keep the seed's ranges
  (:mod:`fraud_jlab.promotion.validation`) and go to Parameter Store; the rest
  (``scale_pos_weight``, ``tree_method``, ...) go to the config file.
* ``lightgbm``: ``LGBMClassifier`` names.
* ``random_forest``: ``RandomForestClassifier`` names.
* ``mlp``: ``MLPClassifier`` names (a ``Pipeline``'s ``mlp__`` prefix removed) and
  the standardising step's ``scaler__*`` settings.

Values of ``None`` mean "the library's default" and are left out; runtime settings
that do not change the model (thread counts, verbosity, ``missing``) are dropped.
Every other name must be known: an unknown name or an out-of-range value is a
ValidationError naming the parameter, its value and the allowed values, all
problems at once.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fraud_jlab.errors import ValidationError
from fraud_jlab.hyperparameters import ALIASES, ALLOWED_OBJECTIVES, HYPERPARAMETERS
from fraud_jlab.promotion.validation import (
    RANGES,
    REQUIRED_PARAMS,
    NumericRange,
    normalise_hyperparameters,
)

Kind = Literal["int", "float", "bool", "choice", "int_tuple"]
BIG = 1e9

#: Canonical algorithm names and the names runs tag them with.
ALGORITHM_NAMES: dict[str, str] = {
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "random_forest": "random_forest",
    "randomforest": "random_forest",
    "mlp": "mlp",
    "neuralnetwork": "mlp",
    "neural_network": "mlp",
}


@dataclass(frozen=True)
class Spec:
    """Allowed values of one hyperparameter."""

    kind: Kind
    low: float = -BIG
    high: float = BIG
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    #: For int/float: words also accepted (e.g. ``"sqrt"`` for ``max_features``).
    words: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "bool":
            return "True or False"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        bounds = f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        text = {
            "int": f"an integer in {bounds}",
            "float": f"a number in {bounds}",
            "int_tuple": f"a tuple of integers in {bounds}",
        }[self.kind]
        return text + (f" or one of {', '.join(self.words)}" if self.words else "")

    def _in_range(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def parse(self, raw: Any) -> Any:
        """The typed value; ValueError with a short reason when it is not allowed."""
        text = raw.strip() if isinstance(raw, str) else raw
        if self.kind == "bool":
            if isinstance(text, bool):
                return text
            if text in ("True", "true"):
                return True
            if text in ("False", "false"):
                return False
            raise ValueError("is not True or False")
        if self.kind == "choice":
            if isinstance(text, str) and text in self.choices:
                return text
            raise ValueError("is not allowed")
        if isinstance(text, str) and text in self.words:
            return text
        if self.kind == "int_tuple":
            value = ast.literal_eval(text) if isinstance(text, str) else text
            items = value if isinstance(value, (tuple, list)) else (value,)
            if not items or not all(
                isinstance(i, int) and not isinstance(i, bool) and self._in_range(i) for i in items
            ):
                raise ValueError("is out of valid range")
            return [int(i) for i in items]
        if isinstance(text, bool):
            raise ValueError("is not a number")
        try:
            number = float(text)
        except (TypeError, ValueError):
            raise ValueError("is not a number") from None
        if not math.isfinite(number):
            raise ValueError("is not a finite number")
        if self.kind == "int":
            if not number.is_integer():
                raise ValueError("is not an integer")
            if not self._in_range(number):
                raise ValueError("is out of valid range")
            return int(number)
        if not self._in_range(number):
            raise ValueError("is out of valid range")
        return number


def _f(low: float = 0.0, high: float = BIG, **kw: Any) -> Spec:
    return Spec("float", low, high, **kw)


def _i(low: float = 0, high: float = BIG, **kw: Any) -> Spec:
    return Spec("int", low, high, **kw)


def _c(*choices: str) -> Spec:
    return Spec("choice", choices=choices)


def _from_range(rng: NumericRange) -> Spec:
    """The Spec of a production range of :mod:`fraud_jlab.promotion.validation`."""
    if rng.kind is int:
        return _i(rng.low, rng.high)
    return _f(rng.low, rng.high, low_open=rng.low_open)


BOOL = Spec("bool")
FRACTION = _f(0.0, 1.0, low_open=True)
SEED = _i(0, 2**32 - 1)


@dataclass(frozen=True)
class AlgorithmSpec:
    """The hyperparameters one algorithm can be promoted with."""

    name: str
    params: dict[str, Spec]
    aliases: dict[str, str]
    runtime: frozenset[str]
    prefix: str = ""


ALGORITHMS: dict[str, AlgorithmSpec] = {
    "xgboost": AlgorithmSpec(
        "xgboost",
        {
            # the six production hyperparameters, with the seed's ranges
            "objective": _c(*ALLOWED_OBJECTIVES),
            **{name: _from_range(RANGES[name]) for name in HYPERPARAMETERS if name in RANGES},
            "colsample_bylevel": FRACTION,
            "colsample_bynode": FRACTION,
            "scale_pos_weight": _f(0.0, 1e6, low_open=True),
            "min_child_weight": _f(0.0, 1e6),
            "gamma": _f(0.0, 1e6),
            "alpha": _f(0.0, 1e6),
            "lambda": _f(0.0, 1e6),
            "max_delta_step": _f(0.0, 1e6),
            "max_bin": _i(2, 1e6),
            "max_leaves": _i(0, 1e6),
            "num_parallel_tree": _i(1, 1000),
            "base_score": _f(0.0, 1.0, low_open=True, high_open=True),
            "tree_method": _c("auto", "exact", "approx", "hist"),
            "grow_policy": _c("depthwise", "lossguide"),
            "booster": _c("gbtree", "dart"),
            "sampling_method": _c("uniform", "gradient_based"),
            "eval_metric": _c("auc", "aucpr", "logloss", "error", "map"),
            "early_stopping_rounds": _i(1, 1000),
            "seed": SEED,
        },
        {
            **ALIASES,
            "random_state": "seed",
            "reg_alpha": "alpha",
            "reg_lambda": "lambda",
        },
        frozenset(
            {
                "n_jobs",
                "nthread",
                "verbosity",
                "missing",
                "enable_categorical",
                "importance_type",
                "validate_parameters",
                "device",
                "callbacks",
            }
        ),
    ),
    "lightgbm": AlgorithmSpec(
        "lightgbm",
        {
            "boosting_type": _c("gbdt", "dart", "rf"),
            "objective": _c("binary", "cross_entropy"),
            "num_leaves": _i(2, 131072),
            "max_depth": _i(-1, 1000),
            "learning_rate": FRACTION,
            "n_estimators": _i(1, 100000),
            "subsample_for_bin": _i(1, BIG),
            "class_weight": _c("balanced"),
            "min_split_gain": _f(0.0, 1e6),
            "min_child_weight": _f(0.0, 1e6),
            "min_child_samples": _i(0, BIG),
            "subsample": FRACTION,
            "subsample_freq": _i(0, 1e6),
            "colsample_bytree": FRACTION,
            "reg_alpha": _f(0.0, 1e6),
            "reg_lambda": _f(0.0, 1e6),
            "scale_pos_weight": _f(0.0, 1e6, low_open=True),
            "is_unbalance": BOOL,
            "max_delta_step": _f(0.0, 1e6),
            "max_bin": _i(2, 1e6),
            "random_state": SEED,
        },
        {"eta": "learning_rate", "num_round": "n_estimators", "seed": "random_state"},
        frozenset({"n_jobs", "verbose", "verbosity", "importance_type", "num_threads"}),
    ),
    "random_forest": AlgorithmSpec(
        "random_forest",
        {
            "n_estimators": _i(1, 100000),
            "criterion": _c("gini", "entropy", "log_loss"),
            "max_depth": _i(1, 10000),
            "min_samples_split": _f(0.0, BIG, low_open=True),
            "min_samples_leaf": _f(0.0, BIG, low_open=True),
            "min_weight_fraction_leaf": _f(0.0, 0.5),
            "max_features": _f(0.0, BIG, low_open=True, words=("sqrt", "log2")),
            "max_leaf_nodes": _i(2, BIG),
            "min_impurity_decrease": _f(0.0, 1e6),
            "bootstrap": BOOL,
            "oob_score": BOOL,
            "class_weight": _c("balanced", "balanced_subsample"),
            "ccp_alpha": _f(0.0, 1e6),
            "max_samples": _f(0.0, BIG, low_open=True),
            "random_state": SEED,
        },
        {},
        frozenset({"n_jobs", "verbose", "warm_start"}),
    ),
    "mlp": AlgorithmSpec(
        "mlp",
        {
            "hidden_layer_sizes": Spec("int_tuple", 1, 100000),
            "activation": _c("identity", "logistic", "tanh", "relu"),
            "solver": _c("lbfgs", "sgd", "adam"),
            "alpha": _f(0.0, 1e6),
            "batch_size": _i(1, BIG, words=("auto",)),
            "learning_rate": _c("constant", "invscaling", "adaptive"),
            "learning_rate_init": _f(0.0, 1e3, low_open=True),
            "power_t": _f(0.0, 1e3),
            "max_iter": _i(1, 1e6),
            "shuffle": BOOL,
            "random_state": SEED,
            "tol": _f(0.0, 1e3),
            "momentum": _f(0.0, 1.0),
            "nesterovs_momentum": BOOL,
            "early_stopping": BOOL,
            "validation_fraction": _f(0.0, 1.0, low_open=True, high_open=True),
            "beta_1": _f(0.0, 1.0, high_open=True),
            "beta_2": _f(0.0, 1.0, high_open=True),
            "epsilon": _f(0.0, 1.0, low_open=True),
            "n_iter_no_change": _i(1, 1e6),
            "max_fun": _i(1, BIG),
            "scaler__copy": BOOL,
            "scaler__with_mean": BOOL,
            "scaler__with_std": BOOL,
        },
        {},
        frozenset({"memory", "verbose", "transform_input", "warm_start"}),
        prefix="mlp__",
    ),
}


def canonical_algorithm(name: Any) -> str:
    """``xgboost``, ``lightgbm``, ``random_forest`` or ``mlp``; ValidationError otherwise."""
    key = str(name).strip().lower().replace("-", "_") if isinstance(name, str) else ""
    if key in ALGORITHM_NAMES:
        return ALGORITHM_NAMES[key]
    raise ValidationError(
        f"algorithm {name!r} cannot be promoted (allowed: {', '.join(ALGORITHMS)})",
        field="algorithm",
    )


def normalise_for_algorithm(algorithm: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Typed production hyperparameters of ``algorithm`` from a run's logged params.

    Raises ValidationError listing every unknown name and invalid value
    (``field`` is the first offending name).
    """
    spec = ALGORITHMS[canonical_algorithm(algorithm)]
    errors: list[str] = []
    fields: list[str] = []
    named: dict[str, Any] = {}
    for raw_name, value in params.items():
        name = str(raw_name)
        if spec.prefix and name.startswith(spec.prefix):
            name = name[len(spec.prefix) :]
        if value is None or (isinstance(value, str) and value.strip() == "None"):
            continue
        if name in spec.runtime:
            continue
        target = spec.aliases.get(name, name)
        if target in named and str(named[target]).strip() != str(value).strip():
            errors.append(
                f"Run logs both '{name}'={value!r} and '{target}'={named[target]!r}; they must agree"
            )
            fields.append(target)
            continue
        named[target] = value
    if spec.name == "xgboost":
        named.setdefault("objective", "binary:logistic")
    if spec.name == "xgboost":
        missing = [n for n in REQUIRED_PARAMS if n not in named]
        if missing:
            errors.append(f"Missing required hyperparameters: {', '.join(missing)}")
            fields.extend(missing)
    unknown = sorted(n for n in named if n not in spec.params)
    if unknown:
        errors.append(
            f"Unknown {spec.name} hyperparameters: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(spec.params))})"
        )
        fields.extend(unknown)
    out: dict[str, Any] = {}
    for name in sorted(n for n in named if n in spec.params):
        rule = spec.params[name]
        try:
            out[name] = rule.parse(named[name])
        except (ValueError, SyntaxError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) and str(exc) else "is not valid"
            errors.append(
                f"{spec.name} hyperparameter '{name}' value {named[name]!r} {reason} "
                f"(allowed: {rule.describe()})"
            )
            fields.append(name)
    if spec.name == "xgboost" and not errors:
        # the six Parameter Store values: exactly the seed's checks and messages
        six = normalise_hyperparameters({n: out[n] for n in REQUIRED_PARAMS if n in out})
        out.update(six)
    if errors:
        raise ValidationError("; ".join(errors), field=fields[0], errors=errors)
    return out
