"""package_for_sagemaker: container layouts, content-hashed keys, identical predictions."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from sklearn.ensemble import RandomForestClassifier

from fraud_jlab.abtest.manager import ABTestingManager
from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import AwsOperationError, NotFoundError
from fraud_jlab.modelstore import container_environment, package_for_sagemaker
from fraud_jlab.tracking import Run
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

from .conftest import Split

REGION = "us-east-1"


@pytest.fixture
def aws(moto_env: None) -> tuple[Any, FraudJlab]:
    settings = FraudJlab(region=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=settings.models_bucket)
    return s3, settings


def _download(s3: Any, uri: str) -> tuple[bytes, dict[str, bytes]]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    return body, files


def _logged(tracker: SqliteTrackerStore, model: Any, X: Any) -> str:
    with Run("models", type(model).__name__, tracker=tracker) as run:
        run.log_model(model, X)
    return run.run_id


def test_xgboost_package_has_the_builtin_container_layout_and_deploys(
    aws: tuple[Any, FraudJlab], split: Split, tracker: SqliteTrackerStore, tmp_path: Path
) -> None:
    s3, settings = aws
    X_train, y_train, X_test, _ = split
    model = xgb.XGBClassifier(n_estimators=12, max_depth=3, n_jobs=1).fit(X_train, y_train)
    run_id = _logged(tracker, model, X_train)
    # When the run is packaged
    uri = package_for_sagemaker(run_id, tracker=tracker, s3_client=s3, settings=settings)
    body, files = _download(s3, uri)
    # Then the archive holds exactly the xgboost-model file, the booster's native JSON ...
    assert list(files) == ["xgboost-model"]
    assert json.loads(files["xgboost-model"])["learner"]["objective"]["name"] == "binary:logistic"
    # ... in a key carrying the archive's content hash, recorded on the run
    digest = hashlib.sha256(body).hexdigest()
    assert (
        uri
        == f"s3://{settings.models_bucket}/fraud-jlab-models/{run_id}/model-{digest[:16]}.tar.gz"
    )
    assert tracker.get_run(run_id).tags["sagemaker.model_data_url"] == uri
    assert package_for_sagemaker(run_id, tracker=tracker, s3_client=s3, settings=settings) == uri
    # ... which the container loads (XGBoost reads the file by name) and predicts identically
    (tmp_path / "xgboost-model").write_bytes(files["xgboost-model"])
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / "xgboost-model"))
    served = booster.predict(xgb.DMatrix(X_test.to_numpy()))
    np.testing.assert_array_equal(served, model.predict_proba(X_test)[:, 1])
    assert container_environment("xgboost") == {}
    # and deploy_challenger_endpoint takes the URI
    manager = ABTestingManager(
        settings, sagemaker_client=boto3.client("sagemaker", region_name=REGION), s3_client=s3
    )
    endpoint = manager.deploy_challenger_endpoint("exp-1", uri)
    described = manager.sagemaker.describe_model(ModelName=endpoint)
    assert described["PrimaryContainer"]["ModelDataUrl"] == uri


def test_early_stopped_xgboost_is_packaged_at_its_best_iteration(
    aws: tuple[Any, FraudJlab], split: Split, tracker: SqliteTrackerStore, tmp_path: Path
) -> None:
    s3, settings = aws
    X_train, y_train, X_test, y_test = split
    model = xgb.XGBClassifier(n_estimators=200, early_stopping_rounds=3, n_jobs=1)
    model.fit(X_train, y_train, eval_set=[(X_test, y_test)], verbose=False)
    assert model.best_iteration < 199
    uri = package_for_sagemaker(
        _logged(tracker, model, X_train), tracker=tracker, s3_client=s3, settings=settings
    )
    _, files = _download(s3, uri)
    (tmp_path / "xgboost-model").write_bytes(files["xgboost-model"])
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / "xgboost-model"))
    assert booster.num_boosted_rounds() == model.best_iteration + 1
    served = booster.predict(xgb.DMatrix(X_test.to_numpy()))
    np.testing.assert_array_equal(served, model.predict_proba(X_test)[:, 1])


def _inference_module(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("fj_inference", root / "code" / "inference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("algorithm", ["lightgbm", "random_forest"])
def test_sklearn_container_layout_predicts_identically(
    algorithm: str,
    aws: tuple[Any, FraudJlab],
    split: Split,
    tracker: SqliteTrackerStore,
    tmp_path: Path,
) -> None:
    s3, settings = aws
    X_train, y_train, X_test, _ = split
    model: Any = (
        lgb.LGBMClassifier(n_estimators=10, n_jobs=1, verbose=-1, min_child_weight=1.0)
        if algorithm == "lightgbm"
        else RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    ).fit(X_train, y_train)
    run_id = _logged(tracker, model, X_train)
    uri = package_for_sagemaker(run_id, tracker=tracker, s3_client=s3, settings=settings)
    _, files = _download(s3, uri)
    model_file = "model.txt" if algorithm == "lightgbm" else "model.joblib"
    assert sorted(files) == sorted(
        ["MODEL.json", model_file, "code/inference.py", "code/requirements.txt"]
    )
    requirements = files["code/requirements.txt"].decode()
    if algorithm == "lightgbm":
        assert files[model_file].startswith(b"tree\nversion=")
        assert f"lightgbm=={lgb.__version__}" in requirements
    else:
        import sklearn

        assert f"scikit-learn=={sklearn.__version__}" in requirements
    # unpack as the container does and serve through the entry point
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    inference = _inference_module(tmp_path)
    served = inference.predict_fn(X_test.to_numpy(), inference.model_fn(str(tmp_path)))
    np.testing.assert_array_equal(served, model.predict_proba(X_test)[:, 1])
    assert container_environment("sklearn")["SAGEMAKER_PROGRAM"] == "inference.py"
    assert tracker.get_run(run_id).tags["sagemaker.framework"] == "sklearn"
    # deployable with the scikit-learn container's environment
    manager = ABTestingManager(
        settings, sagemaker_client=boto3.client("sagemaker", region_name=REGION), s3_client=s3
    )
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    endpoint = manager.deploy_challenger_endpoint(
        "exp-2", uri, image_uri=image, environment=container_environment("sklearn")
    )
    container = manager.sagemaker.describe_model(ModelName=endpoint)["PrimaryContainer"]
    assert container["Environment"] == container_environment("sklearn")
    assert container["ModelDataUrl"] == uri and container["Image"] == image


def test_packaging_errors(
    aws: tuple[Any, FraudJlab], split: Split, tracker: SqliteTrackerStore
) -> None:
    s3, settings = aws
    with Run("models", "no-model", tracker=tracker) as run:
        pass
    with pytest.raises(NotFoundError, match="no saved model"):
        package_for_sagemaker(run.run_id, tracker=tracker, s3_client=s3, settings=settings)
    X_train, y_train, _, _ = split
    run_id = _logged(tracker, RandomForestClassifier(n_estimators=2).fit(X_train, y_train), X_train)

    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    s3.meta.events.register("before-call.s3.PutObject", deny)
    with pytest.raises(AwsOperationError) as info:
        package_for_sagemaker(run_id, tracker=tracker, s3_client=s3, settings=settings)
    assert info.value.step == "put_object"
    assert "sagemaker.model_data_url" not in tracker.get_run(run_id).tags
