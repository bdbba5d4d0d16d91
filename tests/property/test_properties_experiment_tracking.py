"""Property tests for experiment tracking: Properties 11, 12, 13, 22 and the filter round trip.

Each example uses a fresh store in its own temporary directory.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification

from fraud_jlab.config import FraudJlab
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.promotion import ProductionIntegrator
from fraud_jlab.promotion.validation import ALLOWED_OBJECTIVES
from fraud_jlab.tracking import capture, ids
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.query.filters import (
    ATTRIBUTES,
    COMPARISON_OPS,
    NULL_OPS,
    SET_OPS,
    STRING_OPS,
    BoolOp,
    Comparison,
    Key,
    Node,
    parse_filter,
    render_filter,
)
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite import search as sqlite_search
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore
from fraud_jlab.tuning import grid_search, random_search

REQUIRED_METRICS = ("accuracy", "precision", "recall", "f1_score", "auc_roc")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def git_repo() -> Iterator[tuple[Path, str]]:
    """A committed git repository to run the "notebook" from; yields (path, commit)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "train.py").write_text("# training code\n")

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                cwd=repo,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        git("init", "-q")
        git("add", "train.py")
        git("commit", "-q", "-m", "init")
        yield repo, git("rev-parse", "HEAD")


_TEMPLATE_DIR = tempfile.mkdtemp(prefix="fj-tracking-template-")
atexit.register(shutil.rmtree, _TEMPLATE_DIR, True)


@functools.cache
def _template_db() -> Path:
    """An empty, fully migrated database; copying it is much cheaper than migrating per example."""
    path = Path(_TEMPLATE_DIR) / "template.db"
    SqliteTrackerStore(path).close()
    return path


def fresh_store(directory: str) -> SqliteTrackerStore:
    """A new, empty store in ``directory`` (a copy of the migrated template)."""
    target = Path(directory) / "t.db"
    shutil.copyfile(_template_db(), target)
    return SqliteTrackerStore(target)


@contextmanager
def working_dir(path: Path, **env: str | None) -> Iterator[None]:
    """cwd and environment changed for one hypothesis example (fixtures are per test)."""
    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in env}
    os.chdir(path)
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


unit = st.floats(min_value=0, max_value=1, allow_nan=False)
hyperparameters = st.fixed_dictionaries(
    {
        "max_depth": st.integers(1, 15),
        "eta": st.floats(0.001, 1, allow_nan=False),
        "num_round": st.integers(10, 1000),
        "subsample": st.floats(0.1, 1, allow_nan=False),
        "colsample_bytree": st.floats(0.1, 1, allow_nan=False),
    }
)


@settings(max_examples=100, deadline=None)
@given(
    params=hyperparameters,
    metrics=st.fixed_dictionaries({name: unit for name in REQUIRED_METRICS}),
    rows=st.lists(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=3),
        min_size=1,
        max_size=20,
    ),
)
def test_property_11_experiment_metadata_completeness(
    git_repo: tuple[Path, str],
    params: dict[str, float],
    metrics: dict[str, float],
    rows: list[list[float]],
) -> None:
    repo, commit = git_repo
    data = np.array(rows)
    with tempfile.TemporaryDirectory() as tmp, working_dir(repo):
        store = fresh_store(tmp)
        with Run("fraud-detection-optimization", "xgb", tracker=store) as run:
            run.log_parameters(params)
            run.log_dataset(data)
            run.log_metrics(metrics)
        detail = store.get_run(run.run_id)
        store.close()
    assert len(detail.run_id) == 26  # the experiment id
    assert (
        detail.status == "completed"
        and detail.start_time is not None
        and detail.end_time is not None
    )
    assert detail.params == {k: str(v) for k, v in params.items()}
    assert detail.metrics == metrics
    assert detail.dataset_version == capture.dataset_hash(data)
    assert detail.code_version == f"git:{commit}"


@settings(max_examples=100, deadline=None)
@given(
    times=st.lists(st.integers(0, 2**48 - 1), min_size=2, max_size=20, unique=True),
    burst=st.integers(2, 200),
    offsets=st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=8),
)
def test_property_12_experiment_id_uniqueness(
    times: list[int], burst: int, offsets: list[int]
) -> None:
    # Different times -> different ids, ordered like the times.
    stamped = [(t, ids.new_id(t)) for t in times]
    assert len({i for _, i in stamped}) == len(times)
    assert [i for _, i in sorted(stamped)] == sorted(i for _, i in stamped)
    # Many ids within one millisecond are still unique and increasing.
    same_ms = [ids.new_id(times[0]) for _ in range(burst)]
    assert len(set(same_ms)) == burst and same_ms == sorted(same_ms)
    # Runs started at any (even equal or out-of-order) times get unique ids.
    with tempfile.TemporaryDirectory() as tmp:
        store = fresh_store(tmp)
        run_ids = [
            store.create_run("e", f"r{n}", user="u", start_time=T0 + timedelta(seconds=s))
            for n, s in enumerate(offsets)
        ]
        store.close()
    assert len(set(run_ids)) == len(run_ids)


THRESHOLDS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0]
metric_value = st.one_of(st.none(), st.sampled_from(THRESHOLDS), unit)
threshold_leaf = st.builds(
    Comparison,
    st.builds(Key, st.just("metric"), st.sampled_from(["accuracy", "auc_roc"])),
    st.sampled_from(COMPARISON_OPS),
    st.one_of(st.sampled_from(THRESHOLDS), unit),
)
threshold_filters = st.recursive(
    threshold_leaf,
    lambda inner: st.builds(BoolOp, st.sampled_from(["AND", "OR"]), inner, inner),
    max_leaves=5,
)
_PY_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def matches(node: Node, metrics: dict[str, float]) -> bool:
    """Reference semantics in plain Python: a missing metric never satisfies a comparison."""
    if isinstance(node, BoolOp):
        left, right = matches(node.left, metrics), matches(node.right, metrics)
        return (left and right) if node.op == "AND" else (left or right)
    value = metrics.get(node.key.name)
    return value is not None and bool(_PY_OPS[node.op](value, node.value))


@settings(max_examples=100, deadline=None)
@given(
    runs=st.lists(
        st.fixed_dictionaries({"accuracy": metric_value, "auc_roc": metric_value}), max_size=25
    ),
    node=threshold_filters,
    page_size=st.integers(1, 30),
    plan=st.sampled_from([None, "scan", "materialize"]),
)
def test_property_13_experiment_query_correctness(
    runs: list[dict[str, float | None]], node: Node, page_size: int, plan: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = fresh_store(tmp)
        logged: dict[str, dict[str, float]] = {}
        for n, values in enumerate(runs):
            run_id = store.create_run(
                "e", f"r{n}", user="u", start_time=T0 + timedelta(seconds=n % 3)
            )
            present = {k: v for k, v in values.items() if v is not None}
            store.log_metrics(run_id, present)
            logged[run_id] = present
        returned: list[str] = []
        sqlite_search.PLAN = plan
        try:
            token, total = None, -1
            while True:
                page = store.search_runs(
                    render_filter(node), max_results=page_size, page_token=token
                )
                total = page.total
                for run in page.runs:
                    assert matches(node, run.metrics), (render_filter(node), run.metrics)
                returned += [run.run_id for run in page.runs]
                token = page.next_page_token
                if token is None:
                    break
        finally:
            sqlite_search.PLAN = None
            store.close()
    expected = {run_id for run_id, metrics in logged.items() if matches(node, metrics)}
    assert len(returned) == len(set(returned))  # no run on two pages
    assert set(returned) == expected and total == len(expected)


@settings(max_examples=100, deadline=None)
@given(
    source=st.sampled_from(["git", "notebook"]),
    notebook=st.binary(min_size=1, max_size=200),
    labels=st.lists(st.booleans(), min_size=8, max_size=40).filter(
        lambda ys: 2 <= sum(ys) <= len(ys) - 2
    ),
    depth=st.integers(1, 4),
)
def test_property_22_notebook_execution_logging(
    git_repo: tuple[Path, str], source: str, notebook: bytes, labels: list[bool], depth: int
) -> None:
    from sklearn.tree import DecisionTreeClassifier

    repo, commit = git_repo
    y = np.array(labels, dtype=int)
    x = np.column_stack([y + np.linspace(0, 1, len(y)), np.arange(len(y)) % 3])
    with tempfile.TemporaryDirectory() as tmp:
        nb_path = Path(tmp) / "train.ipynb"
        nb_path.write_bytes(notebook)
        env: dict[str, str | None]
        if source == "git":
            place, env = repo, {"JPY_SESSION_NAME": None}
            expected = f"git:{commit}"
        else:
            place = Path(tmp)
            env = {
                "JPY_SESSION_NAME": str(nb_path),
                "GIT_CEILING_DIRECTORIES": str(Path(tmp).parent),
            }
            expected = "nb:" + hashlib.sha256(notebook).hexdigest()
        with working_dir(place, **env):
            store = fresh_store(tmp)
            with Run("notebook", "train", tracker=store) as run:
                model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x, y)
                run.log_parameters({"max_depth": depth})
                run.log_metric("accuracy", float(model.score(x, y)))
            detail = store.get_run(run.run_id)
            store.close()
    assert detail.code_version == expected
    assert {"python", "numpy", "scikit-learn", "fraud_jlab"} <= set(detail.dependencies)
    assert all(re.fullmatch(r"\d+\.\d+.*", v) for v in detail.dependencies.values())


# --- filter grammar round trip ---------------------------------------------
names = st.text(min_size=1, max_size=12)
strings = st.text(max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)


def _entity_leaf(kind: str) -> st.SearchStrategy[Comparison]:
    key = st.builds(Key, st.just(kind), names)
    scalar: st.SearchStrategy[Any]
    ops: tuple[str, ...]
    if kind == "metric":
        scalar = finite
        ops = COMPARISON_OPS
    else:
        scalar, ops = strings, COMPARISON_OPS + STRING_OPS
    return st.one_of(
        st.builds(Comparison, key, st.sampled_from(ops), scalar),
        st.builds(
            Comparison,
            key,
            st.sampled_from(SET_OPS),
            st.lists(scalar, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(Comparison, key, st.sampled_from(NULL_OPS), st.none()),
    )


def _attribute_leaf(name: str) -> st.SearchStrategy[Comparison]:
    key = Key("attribute", name)
    kind = ATTRIBUTES[name]
    scalar: st.SearchStrategy[Any]
    ops: tuple[str, ...]
    if kind == "time":
        scalar = st.integers(0, 2**47)
        ops = COMPARISON_OPS
    elif kind == "status":
        scalar, ops = st.sampled_from(["running", "completed", "failed"]), COMPARISON_OPS
    else:
        scalar, ops = strings, COMPARISON_OPS + STRING_OPS
    return st.one_of(
        st.builds(Comparison, st.just(key), st.sampled_from(ops), scalar),
        st.builds(
            Comparison,
            st.just(key),
            st.sampled_from(SET_OPS),
            st.lists(scalar, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(Comparison, st.just(key), st.sampled_from(NULL_OPS), st.none()),
    )


any_leaf = st.one_of(
    *[_entity_leaf(kind) for kind in ("metric", "param", "tag")],
    *[_attribute_leaf(name) for name in ATTRIBUTES],
)
any_filter = st.recursive(
    any_leaf,
    lambda inner: st.builds(BoolOp, st.sampled_from(["AND", "OR"]), inner, inner),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(node=any_filter)
def test_filter_grammar_round_trip(node: Node) -> None:
    text = render_filter(node)
    assert parse_filter(text) == node
    assert render_filter(parse_filter(text)) == text


# --- Properties 19 and 20 of the design: searches log exactly one child run per trial. ---

X, Y = make_classification(
    n_samples=400, n_features=6, n_informative=3, weights=[0.85], flip_y=0.02, random_state=11
)


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackerStore]:
    store = SqliteTrackerStore(Path(tmp_path_factory.mktemp("tuning-props")) / "runs.db")
    yield store
    store.close()


def count_children(tracker: TrackerStore, parent_run_id: str | None) -> int:
    assert parent_run_id is not None
    return tracker.search_runs(f"parent_run_id = '{parent_run_id}'", max_results=1).total


def distinct(values: st.SearchStrategy[object], max_size: int) -> st.SearchStrategy[list[object]]:
    return st.lists(values, min_size=1, max_size=max_size, unique=True)


grids = st.fixed_dictionaries(
    {
        "max_depth": distinct(st.integers(3, 10), 2),
        "n_estimators": distinct(st.integers(50, 80), 4),
    },
    optional={
        "learning_rate": distinct(st.sampled_from([0.05, 0.1, 0.3]), 2),
        "subsample": distinct(st.sampled_from([0.6, 0.8, 1.0]), 2),
    },
)


@settings(max_examples=100, deadline=None)
@given(param_grid=grids)
def test_property_19_grid_search_completeness(
    tracker: TrackerStore, param_grid: dict[str, list[object]]
) -> None:
    # Given a grid with any number of values per parameter
    expected = math.prod(len(v) for v in param_grid.values())
    # When it is searched
    result = grid_search(X, Y, param_grid, n_splits=2, n_jobs=1, tracker=tracker)
    # Then exactly one child run per combination is logged, each combination once
    assert count_children(tracker, result.parent_run_id) == expected
    combos = {
        tuple(row)
        for row in result.trials[["max_depth", "num_round", "eta", "subsample"]].to_numpy()
    }
    assert len(combos) == expected


distributions = st.fixed_dictionaries(
    {
        "eta": st.builds(
            lambda lo, width: ParameterRange(
                type="Continuous", min_value=lo, max_value=min(0.3, lo + width)
            ),
            st.floats(0.01, 0.2),
            st.floats(0.0, 0.1),
        ),
        "max_depth": st.one_of(
            distinct(st.integers(3, 10), 3),
            st.builds(
                lambda lo: ParameterRange(type="Integer", min_value=lo, max_value=lo + 2),
                st.integers(3, 8),
            ),
        ),
        "num_round": distinct(st.integers(50, 60), 2),
    }
)


@settings(max_examples=100, deadline=None)
@given(param_distributions=distributions, n_iter=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_property_20_random_search_sampling(
    tracker: TrackerStore, param_distributions: dict[str, object], n_iter: int, seed: int
) -> None:
    # When a random search runs n_iter trials
    result = random_search(
        X, Y, param_distributions, n_iter, n_splits=2, seed=seed, n_jobs=1, tracker=tracker
    )
    # Then exactly n_iter child runs are logged, all inside the given space
    assert count_children(tracker, result.parent_run_id) == n_iter
    assert len(result.trials) == n_iter
    eta = param_distributions["eta"]
    assert isinstance(eta, ParameterRange)
    assert np.all((result.trials["eta"] >= eta.min_value) & (result.trials["eta"] <= eta.max_value))


# --- Property 4: every successful promotion logs a promotion event with experiment id and timestamp. ---

open_unit = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, allow_nan=False)
promotion_hyperparameters = st.fixed_dictionaries(
    {
        "objective": st.sampled_from(ALLOWED_OBJECTIVES),
        "num_round": st.integers(1, 1000),
        "max_depth": st.integers(1, 20),
        "eta": open_unit,
        "subsample": open_unit,
        "colsample_bytree": open_unit,
    }
)
metrics = st.dictionaries(
    st.sampled_from(["accuracy", "precision", "recall", "f1_score", "auc_roc"]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
experiment_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s)


class Sandbox:
    def __init__(self, db: Path) -> None:
        settings_ = FraudJlab()
        s3 = boto3.client("s3", region_name="us-east-1")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        provision_sandbox(settings_, s3_client=s3, sfn_client=sfn)
        self.tracker = SqliteTrackerStore(db)
        self.integrator = ProductionIntegrator(
            settings_,
            s3_client=s3,
            sfn_client=sfn,
            ssm_client=boto3.client("ssm", region_name="us-east-1"),
            tracker=self.tracker,
        )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, moto_env_module: None) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("events") / "runs.db")
    yield box
    box.tracker.close()


@settings(max_examples=100, deadline=None)
@given(
    exp=experiment_ids,
    hp=promotion_hyperparameters,
    m=metrics,
    who=st.sampled_from(["alice", "bob"]),
)
def test_property_4_promotion_event_logging(
    sandbox: Sandbox, exp: str, hp: dict[str, Any], m: dict[str, float], who: str
) -> None:
    before = len(sandbox.tracker.list_events("promotion"))
    started = datetime.now().astimezone()
    result = sandbox.integrator.promote_to_production(exp, hp, m, who)
    events = sandbox.tracker.list_events("promotion")
    assert len(events) == before + 1
    payload = events[0].payload
    assert payload["experiment_id"] == exp
    assert payload["promotion_id"] == result["promotion_event"]["promotion_id"]
    assert payload["status"] == "completed" and payload["approver"] == who
    stamp = datetime.fromisoformat(payload["timestamp"])
    assert stamp.tzinfo is not None and stamp >= started.replace(microsecond=0)
    assert payload["metrics"] == m
