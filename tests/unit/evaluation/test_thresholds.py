"""Thresholds fitted on validation rows and reported out-of-sample."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.evaluation.metrics import threshold_at_fpr
from fraud_jlab.evaluation.thresholds import (
    DEFAULT_RULE,
    out_of_time_split,
    select_threshold,
    validation_split,
)
from fraud_jlab.tracking.run import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


class ByColumn:
    """Scores are the ``s`` column (a fixed model)."""

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        s = x["s"].to_numpy()
        return np.c_[1 - s, s]


def _holdout(rng: np.random.Generator, n_neg: int = 20_000, n_pos: int = 100) -> pd.DataFrame:
    y = np.r_[np.ones(n_pos, dtype=np.int8), np.zeros(n_neg, dtype=np.int8)]
    s = 1 / (1 + np.exp(-(rng.normal(size=y.size) + 3.5 * y - 5)))
    return pd.DataFrame({"s": s, "Time": rng.permutation(y.size).astype(float), "Class": y})


def test_out_of_sample_fpr_is_honest_where_in_sample_is_not() -> None:
    """Simulated: the in-sample FPR never exceeds the target but fresh data does; the
    out-of-sample report is, on average, what fresh data shows."""
    rng = np.random.default_rng(11)
    target = 0.001
    in_sample, reported, fresh = [], [], []
    for _ in range(150):
        frame = _holdout(rng)
        y, s = frame["Class"].to_numpy(), frame["s"].to_numpy()
        new = _holdout(rng)
        ny, ns = new["Class"].to_numpy(), new["s"].to_numpy()
        thr = threshold_at_fpr(y, s, target)  # the old way: tuned on the rows it reports on
        in_sample.append(np.mean(s[y == 0] >= thr))
        val, test = validation_split(y, random_state=int(rng.integers(1 << 30)))
        chosen = select_threshold(y[val], s[val], y[test], s[test], target_fpr=target)
        reported.append(chosen.test_fpr)
        fresh.append(np.mean(ns[ny == 0] >= chosen.threshold))
    in_sample_a, reported_a, fresh_a = map(np.asarray, (in_sample, reported, fresh))
    print(
        f"\nFPR target {target}: in-sample reported <= target in {np.mean(in_sample_a <= target):.0%}; "
        f"out-of-sample reported mean {reported_a.mean():.5f} vs fresh-data mean {fresh_a.mean():.5f}"
    )
    assert np.all(in_sample_a <= target)  # the flattering in-sample number
    assert abs(reported_a.mean() - fresh_a.mean()) < 0.25 * fresh_a.mean()


def test_validation_split_is_stratified_seeded_or_by_time() -> None:
    y = np.r_[np.ones(20, dtype=np.int8), np.zeros(980, dtype=np.int8)]
    val, test = validation_split(y, fraction=0.3, random_state=3)
    assert int(y[val].sum()) == 6 and int(y[test].sum()) == 14
    assert np.array_equal(val, validation_split(y, fraction=0.3, random_state=3)[0])
    assert not set(val) & set(test) and len(val) + len(test) == y.size
    spread = np.zeros(1000, dtype=np.int8)
    spread[::50] = 1
    time = np.arange(spread.size)[::-1].astype(float)
    val, _ = validation_split(spread, fraction=0.5, time=time)
    assert val.min() == 500  # the earliest times are the last positions
    with pytest.raises(ValidationError) as info:
        validation_split(np.r_[np.ones(1, dtype=np.int8), np.zeros(99, dtype=np.int8)])
    assert info.value.field == "validation_fraction"


def test_out_of_time_split_trains_on_earlier_rows() -> None:
    frame = pd.DataFrame({"Time": [5.0, 1.0, 4.0, 2.0, 3.0], "x": range(5)})
    train, test = out_of_time_split(frame, test_fraction=0.4)
    assert list(train["Time"]) == [1.0, 2.0, 3.0] and list(test["Time"]) == [4.0, 5.0]
    with pytest.raises(ValidationError):
        out_of_time_split(frame.drop(columns="Time"))


def test_evaluator_records_the_threshold_and_the_rows_that_chose_it(tmp_path: Path) -> None:
    tracker = SqliteTrackerStore(tmp_path / "runs.db")
    frame = _holdout(np.random.default_rng(2), n_neg=10_000, n_pos=60)
    x, y = frame[["s", "Time"]], frame["Class"].to_numpy()
    with Run("e", "r", tracker=tracker) as run:
        result = ModelEvaluator(n_bootstrap=50).evaluate_model(ByColumn(), x, y, run=run)
    chosen = result["threshold_selection"]
    assert chosen["rule"].startswith("recall_at_fpr 0.001 on validation split ")
    assert chosen["n_validation"] + chosen["n_test"] == y.size
    detail = tracker.get_run(run.run_id)
    assert detail.metrics["threshold"] == pytest.approx(chosen["threshold"])
    assert detail.tags["evaluation.threshold_rule"] == chosen["rule"]
    assert detail.tags["evaluation.threshold_rows"] == chosen["rows"]
    assert detail.metrics["threshold_test_fpr"] == pytest.approx(chosen["test_fpr"])
    with np.load(
        io.BytesIO(tracker.read_artifact(run.run_id, "evaluation/threshold_rows.npz"))
    ) as z:
        rows = z["validation_rows"]
    assert rows.size == chosen["n_validation"]
    # the threshold is the one those rows give
    assert chosen["threshold"] == threshold_at_fpr(y[rows], x["s"].to_numpy()[rows], 0.001)

    # out-of-time: the earliest rows choose it; a given validation set is used as is
    by_time = ModelEvaluator(n_bootstrap=50).evaluate_model(ByColumn(), x, y, split="time")
    assert "earliest 30% by Time" in by_time["threshold_selection"]["rule"]
    given = ModelEvaluator(n_bootstrap=50).evaluate_model(
        ByColumn(), x, y, X_val=x.iloc[:5000], y_val=y[:5000], threshold_rule="cost"
    )
    assert given["threshold_selection"]["rule"].startswith(
        "cost-optimal (fn 10, fp 1) on the given"
    )
    assert given["threshold_selection"]["n_test"] == y.size
    tracker.close()


def test_too_few_frauds_fall_back_to_the_untuned_rule() -> None:
    y = np.r_[np.ones(1, dtype=np.int8), np.zeros(500, dtype=np.int8)]
    x = pd.DataFrame({"s": np.linspace(0.0, 0.9, y.size)[::-1], "Time": np.arange(y.size)})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ModelEvaluator(n_bootstrap=20, warn_accuracy=0.0).evaluate_model(ByColumn(), x, y)
    assert result["threshold_selection"]["rule"].startswith(DEFAULT_RULE)
