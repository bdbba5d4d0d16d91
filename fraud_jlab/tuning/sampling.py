"""Turning user-given grids, distributions and search spaces into validated configurations.

Everything is expanded or sampled up front, before any run is written, so a
bad value anywhere is reported without leaving a half-logged search behind.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fraud_jlab.errors import ValidationError
from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.tuning.space import (
    SEARCH_SPACE,
    ParamValue,
    canonical_name,
    canonicalize,
    check_range,
    check_value,
    default_parameter_ranges,
)

#: Finite spaces up to this size are sampled by index without replacement.
_INDEX_SAMPLING_LIMIT = 1_000_000


def _check_mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError(
            f"{field} must be a non-empty mapping of hyperparameter name -> values", field=field
        )
    seen: dict[str, str] = {}
    for raw in value:
        name = canonical_name(raw, field=field)
        if name in seen:
            raise ValidationError(
                f"{field}: {seen[name]!r} and {raw!r} name the same hyperparameter '{name}'",
                field=f"{field}.{raw}",
            )
        seen[name] = str(raw)
    return value


def _choices(name: str, raw: str, values: Any, field: str) -> list[ParamValue]:
    where = f"{field}.{raw}"
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValidationError(f"{where} must be a non-empty list of values", field=where)
    out = [check_value(name, v, field=where) for v in values]
    if len(set(out)) != len(out):
        raise ValidationError(
            f"{where} lists a value more than once: {list(values)!r}", field=where
        )
    return out


def expand_grid(param_grid: object) -> list[dict[str, ParamValue]]:
    """Every combination of ``param_grid`` (keys sorted, last key varying fastest), canonicalised."""
    grid = _check_mapping(param_grid, "param_grid")
    items = sorted(grid.items())
    value_lists = [_choices(canonical_name(k), k, v, "param_grid") for k, v in items]
    names = [canonical_name(k) for k, _ in items]
    return [
        canonicalize(dict(zip(names, combo, strict=True)), field="param_grid")
        for combo in itertools.product(*value_lists)
    ]


def _finite_values(name: str, raw: str, spec: Any, field: str) -> list[ParamValue] | None:
    """The finite set of values a distribution entry allows, or None if it is continuous."""
    where = f"{field}.{raw}"
    if isinstance(spec, ParameterRange):
        check_range(name, spec, field=where)
        if spec.type == "Categorical":
            return _choices(name, raw, list(spec.values or []), field)
        if spec.type == "Integer":
            return list(range(int(spec.min_value or 0), int(spec.max_value or 0) + 1))
        return None
    if hasattr(spec, "rvs"):
        return None
    return _choices(name, raw, spec, field)


def _draw(name: str, raw: str, spec: Any, rng: np.random.Generator, field: str) -> ParamValue:
    where = f"{field}.{raw}"
    if isinstance(spec, ParameterRange):
        low, high = float(spec.min_value or 0), float(spec.max_value or 0)
        if spec.scaling_type == "Logarithmic":
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
            return check_value(name, float(min(max(value, low), high)), field=where)
        return check_value(name, float(rng.uniform(low, high)), field=where)
    return check_value(name, spec.rvs(random_state=rng), field=where)


def sample_configs(
    param_distributions: object, n_iter: int, seed: int
) -> list[dict[str, ParamValue]]:
    """``n_iter`` configurations drawn from ``param_distributions`` (seeded).

    Values may be lists (uniform choice), ``ParameterRange`` models or objects
    with ``rvs(random_state=...)`` (scipy.stats distributions). When every
    entry is finite, configurations are drawn without replacement and a space
    smaller than ``n_iter`` is a ValidationError; otherwise each draw is
    independent.
    """
    dists = _check_mapping(param_distributions, "param_distributions")
    items = sorted(dists.items())
    names = [canonical_name(k) for k, _ in items]
    finite = [
        _finite_values(n, k, v, "param_distributions")
        for n, (k, v) in zip(names, items, strict=True)
    ]
    rng = np.random.default_rng(seed)
    rows: list[list[ParamValue]] = []
    if all(f is not None for f in finite):
        sizes = [len(f or []) for f in finite]
        total = math.prod(sizes)
        if total < n_iter:
            raise ValidationError(
                f"n_iter={n_iter} exceeds the {total} distinct configurations of "
                f"param_distributions; sampling is without replacement, so use n_iter <= {total} "
                "or a grid search",
                field="n_iter",
            )
        if total <= _INDEX_SAMPLING_LIMIT:
            picks = rng.choice(total, size=n_iter, replace=False).tolist()
        else:
            chosen: dict[int, None] = {}
            while len(chosen) < n_iter:
                chosen.setdefault(int(rng.integers(total)), None)
            picks = list(chosen)
        for index in picks:
            row: list[ParamValue] = []
            for values, size in zip(reversed(finite), reversed(sizes), strict=True):
                index, digit = divmod(index, size)
                row.append((values or [])[digit])
            rows.append(row[::-1])
    else:
        for _ in range(n_iter):
            rows.append(
                [
                    (
                        f[int(rng.integers(len(f)))]
                        if f is not None
                        else _draw(n, k, v, rng, "param_distributions")
                    )
                    for n, (k, v), f in zip(names, items, finite, strict=True)
                ]
            )
    return [
        canonicalize(dict(zip(names, row, strict=True)), field="param_distributions")
        for row in rows
    ]


def bayesian_space(search_space: object | None) -> dict[str, ParameterRange]:
    """Validated ``ParameterRange`` per canonical name (default: the whole :data:`SEARCH_SPACE`).

    Entries may be ``ParameterRange`` models, ``(low, high)`` tuples (Integer or
    Continuous after the parameter's kind) or lists (Categorical).
    """
    if search_space is None:
        return default_parameter_ranges()
    space = _check_mapping(search_space, "search_space")
    out: dict[str, ParameterRange] = {}
    for raw, spec in space.items():
        name = canonical_name(raw)
        where = f"search_space.{raw}"
        kind = SEARCH_SPACE[name].kind
        if isinstance(spec, ParameterRange):
            rng = spec
        elif isinstance(spec, tuple) and len(spec) == 2 and kind != "Categorical":
            lo, hi = (check_value(name, v, field=where) for v in spec)
            if float(lo) > float(hi):
                raise ValidationError(f"{where}: low {lo} exceeds high {hi}", field=where)
            rng = ParameterRange(type=kind, min_value=float(lo), max_value=float(hi))
        else:
            rng = ParameterRange(
                type="Categorical", values=_choices(name, raw, spec, "search_space")
            )
        check_range(name, rng, field=where)
        out[name] = rng
    return out
