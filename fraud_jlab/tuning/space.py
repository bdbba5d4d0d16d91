"""The XGBoost search space of the design (section 3) and its naming rules.

One table, :data:`SEARCH_SPACE`, holds the allowed range of every tunable
hyperparameter; local searches, SageMaker Automatic Model Tuning and any other
part that needs "the tuning ranges" read it from here.

Canonical names are SageMaker's built-in XGBoost names (``objective``,
``num_round``, ``max_depth``, ``eta``, ``subsample``, ``colsample_bytree``):
the same six names a production promotion writes to Parameter Store, so a
trial's logged params can be promoted without renaming. scikit-learn names
(``learning_rate``, ``n_estimators``) are accepted as input and translated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fraud_jlab.errors import ValidationError
from fraud_jlab.hyperparameters import ALIASES as _ALIASES
from fraud_jlab.hyperparameters import HYPERPARAMETERS
from fraud_jlab.models.tuning import ParameterRange

ParamKind = Literal["Integer", "Continuous", "Categorical"]


@dataclass(frozen=True)
class ParamSpec:
    """Allowed values of one hyperparameter (inclusive bounds, or a fixed set of choices)."""

    name: str
    kind: ParamKind
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    default: int | float | str | None = None

    def describe(self) -> str:
        if self.kind == "Categorical":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "Integer":
            return f"an integer in [{int(self.low or 0)}, {int(self.high or 0)}]"
        return f"a number in [{self.low:g}, {self.high:g}]"


#: Canonical (SageMaker XGBoost) name -> allowed tuning range; defaults are XGBoost's own.
#: The keys are :data:`fraud_jlab.hyperparameters.HYPERPARAMETERS`, in that order.
SEARCH_SPACE: dict[str, ParamSpec] = {
    "objective": ParamSpec(
        "objective", "Categorical", choices=("binary:logistic",), default="binary:logistic"
    ),
    "num_round": ParamSpec("num_round", "Integer", 50, 200, default=100),
    "max_depth": ParamSpec("max_depth", "Integer", 3, 10, default=6),
    "eta": ParamSpec("eta", "Continuous", 0.01, 0.3, default=0.3),
    "subsample": ParamSpec("subsample", "Continuous", 0.5, 1.0, default=1.0),
    "colsample_bytree": ParamSpec("colsample_bytree", "Continuous", 0.5, 1.0, default=1.0),
}
#: The canonical names in the order promotion writes them.
CANONICAL_NAMES: tuple[str, ...] = HYPERPARAMETERS
#: scikit-learn / XGBClassifier names -> canonical names.
ALIASES: dict[str, str] = _ALIASES

ParamValue = int | float | str


def canonical_name(name: object, *, field: str = "params") -> str:
    """The canonical name of ``name`` (an alias or canonical name); ValidationError if unknown."""
    if isinstance(name, str):
        key = ALIASES.get(name, name)
        if key in SEARCH_SPACE:
            return key
    allowed = ", ".join([*CANONICAL_NAMES, *ALIASES])
    raise ValidationError(
        f"{field}: unknown hyperparameter {name!r}; allowed: {allowed}",
        field=f"{field}.{name}",
    )


def check_value(name: str, value: Any, *, field: str | None = None) -> ParamValue:
    """Validate one value of canonical ``name`` against :data:`SEARCH_SPACE`; return it normalised.

    Integers stay ``int``, continuous values become ``float``. Raises
    ValidationError naming the parameter and its allowed range.
    """
    spec = SEARCH_SPACE[name]
    where = field or name
    problem = f"{where}: value {value!r} for '{name}' is not allowed (allowed: {spec.describe()})"
    if spec.kind == "Categorical":
        if isinstance(value, str) and value in spec.choices:
            return value
        raise ValidationError(problem, field=where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # numpy scalars are accepted through their Python value
        item = getattr(value, "item", None)
        if item is None or isinstance(value, bool):
            raise ValidationError(problem, field=where)
        value = item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError(problem, field=where)
    number = float(value)
    if math.isnan(number) or not (float(spec.low or 0) <= number <= float(spec.high or 0)):
        raise ValidationError(problem, field=where)
    if spec.kind == "Integer":
        if not number.is_integer():
            raise ValidationError(problem, field=where)
        return int(number)
    return number


def canonicalize(params: Mapping[str, Any], *, field: str = "params") -> dict[str, ParamValue]:
    """Translate aliases, validate every value and fill XGBoost defaults for the rest.

    The result has exactly the six canonical names. Giving a name and its
    alias together (``eta`` and ``learning_rate``) is a ValidationError.
    """
    out: dict[str, ParamValue] = {}
    for raw_name, value in params.items():
        name = canonical_name(raw_name, field=field)
        if name in out:
            raise ValidationError(
                f"{field}: '{raw_name}' and another name both set '{name}'; give it once",
                field=f"{field}.{raw_name}",
            )
        out[name] = check_value(name, value, field=f"{field}.{raw_name}")
    for name, spec in SEARCH_SPACE.items():
        if name not in out and spec.default is not None:
            out[name] = spec.default
    return {name: out[name] for name in CANONICAL_NAMES}


def format_param(value: ParamValue) -> str:
    """The string a tracker stores for a value (``repr`` keeps floats exact)."""
    return repr(value) if isinstance(value, float) else str(value)


def xgboost_params(
    params: Mapping[str, ParamValue], *, seed: int, n_jobs: int | None, tree_method: str = "hist"
) -> dict[str, Any]:
    """Booster parameters for ``xgboost.train`` from canonical params (``num_round`` excluded).

    Matches what ``XGBClassifier(random_state=seed, n_jobs=n_jobs, ...)`` passes
    to the booster, so scores equal scikit-learn's for the same configuration.
    """
    out: dict[str, Any] = {
        "objective": params["objective"],
        "max_depth": params["max_depth"],
        "eta": params["eta"],
        "subsample": params["subsample"],
        "colsample_bytree": params["colsample_bytree"],
        "tree_method": tree_method,
        "seed": seed,
        "verbosity": 0,
    }
    if n_jobs is not None:
        out["nthread"] = n_jobs
    return out


def default_parameter_ranges() -> dict[str, ParameterRange]:
    """:data:`SEARCH_SPACE` as ``ParameterRange`` models (objective excluded: it is fixed)."""
    return {
        name: ParameterRange(type=spec.kind, min_value=spec.low, max_value=spec.high)
        for name, spec in SEARCH_SPACE.items()
        if spec.kind != "Categorical"
    }


def check_range(name: str, rng: ParameterRange, *, field: str) -> None:
    """Check that a ``ParameterRange`` for canonical ``name`` lies inside :data:`SEARCH_SPACE`."""
    spec = SEARCH_SPACE[name]
    if rng.type == "Categorical":
        for v in rng.values or []:
            check_value(name, _parse_number(v) if spec.kind != "Categorical" else v, field=field)
        return
    if spec.kind == "Categorical":
        raise ValidationError(
            f"{field}: '{name}' takes a Categorical range ({spec.describe()})", field=field
        )
    if spec.kind == "Integer" and rng.type != "Integer":
        raise ValidationError(
            f"{field}: '{name}' is an integer parameter; use an Integer range ({spec.describe()})",
            field=field,
        )
    check_value(name, rng.min_value, field=field)
    check_value(name, rng.max_value, field=field)


def _parse_number(value: Any) -> Any:
    """Categorical values may arrive as strings (SageMaker); read them as numbers when they are."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value
