"""SageMaker Automatic Model Tuning: requests, moto round trips, import and failure guidance.

moto covers create/describe of tuning jobs (always Completed, a made-up best
job). It cannot list a tuning job's training jobs, so the import tests use
botocore's Stubber for exactly those calls (describe tuning job, list its
training jobs, describe each training job) on a client that never reaches AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import AwsOperationError, ConflictError, NotFoundError, ValidationError
from fraud_jlab.models.tuning import HyperparameterTuningJob, ParameterRange
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tuning.sagemaker_amt import (
    TrainingJobFailed,
    build_tuning_request,
    describe_training_failure,
    describe_tuning_job,
    import_tuning_job,
    launch_tuning_job,
    wait_for_tuning_job,
    xgboost_image_uri,
)
from fraud_jlab.tuning.space import default_parameter_ranges

from .conftest import all_runs, children_of

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def make_job(**overrides: Any) -> HyperparameterTuningJob:
    fields: dict[str, Any] = {
        "tuning_job_name": "fraud-xgb-tuning-1",
        "algorithm": "xgboost",
        "objective_metric": "validation:auc",
        "hyperparameter_ranges": default_parameter_ranges(),
        "max_jobs": 20,
        "max_parallel_jobs": 5,
        "strategy": "Bayesian",
        "training_data_path": "s3://fraud-detection-data/train/",
        "validation_data_path": "s3://fraud-detection-data/validation/",
    }
    fields.update(overrides)
    return HyperparameterTuningJob(**fields)


def request_for(job: HyperparameterTuningJob) -> dict[str, Any]:
    return build_tuning_request(
        job, role_arn=ROLE, image_uri=xgboost_image_uri("us-east-1"), output_path="s3://m/out/"
    )


def test_bayesian_request_uses_design_ranges_objective_image_and_channels() -> None:
    request = request_for(make_job())
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
    }
    assert config["ResourceLimits"] == {"MaxParallelTrainingJobs": 5, "MaxNumberOfTrainingJobs": 20}
    ints = {
        r["Name"]: (r["MinValue"], r["MaxValue"])
        for r in config["ParameterRanges"]["IntegerParameterRanges"]
    }
    floats = {
        r["Name"]: (r["MinValue"], r["MaxValue"])
        for r in config["ParameterRanges"]["ContinuousParameterRanges"]
    }
    assert ints == {"max_depth": ("3", "10"), "num_round": ("50", "200")}
    assert floats == {
        "eta": ("0.01", "0.3"),
        "subsample": ("0.5", "1.0"),
        "colsample_bytree": ("0.5", "1.0"),
    }
    definition = request["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {
        "objective": "binary:logistic",
        "eval_metric": "auc",
    }
    assert definition["AlgorithmSpecification"]["TrainingImage"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert definition["RoleArn"] == ROLE
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in definition["InputDataConfig"]
    }
    assert channels == {
        "train": "s3://fraud-detection-data/train/",
        "validation": "s3://fraud-detection-data/validation/",
    }


def test_aucpr_objective_sets_matching_eval_metric() -> None:
    request = request_for(make_job(objective_metric="validation:aucpr"))
    assert request["TrainingJobDefinition"]["StaticHyperParameters"]["eval_metric"] == "aucpr"


def test_grid_request_has_categorical_ranges_and_no_job_limit() -> None:
    ranges = {
        "max_depth": ParameterRange(type="Categorical", values=[3, 6]),
        "eta": ParameterRange(type="Categorical", values=[0.1, 0.3]),
    }
    config = request_for(make_job(strategy="Grid", hyperparameter_ranges=ranges))[
        "HyperParameterTuningJobConfig"
    ]
    assert "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]
    assert config["ParameterRanges"] == {
        "CategoricalParameterRanges": [
            {"Name": "max_depth", "Values": ["3", "6"]},
            {"Name": "eta", "Values": ["0.1", "0.3"]},
        ]
    }


def test_hyperband_uses_rounds_as_resource() -> None:
    request = request_for(make_job(strategy="Hyperband"))
    config = request["HyperParameterTuningJobConfig"]
    assert config["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 50, "MaxResource": 200}
    }
    names = [r["Name"] for r in config["ParameterRanges"]["IntegerParameterRanges"]]
    assert names == ["max_depth"]
    assert request["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] == "200"
    assert config["TrainingJobEarlyStoppingType"] == "Off"


def test_request_rejects_unsupported_objective_and_out_of_space_ranges() -> None:
    with pytest.raises(ValidationError, match="validation:auc, validation:aucpr") as err:
        request_for(make_job(objective_metric="validation:accuracy"))
    assert err.value.field == "objective_metric"
    bad = {"max_depth": ParameterRange(type="Integer", min_value=1, max_value=20)}
    with pytest.raises(ValidationError, match=r"max_depth.*\[3, 10\]"):
        request_for(make_job(hyperparameter_ranges=bad))
    with pytest.raises(ValidationError, match="known regions"):
        xgboost_image_uri("mars-north-1")


def test_launch_and_describe_against_moto() -> None:
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        settings = FraudJlab(sagemaker_role_arn=ROLE)
        arn = launch_tuning_job(make_job(), sagemaker_client=sm, settings=settings)
        assert arn.endswith(":hyper-parameter-tuning-job/fraud-xgb-tuning-1")
        raw = sm.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="fraud-xgb-tuning-1"
        )
        assert raw["TrainingJobDefinition"]["RoleArn"] == ROLE
        job = wait_for_tuning_job("fraud-xgb-tuning-1", poll_seconds=1, sagemaker_client=sm)
        assert job.status == "Completed"
        assert job.hyperparameter_ranges == make_job().hyperparameter_ranges
        assert job.training_data_path == "s3://fraud-detection-data/train/"
        # the same name again is a clear 400, an unknown name a 404
        with pytest.raises(ValidationError, match="already exists"):
            launch_tuning_job(make_job(), sagemaker_client=sm, settings=settings)
        with pytest.raises(NotFoundError):
            describe_tuning_job("no-such-job", sagemaker_client=sm)


def tuning_description(status: str = "Completed") -> dict[str, Any]:
    job = make_job()
    request = request_for(job)
    return {
        "HyperParameterTuningJobName": job.tuning_job_name,
        "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/fraud-xgb-tuning-1",
        "HyperParameterTuningJobConfig": request["HyperParameterTuningJobConfig"],
        "TrainingJobDefinition": request["TrainingJobDefinition"],
        "HyperParameterTuningJobStatus": status,
        "CreationTime": T0,
        "HyperParameterTuningEndTime": T0 + timedelta(hours=1),
        "TrainingJobStatusCounters": {"Completed": 2, "NonRetryableError": 1},
        "ObjectiveStatusCounters": {"Succeeded": 2, "Failed": 1},
    }


def summary(
    name: str, minutes: int, status: str, auc: float | None, **extra: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "CreationTime": T0 + timedelta(minutes=minutes),
        "TrainingStartTime": T0 + timedelta(minutes=minutes),
        "TrainingEndTime": T0 + timedelta(minutes=minutes + 3),
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"max_depth": "5", "eta": "0.1"},
        **extra,
    }
    if auc is not None:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "MetricName": "validation:auc",
            "Value": auc,
        }
        item["ObjectiveStatus"] = "Succeeded"
    return item


def training_description(
    name: str, minutes: int, status: str, auc: float | None, reason: str = ""
) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://m/out/{name}/model.tar.gz"},
        "TrainingJobStatus": status,
        "SecondaryStatus": status,
        "HyperParameters": {
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "num_round": "120",
            "max_depth": str(4 + minutes),
            "eta": "0.1",
            "subsample": "0.8",
            "colsample_bytree": "0.9",
            "_tuning_objective_metric": "validation:auc",
        },
        "AlgorithmSpecification": {
            "TrainingImage": xgboost_image_uri("us-east-1"),
            "TrainingInputMode": "File",
        },
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": T0 + timedelta(minutes=minutes),
        "TrainingStartTime": T0 + timedelta(minutes=minutes),
        "TrainingEndTime": T0 + timedelta(minutes=minutes + 3),
        "BillableTimeInSeconds": 170,
    }
    if auc is not None:
        desc["FinalMetricDataList"] = [
            {"MetricName": "validation:auc", "Value": auc, "Timestamp": T0}
        ]
    if reason:
        desc["FailureReason"] = reason
    return desc


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm) as stubber:
        yield sm, stubber


def stub_import(stubber: Stubber) -> None:
    name = "fraud-xgb-tuning-1"
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        tuning_description(),
        {"HyperParameterTuningJobName": name},
    )
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {
            "TrainingJobSummaries": [
                summary("job-001", 0, "Completed", 0.91),
                summary("job-002", 1, "Completed", 0.95),
            ],
            "NextToken": "page-2",
        },
        {"HyperParameterTuningJobName": name, "MaxResults": 100},
    )
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {
            "TrainingJobSummaries": [
                summary(
                    "job-003",
                    2,
                    "Failed",
                    None,
                    FailureReason="AlgorithmError: num_round must be > 0",
                )
            ]
        },
        {"HyperParameterTuningJobName": name, "MaxResults": 100, "NextToken": "page-2"},
    )
    stubber.add_response(
        "describe_training_job",
        training_description("job-001", 0, "Completed", 0.91),
        {"TrainingJobName": "job-001"},
    )
    stubber.add_response(
        "describe_training_job",
        training_description("job-002", 1, "Completed", 0.95),
        {"TrainingJobName": "job-002"},
    )
    stubber.add_response(
        "describe_training_job",
        training_description("job-003", 2, "Failed", None, "AlgorithmError: num_round must be > 0"),
        {"TrainingJobName": "job-003"},
    )


def test_import_creates_parent_and_child_runs(
    stubbed: tuple[Any, Stubber], tracker: TrackerStore
) -> None:
    sm, stubber = stubbed
    stub_import(stubber)
    parent_id = import_tuning_job("fraud-xgb-tuning-1", tracker=tracker, sagemaker_client=sm)
    stubber.assert_no_pending_responses()
    parent = tracker.get_run(parent_id)
    assert parent.tags["source"] == "sagemaker-amt"
    assert parent.tags["sagemaker_tuning_job_name"] == "fraud-xgb-tuning-1"
    assert parent.metrics == {"best_validation_auc": 0.95}
    assert parent.params["max_depth"] == "5"  # job-002's
    children = {c.tags["sagemaker_training_job_name"]: c for c in children_of(tracker, parent_id)}
    assert set(children) == {"job-001", "job-002", "job-003"}
    ok = children["job-002"]
    assert ok.status == "completed"
    assert ok.params == {
        "objective": "binary:logistic",
        "num_round": "120",
        "max_depth": "5",
        "eta": "0.1",
        "subsample": "0.8",
        "colsample_bytree": "0.9",
    }
    assert ok.metrics["validation_auc"] == 0.95
    assert ok.metrics["duration_seconds"] == 180.0
    assert ok.metrics["billable_seconds"] == 170.0
    assert ok.start_time == T0 + timedelta(minutes=1)
    assert parent.tags["best_trial_run_id"] == ok.run_id
    failed = children["job-003"]
    assert failed.status == "failed"
    assert failed.tags["trial_state"] == "failed"
    assert failed.tags["failure_reason"] == "AlgorithmError: num_round must be > 0"
    assert "Check hyperparameters and data format" in failed.tags["failure_guidance"]
    # importing again would duplicate the runs
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        tuning_description(),
        {"HyperParameterTuningJobName": "fraud-xgb-tuning-1"},
    )
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job", {"TrainingJobSummaries": []}, None
    )
    with pytest.raises(ConflictError, match=parent_id):
        import_tuning_job("fraud-xgb-tuning-1", tracker=tracker, sagemaker_client=sm)


def test_import_refuses_running_job_and_writes_nothing(
    stubbed: tuple[Any, Stubber], tracker: TrackerStore
) -> None:
    sm, stubber = stubbed
    stubber.add_response(
        "describe_hyper_parameter_tuning_job", tuning_description("InProgress"), None
    )
    with pytest.raises(ConflictError, match="InProgress"):
        import_tuning_job("fraud-xgb-tuning-1", tracker=tracker, sagemaker_client=sm)
    assert all_runs(tracker) == []


def test_import_aws_failure_writes_nothing(
    stubbed: tuple[Any, Stubber], tracker: TrackerStore
) -> None:
    sm, stubber = stubbed
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_description(), None)
    stubber.add_client_error(
        "list_training_jobs_for_hyper_parameter_tuning_job", "ThrottlingException", "Rate exceeded"
    )
    with pytest.raises(AwsOperationError, match="Rate exceeded") as err:
        import_tuning_job("fraud-xgb-tuning-1", tracker=tracker, sagemaker_client=sm)
    assert err.value.aws_error_code == "ThrottlingException"
    assert all_runs(tracker) == []


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("ResourceLimitExceeded: The account-level service limit 'ml.p3.2xlarge' is 0",
         "Try reducing instance count or requesting limit increase"),
        ("AlgorithmError: framework error: feature_names mismatch",
         "Check hyperparameters and data format"),
        ("InternalServerError: We encountered an internal error",
         "Check CloudWatch logs for details: /aws/sagemaker/TrainingJobs/job-009"),
    ],
)  # fmt: skip
def test_describe_training_failure_gives_actionable_message(
    stubbed: tuple[Any, Stubber], reason: str, expected: str
) -> None:
    sm, stubber = stubbed
    stubber.add_response(
        "describe_training_job",
        training_description("job-009", 0, "Failed", None, reason),
        {"TrainingJobName": "job-009"},
    )
    with pytest.raises(TrainingJobFailed) as err:
        describe_training_failure("job-009", sagemaker_client=sm)
    assert expected in str(err.value)
    assert reason in str(err.value)
    assert err.value.training_job_name == "job-009"


def test_describe_training_failure_is_silent_for_healthy_and_404_for_unknown() -> None:
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        with pytest.raises(NotFoundError, match="no-such-job"):
            describe_training_failure("no-such-job", sagemaker_client=sm)
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm) as stubber:
        stubber.add_response(
            "describe_training_job", training_description("job-1", 0, "Completed", 0.9), None
        )
        assert describe_training_failure("job-1", sagemaker_client=sm) is None


def test_wait_times_out_while_job_runs(stubbed: tuple[Any, Stubber]) -> None:
    sm, stubber = stubbed
    for _ in range(3):
        stubber.add_response(
            "describe_hyper_parameter_tuning_job", tuning_description("InProgress"), None
        )
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with pytest.raises(AwsOperationError, match="still InProgress after 20 s"):
        wait_for_tuning_job(
            "fraud-xgb-tuning-1",
            poll_seconds=10,
            timeout=20,
            sagemaker_client=sm,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert sleeps == [10, 10]


def test_bad_job_names_are_rejected_before_any_call(tracker: TrackerStore) -> None:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sm):  # any AWS call would fail: no responses queued
        with pytest.raises(ValidationError) as err:
            import_tuning_job("", tracker=tracker, sagemaker_client=sm)
        assert err.value.field == "tuning_job_name"
        with pytest.raises(ValidationError):
            describe_training_failure("bad name!", sagemaker_client=sm)
        with pytest.raises(ValidationError):
            describe_tuning_job("-x", sagemaker_client=sm)
