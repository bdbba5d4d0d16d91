"""fraud_jlab.datasets: the synthetic generator and CSV/Parquet I/O (local and S3 under moto)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from fraud_jlab.datasets import (
    COLUMNS,
    TIME_SPAN_SECONDS,
    generate_fraud_dataset,
    load_dataset,
    save_dataset,
)
from fraud_jlab.errors import AccessDenied, AwsOperationError, ValidationError

BUCKET = "fraud-detection-data"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_fraud_dataset(100_000, seed=3)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for key in list(os.environ):
        if key.startswith("FRAUD_JLAB_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


# --- generator ---------------------------------------------------------------
def test_same_seed_gives_identical_data_and_other_seeds_differ() -> None:
    a = generate_fraud_dataset(5_000, seed=7)
    b = generate_fraud_dataset(5_000, seed=7)
    c = generate_fraud_dataset(5_000, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["V1"].equals(c["V1"])


def test_columns_shape_and_dtypes(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(COLUMNS)
    assert frame.shape == (100_000, 31)
    assert all(frame[c].dtype == np.float64 for c in COLUMNS[:-1])
    assert frame["Class"].dtype == np.int64
    assert set(frame["Class"].unique()) == {0, 1}
    assert not frame.isna().any().any()


def test_fraud_rate_matches_request(frame: pd.DataFrame) -> None:
    assert frame["Class"].sum() == round(100_000 * 0.00172)
    rare = generate_fraud_dataset(20_000, fraud_rate=0.01, seed=1)
    assert rare["Class"].sum() == 200


def test_time_spans_two_days_sorted_with_a_day_night_cycle(frame: pd.DataFrame) -> None:
    time = frame["Time"]
    assert time.iloc[0] == 0.0 and time.iloc[-1] == TIME_SPAN_SECONDS
    assert time.is_monotonic_increasing
    assert (time == np.round(time)).all()
    hour = (time % 86_400) // 3_600
    night = hour.between(1, 5)
    afternoon = hour.between(13, 17)
    # Far fewer transactions at night than in the afternoon (same-length windows) ...
    assert night.sum() < 0.4 * afternoon.sum()
    # ... but fraud is over-represented at night.
    assert frame.loc[night, "Class"].mean() > 1.5 * frame["Class"].mean()


def test_amount_is_right_skewed_non_negative_with_cents(frame: pd.DataFrame) -> None:
    amount = frame["Amount"]
    assert (amount >= 0).all()
    assert np.allclose(amount * 100, np.round(amount * 100))
    assert amount.mean() > 2 * amount.median()
    assert float(amount.skew()) > 3  # type: ignore[arg-type]
    fraud, legit = amount[frame["Class"] == 1], amount[frame["Class"] == 0]
    assert fraud.median() != pytest.approx(legit.median(), rel=0.05)


def test_components_are_centred_pca_like_and_mostly_uncorrelated(frame: pd.DataFrame) -> None:
    legit = frame[frame["Class"] == 0]
    v = legit[[f"V{i}" for i in range(1, 29)]]
    assert np.abs(v.mean()).max() < 0.05
    std = v.std().to_numpy()
    assert std[0] > 1.5 and std[-1] < 0.5 and np.all(np.diff(std) < 0)
    corr = np.corrcoef(v.to_numpy(), rowvar=False)
    assert np.abs(corr[~np.eye(28, dtype=bool)]).max() < 0.05
    # Fraud differs from legit in several components.
    fraud = frame[frame["Class"] == 1]
    shift = (fraud[v.columns].mean() - v.mean()).abs() / v.std()
    assert (shift > 0.5).sum() >= 4


def test_xgboost_learns_it_but_does_not_separate_it_perfectly() -> None:
    import xgboost as xgb
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import train_test_split

    df = generate_fraud_dataset(60_000, seed=0)
    train, test = train_test_split(df, test_size=0.2, stratify=df["Class"], random_state=0)
    features = [c for c in df.columns if c != "Class"]
    booster = xgb.train(
        {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "nthread": 1},
        xgb.DMatrix(train[features], label=train["Class"]),
        num_boost_round=50,
    )
    score = booster.predict(xgb.DMatrix(test[features]))
    ap = average_precision_score(test["Class"], score)
    assert 0.3 < ap < 0.97


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_rows": 99}, "n_rows"),
        ({"n_rows": 1000.0}, "n_rows"),
        ({"n_rows": True}, "n_rows"),
        ({"fraud_rate": 0.0}, "fraud_rate"),
        ({"fraud_rate": 0.5}, "fraud_rate"),
        ({"fraud_rate": -0.1}, "fraud_rate"),
        ({"fraud_rate": "0.1"}, "fraud_rate"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        generate_fraud_dataset(**{"n_rows": 1000, **kwargs})
    assert err.value.field == field
    assert field in str(err.value)


# --- local I/O ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["data.parquet", "data.pq", "data.csv", "data.csv.gz"])
def test_local_round_trip(tmp_path: Path, name: str) -> None:
    df = generate_fraud_dataset(500, seed=2)
    uri = str(tmp_path / "nested" / name)
    assert save_dataset(df, uri) == uri
    loaded = load_dataset(uri)
    pd.testing.assert_frame_equal(loaded, df, check_exact=False, rtol=1e-12)


def test_missing_local_file_says_what_to_check(tmp_path: Path) -> None:
    path = tmp_path / "absent.parquet"
    with pytest.raises(FileNotFoundError, match=r"Data file not found: .*absent\.parquet\. Ensure"):
        load_dataset(str(path))


@pytest.mark.parametrize("uri", ["data.json", "data.xlsx", "s3://bucket/data.txt", "noext"])
def test_unsupported_extension_names_the_formats(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ValidationError, match=r"\.csv, \.csv\.gz, \.parquet, \.pq") as err:
        load_dataset(uri)
    assert err.value.field == "uri"
    with pytest.raises(ValidationError):
        save_dataset(generate_fraud_dataset(200), str(tmp_path / Path(uri).name))
    assert not (tmp_path / Path(uri).name).exists()


def test_empty_or_corrupt_files_are_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="empty"):
        load_dataset(str(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text("Time,V1,Class\n")
    with pytest.raises(ValidationError, match="no rows"):
        load_dataset(str(header_only))
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"not parquet at all")
    with pytest.raises(ValidationError, match="not a readable parquet file"):
        load_dataset(str(corrupt))


def test_save_rejects_empty_frames_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    with pytest.raises(ValidationError) as err:
        save_dataset(pd.DataFrame({"a": []}), str(target))
    assert err.value.field == "frame"
    with pytest.raises(ValidationError):
        save_dataset([1, 2, 3], str(target))  # type: ignore[arg-type]
    assert not target.exists()


# --- S3 ----------------------------------------------------------------------
@pytest.mark.parametrize("key", ["datasets/creditcard.parquet", "datasets/creditcard.csv.gz"])
def test_s3_round_trip(s3: Any, key: str) -> None:
    df = generate_fraud_dataset(1_000, seed=4)
    uri = f"s3://{BUCKET}/{key}"
    save_dataset(df, uri, s3_client=s3)
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0
    pd.testing.assert_frame_equal(
        load_dataset(uri, s3_client=s3), df, check_exact=False, rtol=1e-12
    )
    # The default client (boto3's chain) reaches the same object.
    pd.testing.assert_frame_equal(load_dataset(uri), df, check_exact=False, rtol=1e-12)


def test_s3_missing_key_is_file_not_found(s3: Any) -> None:
    uri = f"s3://{BUCKET}/datasets/missing.parquet"
    with pytest.raises(FileNotFoundError) as err:
        load_dataset(uri, s3_client=s3)
    assert str(err.value) == (
        f"Data file not found: {uri}. Ensure the data preparation pipeline has run successfully."
    )


def test_s3_missing_bucket_is_value_error(s3: Any) -> None:
    with pytest.raises(
        ValueError, match=r"S3 bucket does not exist: no-such-bucket\. Check your AWS"
    ):
        load_dataset("s3://no-such-bucket/data.parquet", s3_client=s3)
    with pytest.raises(ValueError, match="S3 bucket does not exist"):
        save_dataset(generate_fraud_dataset(200), "s3://no-such-bucket/x.csv", s3_client=s3)


def _inject(client: Any, operation: str, code: str, status: int) -> None:
    def fail(**_: Any) -> None:
        response: Any = {
            "Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        raise ClientError(response, operation)

    client.meta.events.register(f"before-call.s3.{operation}", fail)


@pytest.mark.parametrize("code", ["403", "AccessDenied"])
def test_s3_access_denied_names_the_permission(s3: Any, code: str) -> None:
    save_dataset(generate_fraud_dataset(200), f"s3://{BUCKET}/d.parquet", s3_client=s3)
    _inject(s3, "GetObject", code, 403)
    with pytest.raises(PermissionError, match="s3:GetObject") as err:
        load_dataset(f"s3://{BUCKET}/d.parquet", s3_client=s3)
    assert isinstance(err.value, AccessDenied)
    _inject(s3, "PutObject", code, 403)
    with pytest.raises(PermissionError, match="s3:PutObject"):
        save_dataset(generate_fraud_dataset(200), f"s3://{BUCKET}/e.parquet", s3_client=s3)


def test_other_s3_errors_are_runtime_errors(s3: Any) -> None:
    _inject(s3, "GetObject", "SlowDown", 503)
    with pytest.raises(RuntimeError, match=r"S3 error: .*SlowDown") as err:
        load_dataset(f"s3://{BUCKET}/d.parquet", s3_client=s3)
    assert isinstance(err.value, AwsOperationError)
    assert err.value.aws_error_code == "SlowDown"


def test_s3_uri_needs_bucket_and_key() -> None:
    with pytest.raises(ValidationError, match="s3://bucket/key"):
        load_dataset("s3://only-bucket.parquet")
