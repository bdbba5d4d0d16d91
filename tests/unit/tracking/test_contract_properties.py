"""Properties 11, 12, 13 and 22 of the design on every tracker backend (the ``tracker`` fixture).

The property tests in ``tests/property/test_properties_experiment_tracking.py`` run 100
examples each on the embedded store; here the same properties run on every backend
(SQLite, MLflow in-process, an MLflow server, SageMaker Experiments on the emulator)
with fewer examples, each in its own experiment so examples never see each other's runs.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraud_jlab.tracking import capture
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.query.filters import (
    COMPARISON_OPS,
    BoolOp,
    Comparison,
    Key,
    Node,
    render_filter,
)
from fraud_jlab.tracking.run import Run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
REQUIRED_METRICS = ("accuracy", "precision", "recall", "f1_score", "auc_roc")
EXAMPLES = settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def experiment() -> str:
    """A fresh experiment name valid on every backend."""
    return f"p-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("repo")
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
    return repo, git("rev-parse", "HEAD")


@pytest.fixture
def in_repo(git_repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(git_repo[0])
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    yield git_repo[1]


unit = st.floats(min_value=0, max_value=1, allow_nan=False)


@EXAMPLES
@given(
    params=st.fixed_dictionaries({"max_depth": st.integers(1, 15), "eta": st.floats(0.001, 1)}),
    metrics=st.fixed_dictionaries({name: unit for name in REQUIRED_METRICS}),
    rows=st.lists(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3), min_size=1, max_size=5),
)
def test_property_11_metadata_completeness(
    tracker: TrackerStore,
    in_repo: str,
    params: dict[str, float],
    metrics: dict[str, float],
    rows: list[list[float]],
) -> None:
    data = np.array(rows)
    with Run(experiment(), "xgb", tracker=tracker) as run:
        run.log_parameters(params)
        run.log_dataset(data)
        run.log_metrics(metrics)
    detail = tracker.get_run(run.run_id)
    assert detail.run_id == run.run_id and detail.status == "completed"
    assert detail.start_time is not None and detail.end_time is not None
    assert detail.params == {k: str(v) for k, v in params.items()}
    assert detail.metrics == metrics
    assert detail.dataset_version == capture.dataset_hash(data)
    assert detail.code_version == f"git:{in_repo}"


@EXAMPLES
@given(offsets=st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=6))
def test_property_12_run_ids_are_unique(tracker: TrackerStore, offsets: list[int]) -> None:
    exp = experiment()
    run_ids = [
        tracker.create_run(exp, "same-name", user="u", start_time=T0 + timedelta(seconds=s))
        for s in offsets
    ]
    assert len(set(run_ids)) == len(run_ids)
    assert {tracker.get_run(r).run_id for r in run_ids} == set(run_ids)


THRESHOLDS = [0.0, 0.5, 0.9, 1.0]
threshold_leaf = st.builds(
    Comparison,
    st.builds(Key, st.just("metric"), st.sampled_from(["accuracy", "auc_roc"])),
    st.sampled_from(COMPARISON_OPS),
    st.sampled_from(THRESHOLDS),
)
threshold_filters = st.recursive(
    threshold_leaf,
    lambda inner: st.builds(BoolOp, st.sampled_from(["AND", "OR"]), inner, inner),
    max_leaves=4,
)
_PY_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def reference(node: Node, metrics: dict[str, float]) -> bool:
    if isinstance(node, BoolOp):
        left, right = reference(node.left, metrics), reference(node.right, metrics)
        return (left and right) if node.op == "AND" else (left or right)
    value = metrics.get(node.key.name)
    return value is not None and bool(_PY_OPS[node.op](value, node.value))


@EXAMPLES
@given(
    runs=st.lists(
        st.fixed_dictionaries(
            {
                "accuracy": st.one_of(st.none(), st.sampled_from(THRESHOLDS)),
                "auc_roc": st.one_of(st.none(), st.sampled_from(THRESHOLDS)),
            }
        ),
        max_size=8,
    ),
    node=threshold_filters,
    page_size=st.integers(1, 5),
)
def test_property_13_query_correctness(
    tracker: TrackerStore, runs: list[dict[str, float | None]], node: Node, page_size: int
) -> None:
    exp = experiment()
    logged: dict[str, dict[str, float]] = {}
    for n, values in enumerate(runs):
        run_id = tracker.create_run(
            exp, f"r{n}", user="u", start_time=T0 + timedelta(seconds=n % 3)
        )
        present = {k: v for k, v in values.items() if v is not None}
        if present:
            tracker.log_metrics(run_id, present)
        logged[run_id] = present
    query = f"experiment = '{exp}' and ({render_filter(node)})"
    returned: list[str] = []
    token: str | None = None
    total = -1
    while True:
        page = tracker.search_runs(query, max_results=page_size, page_token=token)
        total = page.total
        for run in page.runs:
            assert reference(node, run.metrics), (query, run.metrics)
        returned += [run.run_id for run in page.runs]
        token = page.next_page_token
        if token is None:
            break
    expected = {run_id for run_id, metrics in logged.items() if reference(node, metrics)}
    assert len(returned) == len(set(returned))
    assert set(returned) == expected and total == len(expected)


@EXAMPLES
@given(source=st.sampled_from(["git", "notebook"]), notebook=st.binary(min_size=1, max_size=50))
def test_property_22_notebook_execution_logging(
    tracker: TrackerStore,
    git_repo: tuple[Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    notebook: bytes,
) -> None:
    nb_dir = tmp_path / uuid.uuid4().hex
    nb_dir.mkdir()
    nb_path = nb_dir / "train.ipynb"
    nb_path.write_bytes(notebook)
    with monkeypatch.context() as mp:
        if source == "git":
            mp.chdir(git_repo[0])
            mp.delenv("JPY_SESSION_NAME", raising=False)
            expected = f"git:{git_repo[1]}"
        else:
            mp.chdir(nb_dir)
            mp.setenv("JPY_SESSION_NAME", str(nb_path))
            mp.setenv("GIT_CEILING_DIRECTORIES", str(nb_dir.parent))
            expected = "nb:" + hashlib.sha256(notebook).hexdigest()
        with Run(experiment(), "train", tracker=tracker) as run:
            run.log_parameters({"max_depth": 3})
            run.log_metric("accuracy", 0.9)
    detail = tracker.get_run(run.run_id)
    assert detail.code_version == expected
    assert {"python", "numpy", "scikit-learn", "fraud_jlab"} <= set(detail.dependencies)
    assert all(re.fullmatch(r"\d+\.\d+.*", v) for v in detail.dependencies.values())
