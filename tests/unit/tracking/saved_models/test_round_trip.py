"""log_model / load_model: every algorithm predicts identically after a round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.features.engineer import FEATURE_ENGINEERING_VERSION
from fraud_jlab.tracking import Run
from fraud_jlab.tracking.saved_models import (
    METADATA_FILE,
    ModelVersionMismatch,
    flavors,
    load_model,
)
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

from .conftest import Split


def _models() -> dict[str, Any]:
    return {
        "xgboost": xgb.XGBClassifier(
            n_estimators=15, max_depth=3, subsample=0.8, scale_pos_weight=5.0, n_jobs=1
        ),
        "lightgbm": lgb.LGBMClassifier(
            n_estimators=15, min_child_weight=1.0, n_jobs=1, verbose=-1, subsample=0.8,
            subsample_freq=1,
        ),
        "random_forest": RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0),
        "mlp": Pipeline(
            [
                ("scaler", StandardScaler()),
                ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0)),
            ]
        ),
    }  # fmt: skip


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("algorithm", ["xgboost", "lightgbm", "random_forest", "mlp"])
def test_round_trip_predicts_identically(
    algorithm: str, split: Split, tracker: SqliteTrackerStore
) -> None:
    # Given a fitted model logged with its run
    X_train, y_train, X_test, _ = split
    model = _models()[algorithm].fit(X_train, y_train)
    with Run("models", algorithm, tracker=tracker) as run:
        info = run.log_model(model, X_train)
    # When it is loaded back from the tracker alone
    loaded = load_model(run.run_id, tracker=tracker)
    # Then it gives exactly the same probabilities, and knows its signature
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert np.array_equal(loaded.predict(X_test), (model.predict_proba(X_test)[:, 1] >= 0.5))
    assert loaded.algorithm == info.algorithm == algorithm
    assert loaded.signature.feature_names == tuple(X_train.columns)
    assert loaded.signature.dtypes == ("float64",) * 6
    assert loaded.signature.feature_version == FEATURE_ENGINEERING_VERSION
    detail = tracker.get_run(run.run_id)
    assert detail.tags["model.uri"] == f"runs:/{run.run_id}/model"
    assert {a.path for a in detail.artifacts} == {METADATA_FILE, f"model/{info.file}"}
    # the URI form loads the same model
    again = load_model(f"runs:/{run.run_id}/model", tracker=tracker)
    assert np.array_equal(again.predict_proba(X_test), model.predict_proba(X_test))


def test_native_formats(split: Split, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, _, _ = split
    models = _models()
    files = {}
    for name in ("xgboost", "lightgbm", "random_forest"):
        with Run("models", name, tracker=tracker) as run:
            info = run.log_model(models[name].fit(X_train, y_train), X_train)
        files[name] = tracker.read_artifact(run.run_id, f"model/{info.file}")
    # XGBoost: the booster's JSON; LightGBM: its text model; scikit-learn: a joblib pickle
    assert json.loads(files["xgboost"])["learner"]["objective"]["name"] == "binary:logistic"
    assert files["lightgbm"].startswith(b"tree\nversion=")
    assert files["random_forest"][:1] == b"\x80"  # pickle protocol marker


def test_xgboost_booster_and_numpy_input(split: Split, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, X_test, _ = split
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
        xgb.DMatrix(X_train, label=y_train),
        num_boost_round=10,
    )
    with Run("models", "booster", tracker=tracker) as run:
        run.log_model(booster, X_train)
    loaded = load_model(run.run_id, tracker=tracker)
    expected = booster.predict(xgb.DMatrix(X_test))
    assert np.array_equal(loaded.predict_proba(X_test.to_numpy())[:, 1], expected)


def test_early_stopped_xgboost_keeps_its_best_iteration(
    split: Split, tracker: SqliteTrackerStore
) -> None:
    X_train, y_train, X_test, y_test = split
    model = xgb.XGBClassifier(n_estimators=200, early_stopping_rounds=3, n_jobs=1)
    model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
    assert model.best_iteration < 199
    with Run("models", "es", tracker=tracker) as run:
        run.log_model(model, X_train)
    loaded = load_model(run.run_id, tracker=tracker)
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_sklearn_pickle_from_other_versions_is_refused(
    split: Split, tracker: SqliteTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    X_train, y_train, _, _ = split
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    with Run("models", "rf", tracker=tracker) as run:
        run.log_model(model, X_train)
    real = flavors.runtime_versions()
    monkeypatch.setattr(
        flavors, "runtime_versions", lambda: {**real, "sklearn": "0.24.2", "python": "3.8.10"}
    )
    with pytest.raises(ModelVersionMismatch) as info:
        load_model(run.run_id, tracker=tracker)
    message = str(info.value)
    assert f"scikit-learn {real['sklearn']} (installed: 0.24.2)" in message
    assert "Python" in message and "refit" in message


def test_tampered_model_file_is_refused(split: Split, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, _, _ = split
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)
    with Run("models", "rf", tracker=tracker) as run:
        info = run.log_model(model, X_train)
        run.log_artifact(f"model/{info.file}", b"not the model")
    with pytest.raises(ValidationError, match="SHA-256"):
        load_model(run.run_id, tracker=tracker)


def test_bad_inputs(split: Split, tracker: SqliteTrackerStore) -> None:
    X_train, y_train, X_test, _ = split
    with Run("models", "bad", tracker=tracker) as run:
        with pytest.raises(ValidationError, match="not fitted") as unfitted:
            run.log_model(RandomForestClassifier(), X_train)
        assert unfitted.value.field == "model"
        with pytest.raises(ValidationError, match="predict_proba"):
            run.log_model(object(), X_train)
        with pytest.raises(ValidationError) as no_x:
            run.log_model(RandomForestClassifier().fit(X_train, y_train))
        assert no_x.value.field == "X"
    assert tracker.get_run(run.run_id).artifacts == []
    with pytest.raises(NotFoundError, match="no saved model"):
        load_model(run.run_id, tracker=tracker)
    with Run("models", "ok", tracker=tracker) as good:
        good.log_model(RandomForestClassifier(n_estimators=2).fit(X_train, y_train), X_train)
    loaded = load_model(good.run_id, tracker=tracker)
    with pytest.raises(ValidationError, match="missing \\['Amount'\\]"):
        loaded.predict_proba(X_test.drop(columns="Amount"))
    with pytest.raises(ValidationError, match="order"):
        loaded.predict_proba(X_test[list(reversed(X_test.columns))])


@pytest.fixture(scope="module")
def mlflow_tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fraud_jlab.tracking.mlflow.store import MlflowTrackerStore

    store = MlflowTrackerStore(f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}")
    yield store
    store.close()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("algorithm", ["xgboost", "lightgbm", "random_forest", "mlp"])
def test_round_trip_on_the_mlflow_backend(
    algorithm: str, split: Split, mlflow_tracker: Any
) -> None:
    X_train, y_train, X_test, _ = split
    model = _models()[algorithm].fit(X_train, y_train)
    with Run("models", algorithm, tracker=mlflow_tracker) as run:
        run.log_model(model, X_train)
    loaded = load_model(run.run_id, tracker=mlflow_tracker)
    assert np.array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))
    assert mlflow_tracker.get_run(run.run_id).tags["model.algorithm"] == algorithm
