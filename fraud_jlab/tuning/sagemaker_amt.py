"""SageMaker Automatic Model Tuning of the built-in XGBoost algorithm, through boto3 only.

``launch_tuning_job`` turns a :class:`~fraud_jlab.models.HyperparameterTuningJob`
into a ``CreateHyperParameterTuningJob`` request: the design's ranges as
Integer / Continuous / Categorical parameter ranges, the objective
``validation:auc`` or ``validation:aucpr`` (Maximize), the built-in XGBoost
image of the client's region, the role from ``settings.sagemaker_role_arn``
and the ``train`` / ``validation`` channels from the job's S3 URIs.

Strategy notes: ``Grid`` takes only Categorical ranges and no job limit
(SageMaker runs every combination); ``Hyperband`` uses boosting rounds as
its resource, so ``num_round`` is not tuned: its range becomes
``MinResource``/``MaxResource`` and the static ``num_round`` is the maximum.

Importing a finished job into the tracker and explaining failed training
jobs lives in ``fraud_jlab.tuning.amt_import`` and is re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from fraud_jlab.aws import aws_error, error_code, is_access_denied
from fraud_jlab.aws import client as aws_client
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import AwsOperationError, ValidationError
from fraud_jlab.models.tuning import HyperparameterTuningJob, ParameterRange
from fraud_jlab.tuning.amt_import import (
    TrainingJobFailed,
    check_job_name,
    describe_training_failure,
    failure_guidance,
    import_tuning_job,
)
from fraud_jlab.tuning.space import SEARCH_SPACE, canonical_name, check_range, format_param

#: Region -> ECR account of SageMaker's built-in XGBoost image (``sagemaker-xgboost``).
XGBOOST_IMAGE_ACCOUNTS: dict[str, str] = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-central-1": "492215442770",
    "ap-south-1": "720646828776",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-northeast-1": "354813040037",
}
DEFAULT_XGBOOST_VERSION = "1.7-1"
#: Objective metric -> the XGBoost ``eval_metric`` that makes the container emit it.
AMT_OBJECTIVES: dict[str, str] = {"validation:auc": "auc", "validation:aucpr": "aucpr"}
TERMINAL_STATUSES = ("Completed", "Failed", "Stopped")


def xgboost_image_uri(region: str, version: str = DEFAULT_XGBOOST_VERSION) -> str:
    """The built-in XGBoost training image for ``region``; ValidationError for an unknown region."""
    account = XGBOOST_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise ValidationError(
            f"no built-in XGBoost image known for region {region!r}; known regions: "
            + ", ".join(sorted(XGBOOST_IMAGE_ACCOUNTS))
            + " (or pass image_uri=)",
            field="region",
        )
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:{version}"


def _range_entry(name: str, rng: ParameterRange) -> tuple[str, dict[str, Any]]:
    if rng.type == "Categorical":
        return "CategoricalParameterRanges", {
            "Name": name,
            "Values": [
                format_param(v) if isinstance(v, float) else str(v) for v in rng.values or []
            ],
        }
    if rng.type == "Integer":
        low, high = str(int(rng.min_value or 0)), str(int(rng.max_value or 0))
        key = "IntegerParameterRanges"
    else:
        low, high = format_param(float(rng.min_value or 0)), format_param(float(rng.max_value or 0))
        key = "ContinuousParameterRanges"
    return key, {"Name": name, "MinValue": low, "MaxValue": high, "ScalingType": rng.scaling_type}


def build_tuning_request(
    job: HyperparameterTuningJob,
    *,
    role_arn: str,
    image_uri: str,
    output_path: str,
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    volume_size_gb: int = 30,
    max_runtime_seconds: int = 3600,
    content_type: str = "text/csv",
    static_hyperparameters: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``create_hyper_parameter_tuning_job`` keyword arguments for ``job`` (no AWS call).

    Raises ValidationError for an objective other than ``validation:auc`` /
    ``validation:aucpr`` or Minimize, a hyperparameter outside the design's
    space, or a range outside :data:`~fraud_jlab.tuning.space.SEARCH_SPACE`.
    """
    if job.objective_metric not in AMT_OBJECTIVES:
        raise ValidationError(
            f"objective_metric {job.objective_metric!r} is not supported for tuning; allowed: "
            + ", ".join(AMT_OBJECTIVES),
            field="objective_metric",
        )
    if job.objective_type != "Maximize":
        raise ValidationError(
            f"objective_type must be 'Maximize' for {job.objective_metric}", field="objective_type"
        )
    ranges: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    static: dict[str, str] = {
        "objective": "binary:logistic",
        "eval_metric": AMT_OBJECTIVES[job.objective_metric],
    }
    config: dict[str, Any] = {
        "Strategy": job.strategy,
        "HyperParameterTuningJobObjective": {
            "Type": "Maximize",
            "MetricName": job.objective_metric,
        },
        "ResourceLimits": {"MaxParallelTrainingJobs": job.max_parallel_jobs},
        "TrainingJobEarlyStoppingType": "Off",
    }
    for raw, rng in job.hyperparameter_ranges.items():
        name = canonical_name(raw, field="hyperparameter_ranges")
        check_range(name, rng, field=f"hyperparameter_ranges.{raw}")
        if job.strategy == "Hyperband" and name == "num_round":
            continue
        key, entry = _range_entry(name, rng)
        ranges[key].append(entry)
    if job.strategy == "Hyperband":
        spec = SEARCH_SPACE["num_round"]
        rounds = job.hyperparameter_ranges.get("num_round") or job.hyperparameter_ranges.get(
            "n_estimators"
        )
        if rounds is None:
            low, high = int(spec.low or 1), int(spec.high or 1)
        elif rounds.type == "Categorical":
            values = [int(float(v)) for v in rounds.values or []]
            low, high = min(values), max(values)
        else:
            low, high = int(rounds.min_value or 1), int(rounds.max_value or 1)
        config["StrategyConfig"] = {
            "HyperbandStrategyConfig": {"MinResource": low, "MaxResource": high}
        }
        static["num_round"] = str(high)
    if job.strategy != "Grid":
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = job.max_jobs
    config["ParameterRanges"] = {k: v for k, v in ranges.items() if v}
    if not config["ParameterRanges"]:
        raise ValidationError(
            "hyperparameter_ranges leaves nothing to tune", field="hyperparameter_ranges"
        )
    static.update({k: str(v) for k, v in (static_hyperparameters or {}).items()})
    tuned = {entry["Name"] for entries in ranges.values() for entry in entries}
    if tuned & set(static):
        raise ValidationError(
            "static_hyperparameters may not set tuned hyperparameters: "
            + ", ".join(sorted(tuned & set(static))),
            field="static_hyperparameters",
        )

    def channel(name: str, uri: str) -> dict[str, Any]:
        source = {
            "S3DataType": "S3Prefix",
            "S3Uri": uri,
            "S3DataDistributionType": "FullyReplicated",
        }
        return {
            "ChannelName": name,
            "DataSource": {"S3DataSource": source},
            "ContentType": content_type,
        }

    return {
        "HyperParameterTuningJobName": job.tuning_job_name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": {
            "StaticHyperParameters": static,
            "AlgorithmSpecification": {"TrainingImage": image_uri, "TrainingInputMode": "File"},
            "RoleArn": role_arn,
            "InputDataConfig": [
                channel("train", job.training_data_path),
                channel("validation", job.validation_data_path),
            ],
            "OutputDataConfig": {"S3OutputPath": output_path},
            "ResourceConfig": {
                "InstanceType": instance_type,
                "InstanceCount": instance_count,
                "VolumeSizeInGB": volume_size_gb,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        },
        "Tags": [
            {"Key": k, "Value": v} for k, v in {"fraud_jlab": "tuning", **(tags or {})}.items()
        ],
    }


def _aws_error(exc: Exception, what: str, name: str) -> Exception:
    if error_code(exc) == "ResourceInUse":
        return ValidationError(f"a tuning job named {name!r} already exists; choose another name",
                               field="tuning_job_name")  # fmt: skip
    verb = "was denied" if is_access_denied(exc) else "failed"
    return aws_error(
        exc, f"{what} {name!r} {verb}: {exc}", step=what, not_found=("tuning job", name)
    )


def launch_tuning_job(
    job: HyperparameterTuningJob,
    *,
    sagemaker_client: Any = None,
    settings: FraudJlab | None = None,
    image_uri: str | None = None,
    output_path: str | None = None,
    **options: Any,
) -> str:
    """Start the tuning job on SageMaker and return its ARN.

    ``output_path`` defaults to ``s3://<settings.models_bucket>/tuning/<name>/``;
    ``options`` are passed to :func:`build_tuning_request` (instance type and
    count, volume, runtime, static hyperparameters, tags). Raises
    ValidationError for bad input or a name already in use, AccessDenied, or
    AwsOperationError for other AWS failures.
    """
    settings = settings or get_settings()
    sm = sagemaker_client or aws_client("sagemaker", settings)
    region = sm.meta.region_name
    request = build_tuning_request(
        job,
        role_arn=settings.sagemaker_role_arn,
        image_uri=image_uri or xgboost_image_uri(region),
        output_path=output_path or f"s3://{settings.models_bucket}/tuning/{job.tuning_job_name}/",
        **options,
    )
    try:
        response = sm.create_hyper_parameter_tuning_job(**request)
    except Exception as exc:
        if not error_code(exc):
            raise
        raise _aws_error(exc, "create_hyper_parameter_tuning_job", job.tuning_job_name) from exc
    return str(response["HyperParameterTuningJobArn"])


def _ranges_from_config(config: Mapping[str, Any]) -> dict[str, ParameterRange]:
    ranges: dict[str, ParameterRange] = {}
    param_ranges = config.get("ParameterRanges", {})
    for kind, key in (
        ("Integer", "IntegerParameterRanges"),
        ("Continuous", "ContinuousParameterRanges"),
    ):
        for entry in param_ranges.get(key, []):
            ranges[entry["Name"]] = ParameterRange(
                type=kind,
                min_value=float(entry["MinValue"]),
                max_value=float(entry["MaxValue"]),
                scaling_type=entry.get("ScalingType", "Auto"),
            )
    for entry in param_ranges.get("CategoricalParameterRanges", []):
        ranges[entry["Name"]] = ParameterRange(type="Categorical", values=list(entry["Values"]))
    return ranges


def job_from_description(desc: Mapping[str, Any]) -> HyperparameterTuningJob:
    """A :class:`HyperparameterTuningJob` (config, status and best job) from a describe response."""
    config = desc["HyperParameterTuningJobConfig"]
    definition = desc.get("TrainingJobDefinition") or {}
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
                for c in definition.get("InputDataConfig", [])}  # fmt: skip
    limits = config.get("ResourceLimits", {})
    parallel = int(limits.get("MaxParallelTrainingJobs", 1))
    counters = desc.get("TrainingJobStatusCounters", {})
    max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or max(sum(counters.values()), parallel))
    best = desc.get("BestTrainingJob") or {}
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return HyperparameterTuningJob(
        tuning_job_name=desc["HyperParameterTuningJobName"],
        algorithm="xgboost",
        objective_metric=config["HyperParameterTuningJobObjective"]["MetricName"],
        objective_type=config["HyperParameterTuningJobObjective"]["Type"],
        hyperparameter_ranges=_ranges_from_config(config),
        max_jobs=max_jobs,
        max_parallel_jobs=min(parallel, max_jobs),
        strategy=config.get("Strategy", "Bayesian"),
        training_data_path=channels.get("train", "s3://unknown"),
        validation_data_path=channels.get("validation", "s3://unknown"),
        status=desc["HyperParameterTuningJobStatus"],
        best_training_job=best.get("TrainingJobName"),
        best_hyperparameters=dict(best["TunedHyperParameters"])
        if best.get("TunedHyperParameters")
        else None,
        best_metric_value=float(objective["Value"]) if "Value" in objective else None,
    )


def describe_tuning_job(name: str, *, sagemaker_client: Any = None) -> HyperparameterTuningJob:
    """The tuning job's configuration, status and best training job; NotFoundError if unknown."""
    check_job_name(name, "tuning_job_name")
    sm = sagemaker_client or aws_client("sagemaker")
    try:
        desc = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except Exception as exc:
        if not error_code(exc):
            raise
        raise _aws_error(exc, "describe_hyper_parameter_tuning_job", name) from exc
    return job_from_description(desc)


def wait_for_tuning_job(
    name: str,
    poll_seconds: float = 30.0,
    timeout: float = 6 * 3600.0,
    *,
    sagemaker_client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> HyperparameterTuningJob:
    """Poll until the job is Completed, Failed or Stopped and return it.

    Raises AwsOperationError when ``timeout`` seconds pass first (the job keeps
    running on SageMaker) and ValidationError for non-positive intervals.
    """
    if poll_seconds <= 0 or timeout <= 0:
        raise ValidationError("poll_seconds and timeout must be > 0", field="poll_seconds")
    deadline = clock() + timeout
    while True:
        job = describe_tuning_job(name, sagemaker_client=sagemaker_client)
        if job.status in TERMINAL_STATUSES:
            return job
        if clock() >= deadline:
            raise AwsOperationError(
                f"tuning job {name!r} is still {job.status} after {timeout:g} s; it keeps running "
                "on SageMaker: wait again or stop it",
                step="wait_for_tuning_job",
            )
        sleep(poll_seconds)


__all__ = [
    "AMT_OBJECTIVES",
    "XGBOOST_IMAGE_ACCOUNTS",
    "TrainingJobFailed",
    "build_tuning_request",
    "describe_training_failure",
    "describe_tuning_job",
    "failure_guidance",
    "import_tuning_job",
    "job_from_description",
    "launch_tuning_job",
    "wait_for_tuning_job",
    "xgboost_image_uri",
]
