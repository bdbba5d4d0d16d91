"""fraud_jlab configuration: one traitlets ``Configurable``.

Set values in ``jupyter_server_config.py`` as ``c.FraudJlab.<name> = ...`` or
override any of them with an environment variable ``FRAUD_JLAB_<NAME>``
(upper case), e.g. ``FRAUD_JLAB_TRACKING_URI=sqlite:////tmp/runs.db``.
Environment variables win over config files, so a notebook kernel and the
server it runs under agree when both read the same environment; a value passed
as a keyword (``FraudJlab(tracking_uri=...)``) wins over both.

AWS credentials, region and endpoint come from boto3's default chain
(``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``...); ``region``
here only overrides the region when set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from traitlets import Float, Int, TraitError, Unicode, default, validate
from traitlets.config import Config, Configurable

from fraud_jlab.redact import redact_value

ENV_PREFIX = "FRAUD_JLAB_"


def _default_data_dir() -> Path:
    """The user's Jupyter data dir, as ``jupyter --data-dir`` prints it.

    The rules of ``jupyter_core.paths.jupyter_data_dir`` (tested against it), so that the
    core does not import Jupyter: ``JUPYTER_DATA_DIR``; with ``JUPYTER_PLATFORM_DIRS`` set,
    platformdirs' user data dir; else ``~/Library/Jupyter`` (macOS),
    ``%APPDATA%/jupyter`` (Windows) or ``$XDG_DATA_HOME/jupyter`` (default ``~/.local/share``).
    """
    env = os.environ
    if env.get("JUPYTER_DATA_DIR"):
        return Path(env["JUPYTER_DATA_DIR"])
    platform_dirs = env.get("JUPYTER_PLATFORM_DIRS", "")
    if platform_dirs and platform_dirs.lower() not in ("no", "n", "false", "off", "0", "0.0"):
        import platformdirs

        return Path(platformdirs.user_data_dir("jupyter", appauthor=False))
    home = Path("~").expanduser().resolve()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        if appdata:
            return Path(appdata, "jupyter").resolve()
        return Path(env.get("JUPYTER_CONFIG_DIR") or home / ".jupyter") / "data"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "jupyter"


class FraudJlab(Configurable):
    """Settings shared by the fraud_jlab core, server extension, widgets and magic."""

    tracking_uri = Unicode(
        help=(
            "Where runs are tracked: 'sqlite:///<absolute path>' (default: fraud_jlab/runs.db "
            "under the Jupyter data dir), 'mlflow+<MLflow tracking URI>', "
            "'sagemaker:[?region=...&bucket=...]' (SageMaker Experiments) or the scheme of a "
            "backend registered under the 'fraud_jlab.trackers' entry-point group."
        ),
    ).tag(config=True)

    config_bucket = Unicode(
        "fraud-detection-config",
        help="S3 bucket holding production-model-config.yaml, its archive, backups and the promotion ledger.",
    ).tag(config=True)

    data_bucket = Unicode(
        "fraud-detection-data",
        help="S3 bucket holding training and validation datasets.",
    ).tag(config=True)

    models_bucket = Unicode(
        "fraud-detection-models",
        help="S3 bucket holding model artifacts (model.tar.gz) for deployment.",
    ).tag(config=True)

    ssm_prefix = Unicode(
        "/fraud-detection/hyperparameters/",
        help="SSM Parameter Store path prefix the production pipeline reads hyperparameters from.",
    ).tag(config=True)

    state_machine_arn = Unicode(
        "arn:aws:states:us-east-1:123456789012:stateMachine:fraud-detection-training-pipeline",
        help="ARN of the Step Functions state machine that retrains the production model.",
    ).tag(config=True)

    production_endpoint = Unicode(
        "fraud-detection-production",
        help="Name of the SageMaker endpoint serving the production (champion) model.",
    ).tag(config=True)

    ground_truth_s3_uri = Unicode(
        "",
        help=(
            "Where the fraud labels of scored requests arrive (SageMaker Model Monitor's "
            "ground-truth JSON Lines, keyed by the request's InferenceId), read by the A/B "
            "readout. Empty: s3://<config_bucket>/ground-truth/<production_endpoint>."
        ),
    ).tag(config=True)

    data_capture_s3_uri = Unicode(
        "",
        help=(
            "Where SageMaker Data Capture writes the production endpoint's scored requests "
            "(JSON Lines under <uri>/<endpoint>/<variant>/YYYY/MM/DD/HH/), read by the A/B "
            "readout. Empty: s3://<config_bucket>/data-capture."
        ),
    ).tag(config=True)

    region = Unicode(
        "",
        help="AWS region for every client. Empty: boto3's default chain (AWS_DEFAULT_REGION, profile).",
    ).tag(config=True)

    sagemaker_role_arn = Unicode(
        "arn:aws:iam::123456789012:role/SageMakerExecutionRole",
        help="IAM role SageMaker assumes for training jobs, tuning jobs and endpoints.",
    ).tag(config=True)

    promotion_lock_ttl_seconds = Int(
        900,
        help="Seconds after which a promotion lock left by a crashed process may be taken over.",
    ).tag(config=True)

    min_accuracy = Float(
        0.90,
        help="Promotion gate and evaluation threshold: minimum accuracy for production.",
    ).tag(config=True)

    max_average_precision_drop = Float(
        0.04,
        help=(
            "Promotion gate (non-inferiority margin): the one-sided 95% lower bound of the paired "
            "average-precision difference versus the run in production, on the same holdout "
            "rows, must be above minus this. At ~100 frauds the paired difference of two "
            "equally good models has a standard error of ~0.012-0.018, so a margin below ~0.03 "
            "blocks most equally good candidates."
        ),
    ).tag(config=True)

    min_average_precision_lift = Float(
        3.0,
        help=(
            "Promotion gate: average precision must be at least this many times the fraud rate "
            "of the run's holdout (a model that ranks at random scores the fraud rate)."
        ),
    ).tag(config=True)

    min_average_precision = Float(
        0.0,
        help="Promotion gate: an absolute average-precision floor (applied with the lift floor).",
    ).tag(config=True)

    min_recall_at_fpr = Float(
        0.25,
        help="Promotion gate: minimum recall at the false-positive rate gate_target_fpr.",
    ).tag(config=True)

    gate_target_fpr = Float(
        0.001,
        help="Promotion gate: the false-positive rate recall_at_fpr is judged at (0.1%).",
    ).tag(config=True)

    max_compare_runs = Int(
        10,
        help="Most runs one comparison request may name.",
    ).tag(config=True)

    tracker_threads = Int(
        16,
        help=(
            "Worker threads the server gives tracker reads and writes (runs, experiments); "
            "separate from aws_threads so slow AWS calls never starve them."
        ),
    ).tag(config=True)

    aws_threads = Int(
        16,
        help="Worker threads the server gives AWS-bound requests (promotions, production, compare).",
    ).tag(config=True)

    aws_connect_timeout_seconds = Float(
        5.0,
        help="Seconds boto3 waits to open a connection to AWS before the attempt fails.",
    ).tag(config=True)

    aws_read_timeout_seconds = Float(
        30.0,
        help="Seconds boto3 waits for an AWS response before the attempt fails.",
    ).tag(config=True)

    aws_max_attempts = Int(
        4,
        help="Attempts boto3 makes per AWS call (first try plus retries, adaptive backoff).",
    ).tag(config=True)

    approver = Unicode(
        "",
        help=(
            "Who approves production changes made through this server or kernel when no named "
            "Jupyter user or SageMaker Studio user profile identifies the person (e.g. "
            "'Jane Doe <jane@example.com>'). Empty: production changes are refused without one."
        ),
    ).tag(config=True)

    studio_metadata_file = Unicode(
        "/opt/ml/metadata/resource-metadata.json",
        help=(
            "SageMaker Studio's resource metadata file; its UserProfileName (and ExecutionRoleArn) "
            "name the approver when the Jupyter user is anonymous."
        ),
    ).tag(config=True)

    max_body_bytes = Int(
        1_048_576,
        help=(
            "Largest request body (bytes) a fraud_jlab REST endpoint accepts; larger bodies "
            "are answered 413 before they are parsed."
        ),
    ).tag(config=True)

    @validate("max_body_bytes")
    def _body_limit(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1024 <= value <= 1_073_741_824:
            raise TraitError(f"max_body_bytes must be between 1024 and 1073741824, got {value}")
        return value

    @validate("tracker_threads", "aws_threads", "aws_max_attempts")
    def _positive_int(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= 1000:
            raise TraitError(f"{proposal['trait'].name} must be between 1 and 1000, got {value}")
        return value

    @validate("aws_connect_timeout_seconds", "aws_read_timeout_seconds")
    def _positive_seconds(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0 < value <= 3600:
            raise TraitError(
                f"{proposal['trait'].name} must be > 0 and <= 3600 seconds, got {value}"
            )
        return value

    @validate(
        "min_average_precision",
        "min_recall_at_fpr",
        "max_average_precision_drop",
    )
    def _unit_float(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0 <= value <= 1:
            raise TraitError(f"{proposal['trait'].name} must be in [0, 1], got {value}")
        return value

    @validate("gate_target_fpr")
    def _open_unit_float(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0 < value < 1:
            raise TraitError(f"gate_target_fpr must be in (0, 1), got {value}")
        return value

    @validate("ground_truth_s3_uri", "data_capture_s3_uri")
    def _s3_uri_or_empty(self, proposal: Any) -> str:
        value = str(proposal["value"])
        bucket = value.strip()[len("s3://") :].split("/", 1)[0]
        if value.strip() and (not value.strip().startswith("s3://") or not bucket):
            raise TraitError(
                f"{proposal['trait'].name} must be empty or s3://<bucket>[/prefix], got {value!r}"
            )
        return value

    @validate("min_average_precision_lift")
    def _lift(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0 <= value <= 1000:
            raise TraitError(f"min_average_precision_lift must be in [0, 1000], got {value}")
        return value

    @default("tracking_uri")
    def _default_tracking_uri(self) -> str:
        return "sqlite:///" + str(_default_data_dir() / "fraud_jlab" / "runs.db")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apply_environment(os.environ, keep=frozenset(kwargs))

    def apply_environment(self, environ: Any, keep: frozenset[str] = frozenset()) -> None:
        """Override traits from ``FRAUD_JLAB_<NAME>`` variables (validated by the trait types),
        except the traits named in ``keep`` (those given explicitly)."""
        for name, trait in self.traits(config=True).items():
            raw = None if name in keep else environ.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            try:
                value: Any = trait.from_string(raw)
            except Exception as exc:  # traitlets raises TraitError/ValueError
                from fraud_jlab.errors import ValidationError

                raise ValidationError(
                    f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {type(trait).__name__}: {exc}",
                    field=name,
                ) from exc
            setattr(self, name, value)

    def ground_truth_uri(self) -> str:
        """``ground_truth_s3_uri``, or its default under the config bucket (no trailing slash)."""
        uri = self.ground_truth_s3_uri.strip()
        if not uri:
            uri = f"s3://{self.config_bucket}/ground-truth/{self.production_endpoint}"
        return uri.rstrip("/")

    def data_capture_uri(self) -> str:
        """``data_capture_s3_uri``, or its default under the config bucket (no trailing slash)."""
        uri = self.data_capture_s3_uri.strip() or f"s3://{self.config_bucket}/data-capture"
        return uri.rstrip("/")

    def public_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON values, credentials in URIs masked (``***@``)."""
        return {
            name: redact_value(getattr(self, name)) for name in sorted(self.traits(config=True))
        }


_settings: FraudJlab | None = None


def get_settings() -> FraudJlab:
    """The process-wide settings (created on first use from the environment)."""
    global _settings
    if _settings is None:
        _settings = FraudJlab()
    return _settings


def set_settings(settings: FraudJlab | None) -> None:
    """Replace the process-wide settings (the server extension does this at start-up)."""
    global _settings
    _settings = settings


def settings_from_config(config: Config | None) -> FraudJlab:
    """Build settings from a traitlets ``Config`` (plus environment overrides)."""
    return FraudJlab(config=config) if config is not None else FraudJlab()
