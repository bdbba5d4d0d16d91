"""Local grid / random / Bayesian searches: scores, tracking, progress and bad input."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedKFold

from fraud_jlab.errors import ValidationError
from fraud_jlab.models.tuning import ParameterRange
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tuning import (
    TrialInfo,
    bayesian_search,
    grid_search,
    random_search,
    text_progress,
)

from .conftest import all_runs, children_of

Data = tuple[np.ndarray, np.ndarray]


def test_shared_model_scores_equal_separately_trained_models(small_data: Data) -> None:
    # Given folds shared with scikit-learn and a grid varying only the round count
    X, y = small_data
    folds = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    grid = {
        "n_estimators": [50, 70, 90],
        "max_depth": [4],
        "learning_rate": [0.2],
        "subsample": [0.7],
        "colsample_bytree": [0.6],
    }
    # When the grid trains one model per fold and scores prefixes of it
    result = grid_search(X, y, grid, cv=folds, seed=3, n_jobs=1, track=False, class_weight=None)
    # Then every fold score equals a separately trained XGBClassifier's sklearn score
    scorer = get_scorer("average_precision")
    assert result.trials["shared_model"].all()
    for _, row in result.trials.iterrows():
        for i, (tr, va) in enumerate(folds):
            clf = xgb.XGBClassifier(
                n_estimators=int(row["num_round"]),
                max_depth=4,
                learning_rate=0.2,
                subsample=0.7,
                colsample_bytree=0.6,
                random_state=3,
                tree_method="hist",
                n_jobs=1,
            )
            clf.fit(X[tr], y[tr])
            assert abs(row[f"fold_{i}_average_precision"] - scorer(clf, X[va], y[va])) <= 1e-9


def test_roc_auc_scoring_matches_sklearn(small_data: Data) -> None:
    X, y = small_data
    folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))
    result = grid_search(
        X,
        y,
        {"max_depth": [3], "num_round": [50]},
        cv=folds,
        scoring="roc_auc",
        track=False,
        n_jobs=1,
        class_weight=None,
    )
    clf = xgb.XGBClassifier(
        n_estimators=50, max_depth=3, random_state=0, tree_method="hist", n_jobs=1
    )
    tr, va = folds[1]
    clf.fit(X[tr], y[tr])
    expected = get_scorer("roc_auc")(clf, X[va], y[va])
    assert abs(result.trials.loc[0, "fold_1_roc_auc"] - expected) <= 1e-9


def test_grid_search_logs_parent_and_one_child_per_combination(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    grid = {"max_depth": [3, 5], "n_estimators": [50, 60]}
    result = grid_search(
        X, y, grid, n_splits=3, tracker=tracker, experiment_name="tune-test", n_jobs=1
    )
    children = children_of(tracker, result.parent_run_id or "")
    assert len(children) == 4
    assert len(result.trials) == 4
    combos = {(c.params["max_depth"], c.params["num_round"]) for c in children}
    assert combos == {("3", "50"), ("3", "60"), ("5", "50"), ("5", "60")}
    for child in children:
        assert child.experiment_name == "tune-test"
        assert child.status == "completed"
        assert set(child.params) == {
            "objective",
            "num_round",
            "max_depth",
            "eta",
            "subsample",
            "colsample_bytree",
        }
        folds = [child.metrics[f"fold_{i}_average_precision"] for i in range(3)]
        assert child.metrics["mean_average_precision"] == pytest.approx(np.mean(folds))
        assert child.metrics["std_average_precision"] == pytest.approx(np.std(folds))
        assert child.metrics["duration_seconds"] > 0
        assert child.tags["trial_state"] == "complete"
        assert child.tags["search_type"] == "grid"
    assert sorted(c.tags["trial_number"] for c in children) == ["0", "1", "2", "3"]
    # the parent carries the best trial
    parent = tracker.get_run(result.parent_run_id or "")
    best = max(children, key=lambda c: c.metrics["mean_average_precision"])
    assert parent.metrics["best_average_precision"] == best.metrics["mean_average_precision"]
    assert parent.params == best.params
    assert parent.tags["best_trial_run_id"] == best.run_id == result.best_run_id
    assert parent.dataset_version is not None
    assert result.best_score == best.metrics["mean_average_precision"]
    assert result.best_params is not None
    assert str(result.best_params["max_depth"]) == best.params["max_depth"]


def test_progress_callback_and_text_bar(small_data: Data) -> None:
    X, y = small_data
    seen: list[TrialInfo] = []
    out = io.StringIO()
    bar = text_progress(out, width=10)

    def on_trial(info: TrialInfo) -> None:
        seen.append(info)
        bar(info)

    grid_search(
        X, y, {"max_depth": [3, 4], "num_round": [50, 55]}, n_splits=2, track=False,
        on_trial=on_trial, n_jobs=1)  # fmt: skip
    assert [i.completed for i in seen] == [1, 2, 3, 4]
    assert sorted(i.number for i in seen) == [0, 1, 2, 3]
    assert all(i.total == 4 for i in seen)
    assert seen[-1].best_score == max(i.score for i in seen if i.score is not None)
    text = out.getvalue()
    assert text.endswith("\n")
    assert "[##########] 4/4 best average_precision=" in text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"param_grid": {}}, "param_grid"),
        ({"param_grid": {"max_depth": []}}, "param_grid.max_depth"),
        ({"param_grid": {"max_depth": [3, 12]}}, "param_grid.max_depth"),
        ({"param_grid": {"max_depth": [3, 3]}}, "param_grid.max_depth"),
        ({"param_grid": {"max_depth": [3]}, "scoring": "accuracy"}, "scoring"),
        ({"param_grid": {"max_depth": [3]}, "n_splits": 1}, "n_splits"),
    ],
)
def test_grid_bad_input_writes_nothing(
    small_data: Data, tracker: TrackerStore, kwargs: dict[str, object], field: str
) -> None:
    X, y = small_data
    with pytest.raises(ValidationError) as err:
        grid_search(X, y, tracker=tracker, **kwargs, n_jobs=1)  # type: ignore[arg-type]
    assert err.value.field == field
    assert all_runs(tracker) == []


def test_unsupported_scoring_lists_allowed_values(small_data: Data) -> None:
    X, y = small_data
    with pytest.raises(ValidationError, match="allowed values: average_precision, roc_auc"):
        grid_search(X, y, {"max_depth": [3]}, scoring="f1", track=False, n_jobs=1)


def test_labels_must_be_binary_and_match_rows(small_data: Data, tracker: TrackerStore) -> None:
    X, y = small_data
    with pytest.raises(ValidationError, match="binary") as err:
        grid_search(X, np.where(y == 1, 2, y), {"max_depth": [3]}, tracker=tracker, n_jobs=1)
    assert err.value.field == "y"
    with pytest.raises(ValidationError, match="400 rows but y has 399") as err:
        grid_search(X, y[:-1], {"max_depth": [3]}, tracker=tracker, n_jobs=1)
    with pytest.raises(ValidationError, match="binary"):
        grid_search(X, np.zeros(len(y)), {"max_depth": [3]}, tracker=tracker, n_jobs=1)
    assert all_runs(tracker) == []


def test_random_search_logs_n_iter_trials_reproducibly(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    space = {
        "max_depth": ParameterRange(type="Integer", min_value=3, max_value=6),
        "eta": ParameterRange(type="Continuous", min_value=0.05, max_value=0.3),
        "num_round": [50, 60],
    }
    first = random_search(X, y, space, 3, n_splits=2, seed=5, tracker=tracker, n_jobs=1)
    again = random_search(X, y, space, 3, n_splits=2, seed=5, track=False, n_jobs=1)
    assert len(children_of(tracker, first.parent_run_id or "")) == 3
    cols = ["max_depth", "eta", "num_round", "mean_average_precision"]
    assert first.trials[cols].equals(again.trials[cols])
    assert all(0.05 <= e <= 0.3 for e in first.trials["eta"])


def test_random_search_without_replacement_rejects_too_many_iterations(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    with pytest.raises(ValidationError, match="4 distinct configurations") as err:
        random_search(
            X, y, {"max_depth": [3, 4], "num_round": [50, 60]}, 5, tracker=tracker, n_jobs=1
        )
    assert err.value.field == "n_iter"
    with pytest.raises(ValidationError) as err:
        random_search(X, y, {"max_depth": [3, 4]}, 0, tracker=tracker, n_jobs=1)
    assert err.value.field == "n_iter"
    assert all_runs(tracker) == []
    # a finite space is sampled without replacement: n_iter == size gives every combination once
    result = random_search(
        X, y, {"max_depth": [3, 4], "num_round": [50, 60]}, 4, n_splits=2, track=False, n_jobs=1
    )
    assert len({(r.max_depth, r.num_round) for r in result.trials.itertuples()}) == 4


def test_random_search_early_stopping_logs_best_rounds(small_data: Data) -> None:
    X, y = small_data
    result = random_search(
        X, y, {"num_round": [200], "eta": [0.3]}, 1, n_splits=2, early_stopping_rounds=5,
        track=False, n_jobs=1)  # fmt: skip
    best = [result.trials.loc[0, f"fold_{i}_best_num_round"] for i in range(2)]
    assert all(1 <= b < 200 for b in best)


def test_early_stopping_stops_on_training_rows_and_scores_on_unseen_validation_rows(
    small_data: Data, tracker: TrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a search with early stopping and spies on training and prediction
    X, y = small_data
    from fraud_jlab.tuning import engine
    from fraud_jlab.tuning.folds import EarlyStoppingSplit, build_folds, make_folds
    from fraud_jlab.tuning.sampling import expand_grid

    trained: list[tuple[Any, Any]] = []
    predicted: list[Any] = []
    real_train, real_predict = xgb.train, xgb.Booster.predict

    def spy_train(params: Any, dtrain: Any, *args: Any, **kwargs: Any) -> xgb.Booster:
        trained.append((dtrain, kwargs["evals"][0][0]))
        return real_train(params, dtrain, *args, **kwargs)

    def spy_predict(self: xgb.Booster, data: Any, *args: Any, **kwargs: Any) -> Any:
        predicted.append(data)
        return real_predict(self, data, *args, **kwargs)

    monkeypatch.setattr(engine.xgb, "train", spy_train)
    monkeypatch.setattr(xgb.Booster, "predict", spy_predict)
    splits = make_folds(y, 2, 0)
    folds = build_folds(X, y, splits, n_jobs=1, feature_names=None)
    # When one configuration is evaluated with early stopping
    [outcome] = engine.evaluate_group(
        expand_grid({"num_round": [200], "eta": [0.3]}), folds, scoring="average_precision", seed=0,
        n_jobs=1, early_stopping_rounds=5,
    )  # fmt: skip
    # Then each fold fits and stops on disjoint parts of its training rows, neither of which
    # is the scored matrix, and scores on the fold's validation rows
    assert len(trained) == len(predicted) == 2
    for fold, (tr, va), (dfit, dstop), dscored in zip(
        folds, splits, trained, predicted, strict=True
    ):
        [inner] = [v for v in fold.extra.values() if isinstance(v, EarlyStoppingSplit)]
        assert dfit is inner.dfit and dstop is inner.dstop and dscored is inner.dscore
        assert dstop is not dscored and dstop is not fold.dvalid and dfit is not fold.dtrain
        assert set(inner.stop_rows).isdisjoint(va) and set(inner.fit_rows).isdisjoint(va)
        assert set(inner.stop_rows).isdisjoint(inner.fit_rows)
        assert sorted([*inner.stop_rows, *inner.fit_rows]) == sorted(tr)
        assert np.array_equal(inner.valid_rows, va)
        assert dstop.num_row() == len(inner.stop_rows) and dscored.num_row() == len(va)
        assert 0.1 <= len(inner.stop_rows) / len(tr) <= 0.2
        assert y[inner.stop_rows].sum() >= 1  # stratified: both classes held out
    assert all(1 <= b < 200 for b in outcome.best_num_rounds)
    # And the full search still logs each fold's best round and the inner split's size
    monkeypatch.setattr(engine.xgb, "train", real_train)
    result = random_search(
        X, y, {"num_round": [200], "eta": [0.3]}, 1, n_splits=2, early_stopping_rounds=5,
        tracker=tracker, n_jobs=1)  # fmt: skip
    best = result.trials[[f"fold_{i}_best_num_round" for i in range(2)]].iloc[0]
    assert best.between(1, 199).all()
    parent = tracker.get_run(result.parent_run_id or "")
    assert parent.tags["early_stopping_holdout_fraction"] == "0.15"


def test_bayesian_search_logs_n_trials_and_marks_pruned(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    space = {
        "max_depth": (3, 8),
        "eta": (0.01, 0.3),
        "num_round": [50, 60],
        "subsample": (0.5, 1.0),
    }
    result = bayesian_search(
        X, y, space, 12, n_splits=3, seed=0, n_startup_trials=2, tracker=tracker, n_jobs=1
    )
    children = children_of(tracker, result.parent_run_id or "")
    assert len(children) == 12
    pruned = [c for c in children if c.tags["trial_state"] == "pruned"]
    complete = [c for c in children if c.tags["trial_state"] == "complete"]
    assert pruned, "the median pruner stopped no trial"
    for child in pruned:
        assert "mean_average_precision" not in child.metrics
        assert "fold_2_average_precision" not in child.metrics
    for child in complete:
        assert "mean_average_precision" in child.metrics
    study = result.extra["study"]
    states = [t.state.name for t in study.trials]
    assert states.count("PRUNED") == len(pruned)
    assert result.best_score == max(c.metrics["mean_average_precision"] for c in complete)
    assert result.trials["eta"].between(0.01, 0.3).all()


def test_bayesian_rejects_space_outside_design_ranges(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    with pytest.raises(ValidationError, match=r"max_depth.*\[3, 10\]"):
        bayesian_search(X, y, {"max_depth": (1, 20)}, 3, tracker=tracker, n_jobs=1)
    with pytest.raises(ValidationError) as err:
        bayesian_search(X, y, None, 0, tracker=tracker, n_jobs=1)
    assert err.value.field == "n_trials"
    assert all_runs(tracker) == []


def test_failing_search_marks_parent_failed(small_data: Data, tracker: TrackerStore) -> None:
    X, y = small_data

    def boom(info: TrialInfo) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        grid_search(X, y, {"max_depth": [3]}, n_splits=2, tracker=tracker, on_trial=boom, n_jobs=1)
    (parent,) = [r for r in all_runs(tracker) if r.parent_run_id is None]
    assert parent.status == "failed"
    assert "stop here" in parent.tags["error"]


def test_plain_lists_and_dataframes_are_accepted(small_data: Data, tracker: TrackerStore) -> None:
    import pandas as pd

    X, y = small_data
    frame = pd.DataFrame(X, columns=[f"V{i}" for i in range(X.shape[1])])
    from_lists = grid_search(
        X.tolist(), y.tolist(), {"max_depth": [3]}, n_splits=2, tracker=tracker, n_jobs=1
    )
    from_frame = grid_search(
        frame, pd.Series(y), {"max_depth": [3]}, n_splits=2, tracker=tracker, n_jobs=1
    )
    assert from_lists.best_score == from_frame.best_score
    for result in (from_lists, from_frame):
        assert tracker.get_run(result.parent_run_id or "").dataset_version is not None


def test_bayesian_early_stopping_scores_each_fold_at_its_best_round(small_data: Data) -> None:
    X, y = small_data
    result = bayesian_search(
        X, y, {"num_round": [200], "eta": (0.2, 0.3)}, 2, n_splits=2, early_stopping_rounds=5,
        prune=False, track=False, n_jobs=1,
    )  # fmt: skip
    assert list(result.trials["state"]) == ["complete", "complete"]
    for i in range(2):
        assert result.trials[f"fold_{i}_best_num_round"].between(1, 199).all()


def test_bayesian_early_stopping_records_the_inner_split_on_the_parent(
    small_data: Data, tracker: TrackerStore
) -> None:
    X, y = small_data
    result = bayesian_search(
        X, y, {"num_round": [200], "eta": (0.2, 0.3)}, 1, n_splits=2, early_stopping_rounds=5,
        prune=False, tracker=tracker, n_jobs=1,
    )  # fmt: skip
    assert result.parent_run_id is not None
    parent = tracker.get_run(result.parent_run_id)
    assert parent.tags["early_stopping_holdout_fraction"] == "0.15"


def test_parallel_workers_give_identical_scores_and_trial_order(
    small_data: Data, tracker: TrackerStore
) -> None:
    # Given a grid with four models (two round counts each)
    X, y = small_data
    grid = {
        "max_depth": [3, 5],
        "learning_rate": [0.1, 0.3],
        "n_estimators": [50, 60],
        "subsample": [0.8],
    }
    seen: list[int] = []
    # When it runs on one thread, then on two workers side by side
    serial = grid_search(X, y, grid, n_splits=3, track=False, n_jobs=1)
    parallel = grid_search(
        X, y, grid, n_splits=3, tracker=tracker, n_jobs=2, on_trial=lambda t: seen.append(t.number)
    )
    # Then every trial's fold scores are identical, trials are reported and logged in order
    fold_columns = [f"fold_{i}_average_precision" for i in range(3)]
    assert parallel.trials[fold_columns].equals(serial.trials[fold_columns])
    assert parallel.best_params == serial.best_params
    assert seen == list(range(8))
    children = children_of(tracker, parallel.parent_run_id or "")
    assert sorted(int(c.tags["trial_number"]) for c in children) == list(range(8))


def test_a_failing_worker_fails_the_search(
    small_data: Data, tracker: TrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fraud_jlab.tuning.parallel as parallel

    real = parallel.evaluate_group

    def flaky(configs: Any, folds: Any, **kwargs: Any) -> Any:
        if configs[0]["max_depth"] == 5:
            raise RuntimeError("worker blew up")
        return real(configs, folds, **kwargs)

    monkeypatch.setattr(parallel, "evaluate_group", flaky)
    X, y = small_data
    with pytest.raises(RuntimeError, match="worker blew up"):
        grid_search(X, y, {"max_depth": [3, 5]}, n_splits=3, tracker=tracker, n_jobs=2)
    parents = [r for r in all_runs(tracker) if r.parent_run_id is None]
    assert [p.status for p in parents] == ["failed"]


def test_balanced_tuning_weights_each_fold_like_the_comparison(small_data: Data) -> None:
    # Given the default weighting (as compare_algorithms weights XGBoost)
    X, y = small_data
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    result = grid_search(
        X, y, {"max_depth": [3], "n_estimators": [50]}, cv=folds, n_jobs=1, track=False
    )
    # Then each fold equals an XGBClassifier with scale_pos_weight = neg/pos of its training rows
    for i, (tr, va) in enumerate(folds):
        neg, pos = int((y[tr] == 0).sum()), int((y[tr] == 1).sum())
        clf = xgb.XGBClassifier(
            n_estimators=50, max_depth=3, random_state=0, tree_method="hist", n_jobs=1,
            scale_pos_weight=neg / pos,
        )  # fmt: skip
        clf.fit(X[tr], y[tr])
        expected = get_scorer("average_precision")(clf, X[va], y[va])
        assert abs(result.trials.loc[0, f"fold_{i}_average_precision"] - expected) <= 1e-9
    with pytest.raises(ValidationError) as info:
        grid_search(X, y, {"max_depth": [3]}, cv=folds, track=False, class_weight="auto")
    assert info.value.field == "class_weight"


def test_parent_run_records_the_best_so_far_curve(small_data: Data, tracker: TrackerStore) -> None:
    # Given a tracked grid search of four trials
    X, y = small_data
    result = grid_search(
        X,
        y,
        {"max_depth": [3, 4], "eta": [0.1, 0.3], "num_round": [50]},
        n_splits=2,
        tracker=tracker,
        n_jobs=1,
    )
    assert result.parent_run_id is not None
    parent = tracker.get_run(result.parent_run_id)
    # Then the parent holds best-so-far per trial: steps 1..4, never decreasing, ending on the best
    curve = parent.metric_history[f"best_{result.scoring}"]
    steps = [s for s, _ in curve]
    values = [v for _, v in curve]
    assert steps == [1, 2, 3, 4]
    assert values == sorted(values)
    assert values[-1] == pytest.approx(parent.metrics[f"best_{result.scoring}"])
    assert values[-1] == pytest.approx(result.best_score)
