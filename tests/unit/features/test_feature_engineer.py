"""FeatureEngineer: new features without mutation, correct night hours, train-only selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from fraud_jlab.errors import ValidationError
from fraud_jlab.features import (
    NIGHT_HOURS,
    FeatureEngineer,
    FeatureSelectionWarning,
    FeatureSelector,
)


@pytest.fixture
def transactions() -> pd.DataFrame:
    # One transaction per hour over two days, starting at midnight of 1970-01-01 (a Thursday).
    hours = np.arange(48)
    return pd.DataFrame(
        {
            "Time": hours * 3600 + 59,
            "V1": np.linspace(-1, 1, 48),
            "V2": np.linspace(2, 3, 48),
            "Amount": np.linspace(0, 470, 48),
        }
    )


@pytest.fixture
def labelled() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    n = 2000
    y = pd.Series((rng.random(n) < 0.1).astype(int))
    X = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(8)})
    X["f3"] += 2.5 * y  # strongest signal
    X["f6"] += 1.0 * y  # weaker signal
    return X, y


def test_time_features_and_is_night_hours(transactions: pd.DataFrame) -> None:
    out = FeatureEngineer().create_time_features(transactions)
    assert out["hour"].tolist() == list(range(24)) * 2
    night = out.loc[out["is_night"] == 1, "hour"].unique().tolist()
    assert sorted(night) == [0, 1, 2, 3, 4, 5, 22, 23]
    assert set(night) == NIGHT_HOURS
    # 1970-01-01 is a Thursday (dayofweek 3), so neither day is a weekend.
    assert out["day_of_week"].unique().tolist() == [3, 4]
    assert out["is_weekend"].sum() == 0
    shifted = FeatureEngineer().create_time_features(transactions, origin="1970-01-03")  # Saturday
    assert shifted["is_weekend"].all()


def test_feature_methods_never_mutate_the_input(transactions: pd.DataFrame) -> None:
    before = transactions.copy(deep=True)
    fe = FeatureEngineer()
    out = fe.create_interaction_features(
        fe.create_amount_features(fe.create_time_features(transactions)), [("V1", "V2")]
    )
    assert_frame_equal(transactions, before)
    assert out is not transactions
    assert {"hour", "is_night", "amount_log", "amount_sqrt", "amount_squared", "V1_x_V2"} <= set(
        out
    )
    np.testing.assert_allclose(out["V1_x_V2"], transactions["V1"] * transactions["V2"])
    np.testing.assert_allclose(out["amount_log"], np.log1p(transactions["Amount"]))


@pytest.mark.parametrize(
    ("method", "frame", "field"),
    [
        ("time", pd.DataFrame({"x": [1]}), "df"),
        ("time", pd.DataFrame({"Time": [-5.0]}), "Time"),
        ("time", pd.DataFrame({"Time": ["noon"]}), "Time"),
        ("amount", pd.DataFrame({"Amount": [1.0, -2.0]}), "Amount"),
        ("amount", pd.DataFrame({"Amount": [1.0, None]}), "Amount"),
        ("amount", [1, 2, 3], "df"),
    ],
)
def test_bad_frames_raise_validation_errors(method: str, frame: object, field: str) -> None:
    fe = FeatureEngineer()
    call = fe.create_time_features if method == "time" else fe.create_amount_features
    with pytest.raises(ValidationError) as err:
        call(frame)  # type: ignore[arg-type]
    assert err.value.field == field


def test_interaction_features_validate_pairs(transactions: pd.DataFrame) -> None:
    fe = FeatureEngineer()
    with pytest.raises(ValidationError, match="V9"):
        fe.create_interaction_features(transactions, [("V1", "V9")])
    with pytest.raises(ValidationError) as err:
        fe.create_interaction_features(transactions, [("V1",)])  # type: ignore[list-item]
    assert err.value.field == "feature_pairs"


def test_univariate_selection_picks_the_informative_features(labelled: tuple) -> None:
    X, y = labelled
    selected, scores = FeatureEngineer().select_features_univariate(X, y, k=2)
    assert selected == ["f3", "f6"]
    assert scores["score"].is_monotonic_decreasing
    assert set(scores["feature"]) == set(X.columns)


def test_k_larger_than_the_feature_count_selects_all_with_a_note(labelled: tuple) -> None:
    X, y = labelled
    with pytest.warns(FeatureSelectionWarning, match="selecting all 8"):
        selected, _ = FeatureEngineer().select_features_univariate(X, y, k=50)
    assert sorted(selected) == sorted(X.columns)


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_k_below_one_or_not_an_integer_is_rejected(labelled: tuple, k: object) -> None:
    X, y = labelled
    with pytest.raises(ValidationError) as err:
        FeatureEngineer().select_features_univariate(X, y, k=k)  # type: ignore[arg-type]
    assert err.value.field == "k"


def test_constant_columns_score_zero_without_runtime_warnings(labelled: tuple) -> None:
    X, y = labelled
    X = X.assign(const=1.0)
    selected, scores = FeatureEngineer().select_features_univariate(X, y, k=3)
    assert "const" not in selected
    assert scores.set_index("feature").loc["const", "score"] == 0.0


def test_rfe_and_importance(labelled: tuple) -> None:
    X, y = labelled
    fe = FeatureEngineer(n_jobs=1)
    selected, ranking = fe.select_features_rfe(X, y, n_features=2)
    assert len(selected) == 2 and "f3" in selected
    assert (ranking.set_index("feature").loc[selected, "ranking"] == 1).all()
    importance = fe.analyze_feature_importance(X, y, n_estimators=20)
    assert importance["feature"].iloc[0] == "f3"
    assert importance["importance"].sum() == pytest.approx(1.0)
    # Seeded: the same call gives the same ranking.
    assert fe.select_features_rfe(X, y, n_features=2)[0] == selected


def test_selection_rejects_bad_inputs(labelled: tuple) -> None:
    X, y = labelled
    fe = FeatureEngineer()
    with pytest.raises(ValidationError) as err:
        fe.select_features_univariate(X.to_numpy(), y, k=2)  # type: ignore[arg-type]
    assert err.value.field == "X"
    with pytest.raises(ValidationError) as err:
        fe.select_features_univariate(X, y[:10], k=2)
    assert err.value.field == "y"
    with pytest.raises(ValidationError) as err:
        fe.select_features_univariate(X.assign(f0=np.nan), y, k=2)
    assert err.value.field == "X"


def test_selector_fitted_on_train_applies_train_columns_to_test() -> None:
    # Given a training split where f0 carries the signal and a test split where f1 does
    rng = np.random.default_rng(1)
    n = 1000
    y_train = (rng.random(n) < 0.2).astype(int)
    X_train = pd.DataFrame({"f0": rng.normal(size=n) + 3 * y_train, "f1": rng.normal(size=n)})
    y_test = (rng.random(n) < 0.2).astype(int)
    X_test = pd.DataFrame({"f1": rng.normal(size=n) + 3 * y_test, "f0": rng.normal(size=n)})

    selector = FeatureSelector("univariate", k=1).fit(X_train, y_train)
    out = selector.transform(X_test)

    # Then the test split keeps the column chosen on train, not the one best on test
    assert list(out.columns) == ["f0"]
    np.testing.assert_array_equal(out["f0"], X_test["f0"])
    with pytest.raises(ValidationError, match="f0"):
        selector.transform(X_test.drop(columns="f0"))


def test_unfitted_or_misconfigured_selector() -> None:
    with pytest.raises(ValidationError, match="not fitted"):
        FeatureSelector().transform(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValidationError) as err:
        FeatureSelector("magic")  # type: ignore[arg-type]
    assert err.value.field == "method"
