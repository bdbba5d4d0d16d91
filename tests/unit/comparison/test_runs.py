"""compare_runs against a temporary SQLite tracker."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fraud_jlab import Run
from fraud_jlab.comparison import CompareResult, compare_runs
from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.evaluation import ModelEvaluator
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


class FixedScoreModel:
    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.scores[np.asarray(X, dtype=int).ravel()]
        return np.column_stack([1 - p, p])


def _evaluated_run(
    tracker: SqliteTrackerStore, name: str, y: np.ndarray, score: np.ndarray, params: dict
) -> str:
    with Run("compare-test", name, tracker=tracker) as run:
        run.log_parameters(params)
        # Some of these deliberately weak models score below the 0.80 warning level.
        ModelEvaluator(n_bootstrap=20, warn_accuracy=0.0).evaluate_model(
            FixedScoreModel(score), np.arange(y.size).reshape(-1, 1), y, run=run
        )
    return run.run_id


@pytest.fixture
def three_runs(
    tracker: SqliteTrackerStore, holdout: tuple[np.ndarray, np.ndarray]
) -> dict[str, str]:
    y, good = holdout
    rng = np.random.default_rng(9)
    bad = np.clip(good + rng.normal(scale=0.5, size=good.size), 0, 1)
    similar = np.clip(good + rng.normal(scale=1e-4, size=good.size), 0, 1)
    return {
        "good": _evaluated_run(tracker, "good", y, good, {"max_depth": 7, "eta": 0.1}),
        "bad": _evaluated_run(tracker, "bad", y, bad, {"max_depth": 3, "eta": 0.3}),
        "similar": _evaluated_run(tracker, "similar", y, similar, {"max_depth": 6, "eta": 0.2}),
    }


def test_paired_deltas_against_the_baseline(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    result = compare_runs(
        [three_runs["good"], three_runs["bad"], three_runs["similar"]],
        baseline_run_id=three_runs["bad"],
        tracker=tracker,
        n_bootstrap=300,
    )
    assert isinstance(result, CompareResult)
    assert result.baseline_run_id == three_runs["bad"]
    assert [r.run_name for r in result.runs] == ["good", "bad", "similar"]
    assert result.metric_names[:2] == ["accuracy", "precision"]
    assert not any(m.endswith("_ci_low") for m in result.metric_names)
    deltas = {(d.run_id, d.metric): d for d in result.deltas}
    good_ap = deltas[(three_runs["good"], "average_precision")]
    assert good_ap.paired is True
    assert good_ap.significant is True
    assert good_ap.ci_low is not None and good_ap.ci_low > 0
    assert good_ap.delta == pytest.approx(good_ap.value - good_ap.baseline_value)
    assert all(d.run_id != three_runs["bad"] for d in result.deltas)


def test_same_model_is_not_significantly_different(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    result = compare_runs(
        [three_runs["good"], three_runs["similar"]],
        baseline_run_id=three_runs["good"],
        tracker=tracker,
        n_bootstrap=300,
    )
    ap = next(d for d in result.deltas if d.metric == "average_precision")
    assert ap.paired is True
    assert ap.significant is False
    assert ap.ci_low <= 0 <= ap.ci_high  # type: ignore[operator]


def test_figures_are_json_safe_and_complete(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    result = compare_runs(list(three_runs.values()), tracker=tracker, n_bootstrap=50)
    assert result.baseline_run_id is None and result.deltas == []
    payload = json.loads(json.dumps(result.model_dump(mode="json")))
    figures = payload["figures"]
    assert len(figures["metric_bars"]["data"]) == 3
    assert len(figures["roc"]["data"]) == 4  # three runs + chance line
    assert all(len(trace["x"]) <= 500 for trace in figures["pr"]["data"])
    labels = [d["label"] for d in figures["parallel_coordinates"]["data"][0]["dimensions"]]
    assert labels == ["eta", "max_depth", "average_precision"]


def test_production_run_is_the_default_baseline(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    result = compare_runs(
        [three_runs["good"], three_runs["similar"]],
        tracker=tracker,
        production_run_id=three_runs["bad"],
        n_bootstrap=50,
    )
    assert result.baseline_run_id == three_runs["bad"]
    assert three_runs["bad"] in [r.run_id for r in result.runs]
    assert any("production" in n for n in result.notes)
    missing = compare_runs(
        [three_runs["good"], three_runs["similar"]], tracker=tracker, production_run_id="nope"
    )
    assert missing.baseline_run_id is None
    assert any("not in this tracker" in n for n in missing.notes)


def test_different_holdouts_or_missing_scores_give_unpaired_deltas(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    rng = np.random.default_rng(0)
    y_other = (rng.random(300) < 0.1).astype(int)
    other = _evaluated_run(tracker, "other-holdout", y_other, rng.random(300), {"max_depth": 5})
    with Run("compare-test", "metrics-only", tracker=tracker) as run:
        run.log_metrics({"accuracy": 0.99, "average_precision": 0.5})
    result = compare_runs(
        [other, run.run_id, three_runs["good"]],
        baseline_run_id=three_runs["good"],
        tracker=tracker,
        n_bootstrap=50,
    )
    assert result.deltas
    for d in result.deltas:
        assert d.paired is False and d.ci_low is None and d.significant is None
    assert any("different holdouts" in n for n in result.notes)
    assert any("no stored holdout scores" in n for n in result.notes)


def test_duplicates_are_removed(tracker: SqliteTrackerStore, three_runs: dict[str, str]) -> None:
    good, bad = three_runs["good"], three_runs["bad"]
    result = compare_runs([good, bad, good], tracker=tracker, n_bootstrap=20)
    assert [r.run_id for r in result.runs] == [good, bad]


@pytest.mark.parametrize(
    "run_ids", [["only-one"], [], ["a", "a"], [f"r{i}" for i in range(11)], "abc"]
)
def test_run_id_count_is_validated(tracker: SqliteTrackerStore, run_ids: object) -> None:
    with pytest.raises(ValidationError) as err:
        compare_runs(run_ids, tracker=tracker)  # type: ignore[arg-type]
    assert err.value.field == "run_ids"
    if isinstance(run_ids, list) and run_ids:
        assert "between 2 and 10" in str(err.value)


def test_unknown_run_id_is_not_found(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    with pytest.raises(NotFoundError):
        compare_runs([three_runs["good"], "01UNKNOWNRUN"], tracker=tracker)
    with pytest.raises(NotFoundError):
        compare_runs(
            [three_runs["good"], three_runs["bad"]], baseline_run_id="01UNKNOWNRUN", tracker=tracker
        )


def test_same_labels_different_rows_are_unpaired(tracker: SqliteTrackerStore) -> None:
    """Two holdouts of different transactions with identical labels must not be paired."""
    import pandas as pd

    from fraud_jlab.evaluation.holdout import holdout_hash, holdout_identity

    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.1).astype(int)
    y[:2] = [0, 1]
    rows_a = pd.DataFrame({"row": np.arange(400)}, index=np.arange(400))
    rows_b = pd.DataFrame({"row": np.arange(400)}, index=np.arange(1000, 1400))
    assert holdout_hash(y) == holdout_hash(y.copy())
    assert holdout_identity(rows_a, y) != holdout_identity(rows_b, y)
    assert holdout_identity(rows_a, y) == holdout_identity(rows_a.copy(), y)
    score = rng.random(400)
    ids = []
    for name, rows in (("a", rows_a), ("b", rows_b)):
        with Run("compare-test", name, tracker=tracker) as run:
            ModelEvaluator(n_bootstrap=20, warn_accuracy=0.0).evaluate_model(
                FixedScoreModel(score), rows, y, run=run
            )
        ids.append(run.run_id)
    result = compare_runs(ids, baseline_run_id=ids[1], tracker=tracker, n_bootstrap=50)
    assert result.deltas
    for d in result.deltas:
        assert d.paired is False and d.ci_low is None and d.significant is None
        assert d.p_value is None and d.method is None
    assert any("different holdouts" in n and "unpaired" in n for n in result.notes)


def test_older_label_only_artifacts_are_not_paired(tracker: SqliteTrackerStore) -> None:
    from fraud_jlab.evaluation.holdout import (
        HOLDOUT_ARTIFACT,
        holdout_scores_npz,
        read_holdout_scores,
    )

    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.1).astype(int)
    y[:2] = [0, 1]
    ids = []
    for name in ("old-a", "old-b"):
        score = rng.random(300)
        with Run("compare-test", name, tracker=tracker) as run:
            run.log_metrics({"average_precision": float(score.mean())})
            run.log_artifact(HOLDOUT_ARTIFACT, holdout_scores_npz(y, score))
        ids.append(run.run_id)
    stored = read_holdout_scores(tracker.read_artifact(ids[0], HOLDOUT_ARTIFACT))
    assert stored.holdout_identity is None
    result = compare_runs(ids, baseline_run_id=ids[1], tracker=tracker, n_bootstrap=50)
    (ap,) = result.deltas
    assert ap.paired is False and ap.ci_low is None and ap.significant is None
    assert ap.role == "primary"
    assert any("unpaired: holdout identity unknown (older artifact)" in n for n in result.notes)


def test_roles_methods_and_holm(tracker: SqliteTrackerStore, three_runs: dict[str, str]) -> None:
    from fraud_jlab.comparison.runs import holm_adjust
    from fraud_jlab.evaluation.metrics import HEADLINE_METRICS

    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    with pytest.raises(ValidationError):
        compare_runs(
            [three_runs["good"], three_runs["bad"]], tracker=tracker, primary_metric="nope"
        )
    result = compare_runs(
        [three_runs["good"], three_runs["bad"]],
        baseline_run_id=three_runs["good"],
        tracker=tracker,
        n_bootstrap=200,
    )
    assert result.primary_metric == "average_precision"
    assert any("primary metric: average_precision" in n for n in result.notes)
    by_metric = {d.metric: d for d in result.deltas}
    ap, auc = by_metric["average_precision"], by_metric["auc_roc"]
    assert ap.role == "primary" and ap.method == "paired_bootstrap"
    assert ap.p_adjusted == ap.p_value and ap.significant is (ap.p_value < 0.05)  # type: ignore[operator]
    assert auc.role == "secondary" and auc.method == "delong"
    secondary = [d for d in result.deltas if d.role == "secondary"]
    assert {d.metric for d in secondary} == set(HEADLINE_METRICS) - {"average_precision"}
    for d in secondary:
        assert d.p_value is not None and d.p_adjusted is not None
        assert d.p_adjusted >= d.p_value
        assert d.significant is (d.p_adjusted < 0.05)
    for d in result.deltas:
        if d.metric not in HEADLINE_METRICS:
            assert d.role == "descriptive" and d.significant is None
    primary_auc = compare_runs(
        [three_runs["good"], three_runs["bad"]],
        baseline_run_id=three_runs["good"],
        tracker=tracker,
        n_bootstrap=50,
        primary_metric="auc_roc",
    )
    auc2 = next(d for d in primary_auc.deltas if d.metric == "auc_roc")
    assert auc2.role == "primary" and auc2.significant is True


def test_overlay_keeps_every_low_fpr_point(
    tracker: SqliteTrackerStore, three_runs: dict[str, str], holdout: tuple[np.ndarray, np.ndarray]
) -> None:
    from fraud_jlab.evaluation.plots import curve_points

    y, good = holdout
    fpr = curve_points(y, good.astype(np.float32))[0]
    result = compare_runs([three_runs["good"], three_runs["bad"]], tracker=tracker, n_bootstrap=20)
    roc = result.figures.roc
    assert roc is not None and roc["layout"]["xaxis"]["type"] == "log"
    good_x = np.asarray(next(t for t in roc["data"] if t["name"] == "good")["x"])
    assert np.count_nonzero(good_x <= 0.01) == np.count_nonzero(fpr <= 0.01)


def test_pr_overlay_has_the_holdout_prevalence_line(
    tracker: SqliteTrackerStore,
    three_runs: dict[str, str],
    holdout: tuple[np.ndarray, np.ndarray],
) -> None:
    # Given three runs evaluated on the same holdout
    y, _score = holdout
    # When they are compared
    result = compare_runs(list(three_runs.values()), tracker=tracker, n_bootstrap=20)
    # Then the PR figure has the three curves and one prevalence line (a random model)
    assert result.figures.pr is not None
    traces = result.figures.pr["data"]
    prevalence = [t for t in traces if t["name"].startswith("prevalence")]
    assert len(traces) == 4 and len(prevalence) == 1
    assert prevalence[0]["y"] == [pytest.approx(y.mean())] * 2
    assert prevalence[0]["name"] == f"prevalence {y.mean():.4%}"


def test_holdout_descriptions_are_not_compared_and_paired_runs_say_so_on_every_row(
    tracker: SqliteTrackerStore, three_runs: dict[str, str]
) -> None:
    # Given two runs evaluated on the same holdout (they record holdout_n_pos and friends)
    good = tracker.get_run(three_runs["good"])
    assert {"holdout_n_pos", "holdout_fraud_rate"} <= set(good.metrics)
    result = compare_runs(
        [three_runs["good"], three_runs["bad"]], baseline_run_id=three_runs["bad"], tracker=tracker
    )
    # Then the holdout's own numbers are neither deltas nor bars: they describe the data
    assert not any(d.metric.startswith("holdout_") for d in result.deltas)
    assert not any(m.startswith("holdout_") for m in result.metric_names)
    # and every delta row of the pair is marked paired, tested or not (no "different holdouts")
    assert result.deltas and all(d.paired for d in result.deltas)
    untested = [d for d in result.deltas if d.ci_low is None]
    assert all(d.role == "descriptive" for d in untested)
