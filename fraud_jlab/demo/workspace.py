"""The demo's workspace: seeded tracker, provisioned emulator, data set in S3, notebooks.

``fraud-jlab demo`` calls :func:`prepare_workspace` and :func:`copy_notebooks`. A notebook
calls :func:`ensure_local_environment` in its first cell: under ``fraud-jlab demo``
(``FRAUD_JLAB_TRACKING_URI`` and ``AWS_ENDPOINT_URL`` set) it only reads what the demo
prepared; run standalone it starts the local AWS emulator for the kernel's lifetime, points
the tracker at ``runs.db`` in the working directory and seeds both the same way the demo does.
"""

from __future__ import annotations

import atexit
import os
import shutil
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fraud_jlab.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from fraud_jlab.config import FraudJlab
    from fraud_jlab.demo.emulator import Emulator
    from fraud_jlab.demo.traffic import TrafficResult

DATA_KEY = "datasets/creditcard.parquet"
#: The environment variable the notebooks read for their data size (rows).
ROWS_VARIABLE = "FRAUD_JLAB_NOTEBOOK_ROWS"
DEFAULT_ROWS = 284_807
#: Labelled requests the demo sends to the production endpoint at start.
DEMO_TRAFFIC_RECORDS = 2_000
_PACKAGE = Path(__file__).resolve().parent
_emulator: Emulator | None = None


def notebook_sources() -> list[Path]:
    """The notebooks ``fraud-jlab demo`` copies, in name order.

    The package's own (``fraud_jlab/demo/notebooks``), plus the five tutorial notebooks: in a
    wheel they are installed as ``fraud_jlab/notebooks`` (hatch ``force-include``), in a
    source checkout they are the repository's ``notebooks/``.
    """
    folders = [_PACKAGE / "notebooks"]
    installed = _PACKAGE.parent / "notebooks"
    checkout = _PACKAGE.parent.parent / "notebooks"
    folders.append(installed if installed.is_dir() else checkout)
    found = {p.name: p for folder in folders if folder.is_dir() for p in folder.glob("*.ipynb")}
    return [found[name] for name in sorted(found)]


def copy_notebooks(workdir: Path) -> list[Path]:
    """Copy :func:`notebook_sources` into ``workdir``; a copy already there (perhaps edited
    by the user) is never overwritten. Returns the files written."""
    written = []
    for notebook in notebook_sources():
        target = workdir / notebook.name
        if not target.exists():
            shutil.copyfile(notebook, target)
            written.append(target)
    return written


def prepare_workspace(
    workdir: Path,
    rows: int,
    environ: MutableMapping[str, str],
    say: Callable[[str], None] = print,
    *,
    baseline_only: bool = False,
    traffic_records: int = DEMO_TRAFFIC_RECORDS,
) -> str:
    """Seed ``workdir/runs.db`` (once), provision the emulator's resources and upload the
    data set to S3. Sets ``FRAUD_JLAB_TRACKING_URI`` in ``environ`` and ``os.environ``;
    returns the tracking URI. ``baseline_only`` seeds just the production baseline run
    (what production points at), not the demo's other configurations and tuning.

    The production endpoint serves the baseline run's packaged model
    (:func:`fraud_jlab.modelstore.package_for_sagemaker`), and ``traffic_records`` held-out
    rows are sent to it with their labels (:func:`serve_baseline`), so the endpoint has
    captured, labelled traffic from the start."""
    from fraud_jlab.config import FraudJlab, set_settings
    from fraud_jlab.datasets import generate_fraud_dataset, save_dataset
    from fraud_jlab.demo.emulator import default_production_config, provision_resources
    from fraud_jlab.demo.seed import DEFAULT_CONFIGS, find_baseline_run, seed_tracker
    from fraud_jlab.tracking import tracker_from_uri

    tracking_uri = f"sqlite:///{workdir / 'runs.db'}"
    environ["FRAUD_JLAB_TRACKING_URI"] = tracking_uri
    os.environ["FRAUD_JLAB_TRACKING_URI"] = tracking_uri
    set_settings(None)
    settings = FraudJlab()
    tracker = tracker_from_uri(tracking_uri)

    say(f"generating {rows:,} rows of synthetic fraud data")
    frame = generate_fraud_dataset(rows, seed=0)
    existing = tracker.search_runs("", max_results=1).total
    if existing:
        say(f"tracker {tracking_uri} already has {existing} runs; skipping seeding")
    else:
        say(f"seeding {tracking_uri} with XGBoost runs (real holdout metrics)")
        started = time.monotonic()
        configs = DEFAULT_CONFIGS[:1] if baseline_only else DEFAULT_CONFIGS
        ids = seed_tracker(tracker, frame=frame, configs=configs, tune=not baseline_only)
        say(f"logged {len(ids)} runs in {time.monotonic() - started:.1f} s")

    baseline = find_baseline_run(tracker)
    config = (
        default_production_config(baseline.run_id, baseline.metrics)
        if baseline is not None
        else default_production_config()
    )
    say("provisioning S3 buckets, Parameter Store, Step Functions and the SageMaker endpoint")
    model_data_url = _package_baseline(settings, tracker, baseline)
    provision_resources(settings, production_config=config, model_data_url=model_data_url)
    uri = save_dataset(frame, f"s3://{settings.data_bucket}/{DATA_KEY}")
    say(f"uploaded the data set to {uri}")
    if model_data_url and traffic_records:
        serve_baseline(settings, frame, traffic_records, say)
    return tracking_uri


def _package_baseline(settings: FraudJlab, tracker: Any, baseline: Any) -> str | None:
    """The baseline run's ``model.tar.gz`` in the models bucket (None without a baseline)."""
    from fraud_jlab import aws
    from fraud_jlab.demo.emulator import _ensure_bucket
    from fraud_jlab.modelstore import package_for_sagemaker

    if baseline is None:
        return None
    s3 = aws.client("s3", settings)
    _ensure_bucket(s3, settings.models_bucket, versioned=False)
    return package_for_sagemaker(baseline.run_id, tracker=tracker, s3_client=s3, settings=settings)


def serve_baseline(
    settings: FraudJlab,
    frame: pd.DataFrame,
    records: int,
    say: Callable[[str], None] = print,
    *,
    seed: int = 0,
) -> TrafficResult:
    """Send ``records`` held-out rows of ``frame`` to the production endpoint, labels to
    ``settings.ground_truth_uri()`` (a fifth stays unlabelled); prints how long it took."""
    from fraud_jlab import aws
    from fraud_jlab.demo.seed import holdout_rows
    from fraud_jlab.demo.traffic import send_traffic

    say(f"sending {records:,} labelled requests to {settings.production_endpoint}")
    result = send_traffic(
        aws.client("sagemaker-runtime", settings),
        settings.production_endpoint,
        holdout_rows(frame, seed),
        records,
        ground_truth_uri=settings.ground_truth_uri(),
        s3=aws.client("s3", settings),
        seed=seed,
    )
    say(result.summary())
    return result


@dataclass(frozen=True)
class LocalEnvironment:
    """What a notebook runs against (see :func:`ensure_local_environment`)."""

    tracking_uri: str
    aws_endpoint_url: str
    data_uri: str
    rows: int
    started_emulator: bool

    def load_data(self, max_rows: int | None = None) -> pd.DataFrame:
        """The data set from S3; with ``max_rows`` below its size, a stratified sample of
        that many rows (fraud rate kept, time order kept)."""
        from sklearn.model_selection import train_test_split

        from fraud_jlab.datasets import load_dataset

        frame = load_dataset(self.data_uri)
        if max_rows is None or max_rows >= len(frame):
            return frame
        sample, _ = train_test_split(
            frame, train_size=max_rows, stratify=frame["Class"], random_state=0
        )
        return sample.sort_index()


def notebook_rows(environ: MutableMapping[str, str] | None = None) -> int:
    """Rows the notebooks use: ``FRAUD_JLAB_NOTEBOOK_ROWS`` (default 284,807, >= 5,000)."""
    text = (os.environ if environ is None else environ).get(ROWS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_ROWS
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(
            f"{ROWS_VARIABLE} must be an integer >= 5000, got {text!r}", field=ROWS_VARIABLE
        ) from None
    if value < 5000:
        raise ValidationError(
            f"{ROWS_VARIABLE} must be >= 5000 (the holdout needs fraud rows), got {value}",
            field=ROWS_VARIABLE,
        )
    return value


def ensure_local_environment(
    rows: int | None = None, workdir: str | Path = ".", *, quiet: bool = False
) -> LocalEnvironment:
    """Make sure a tracker and an AWS endpoint are there, as ``fraud-jlab demo`` provides.

    With ``FRAUD_JLAB_TRACKING_URI`` and ``AWS_ENDPOINT_URL`` set (the demo's kernels) this
    only checks that the data set is in S3. Otherwise it starts the local AWS emulator (it
    stops when the kernel exits) and prepares ``workdir`` like the demo: ``runs.db`` with
    the production baseline run (the demo's other seeded runs are left out: each notebook
    makes its own), provisioned resources, ``rows`` rows of synthetic data in S3 (default
    :func:`notebook_rows`). Safe to call again: a second call reuses what is there.
    """
    global _emulator
    from fraud_jlab.config import get_settings, set_settings
    from fraud_jlab.demo.emulator import start_emulator
    from fraud_jlab.tracking import set_tracker

    size = notebook_rows() if rows is None else rows
    say: Callable[[str], None] = (lambda _m: None) if quiet else print
    started = False
    if not os.environ.get("AWS_ENDPOINT_URL"):
        if _emulator is None:
            _emulator = start_emulator()
            atexit.register(_emulator.stop)
            started = True
        os.environ.update(_emulator.environment())
        say(f"started the local AWS emulator at {_emulator.endpoint_url}")
    set_settings(None)
    set_tracker(None)
    folder = Path(workdir).expanduser().resolve()
    if not os.environ.get("FRAUD_JLAB_TRACKING_URI") or started:
        folder.mkdir(parents=True, exist_ok=True)
        # the tutorials need no endpoint traffic: the champion serves, no requests are sent
        prepare_workspace(folder, size, os.environ, say, baseline_only=True, traffic_records=0)
        set_settings(None)
    settings = get_settings()
    data_uri = f"s3://{settings.data_bucket}/{DATA_KEY}"
    if not _data_present(settings.data_bucket):
        raise ValidationError(
            f"no data set at {data_uri}: start the notebooks with `fraud-jlab demo`, or unset "
            "FRAUD_JLAB_TRACKING_URI and AWS_ENDPOINT_URL so the notebook prepares its own",
            field="AWS_ENDPOINT_URL",
        )
    return LocalEnvironment(
        tracking_uri=settings.tracking_uri,
        aws_endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        data_uri=data_uri,
        rows=size,
        started_emulator=started,
    )


def _data_present(bucket: str) -> bool:
    import boto3

    client: Any = boto3.client("s3")
    try:
        client.head_object(Bucket=bucket, Key=DATA_KEY)
    except Exception:
        return False
    return True


__all__ = [
    "DATA_KEY",
    "ROWS_VARIABLE",
    "LocalEnvironment",
    "copy_notebooks",
    "ensure_local_environment",
    "notebook_rows",
    "notebook_sources",
    "prepare_workspace",
    "serve_baseline",
]
