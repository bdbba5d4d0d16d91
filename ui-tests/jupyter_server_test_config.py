"""Jupyter server configuration of the fraud_jlab browser tests.

Started by Playwright (``jlpm start``). Every server start gets:

- galata's test settings (port 8888, no token, temp root dir) and ``allow_root``;
- a fresh SQLite tracking DB in a temp dir (``FRAUD_JLAB_TRACKING_URI``), set in
  ``os.environ`` before the fraud_jlab extension loads, so kernels started by
  the tests track into the same DB;
- an AWS emulator (moto ``ThreadedMotoServer`` on 127.0.0.1, free port) with
  the production resources provisioned, through ``AWS_ENDPOINT_URL`` and test
  credentials;
- runs seeded by training small XGBoost models on a fraud-shaped dataset
  (real metrics, nothing hard-coded), every saved model packaged for SageMaker
  (``sagemaker.model_data_url`` tag: the A/B tests deploy them as challengers);
- the production endpoint serving the production-baseline run's packaged model as
  its one ``Champion`` variant (100%), the starting point of an A/B test.

Never use this configuration outside tests: galata disables authentication.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyterlab.galata import configure_jupyter_server

c: Any = get_config()  # type: ignore[name-defined]  # noqa: F821 - injected by traitlets

configure_jupyter_server(c)
c.ServerApp.allow_root = True
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"

WORK_DIR = Path(tempfile.mkdtemp(prefix="fraud-jlab-ui-tests-"))
TRACKING_URI = f"sqlite:///{WORK_DIR / 'runs.db'}"
os.environ["FRAUD_JLAB_TRACKING_URI"] = TRACKING_URI
c.FraudJlab.tracking_uri = TRACKING_URI
#: galata disables authentication, so every browser user is anonymous: the promotion tests
#: approve as this configured person (fraud_jlab.identity), as a real deployment would set it.
APPROVER = "UI Test Approver"
c.FraudJlab.approver = APPROVER


#: Rows of the synthetic fraud dataset the seeded XGBoost runs train on (~25 s with emulator start-up on 2 shared cores).
SEED_ROWS = 30_000


#: The production endpoint's configuration before any A/B test: the champion alone.
CHAMPION_CONFIG_SUFFIX = "-champion-v1"


def _package_models(settings: Any, run_ids: list[str]) -> dict[str, str]:
    """Package every seeded run that saved a model; ``run id -> s3:// model.tar.gz``."""
    from fraud_jlab.errors import NotFoundError
    from fraud_jlab.modelstore.sagemaker import package_for_sagemaker
    from fraud_jlab.tracking.registry import tracker_from_uri

    tracker = tracker_from_uri(TRACKING_URI)
    packaged: dict[str, str] = {}
    try:
        for run_id in run_ids:
            try:
                packaged[run_id] = package_for_sagemaker(run_id, tracker=tracker, settings=settings)
            except NotFoundError:
                continue  # a tuning parent or a cross-validated trial: no saved model
    finally:
        tracker.close()
    return packaged


def _serve_champion(settings: Any, artifact: str) -> None:
    """Switch the production endpoint to one ``Champion`` variant serving ``artifact``."""
    from fraud_jlab.aws import client
    from fraud_jlab.demo.emulator import XGBOOST_IMAGE

    sagemaker = client("sagemaker", settings)
    endpoint = settings.production_endpoint
    model = f"{endpoint}-champion"
    config = f"{endpoint}{CHAMPION_CONFIG_SUFFIX}"
    sagemaker.create_model(
        ModelName=model,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact},
        ExecutionRoleArn=settings.sagemaker_role_arn,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "Champion",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 100.0,
            }
        ],
    )
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    served = sagemaker.describe_endpoint(EndpointName=endpoint)
    if served["EndpointConfigName"] != config:
        raise RuntimeError(f"{endpoint} serves {served['EndpointConfigName']}, not {config}")


def _start_and_seed() -> None:
    """Start the AWS emulator, seed the tracker, provision production resources."""
    from fraud_jlab.config import FraudJlab
    from fraud_jlab.demo.emulator import (
        default_production_config,
        provision_resources,
        start_emulator,
    )
    from fraud_jlab.demo.seed import find_baseline_run, seed_tracker
    from fraud_jlab.tracking.registry import tracker_from_uri

    started = time.monotonic()
    # The emulator's per-request access log would drown the server log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    emulator = start_emulator()
    atexit.register(emulator.stop)
    # Never let a developer's real credentials or profile reach the tests.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(emulator.environment())

    tracker = tracker_from_uri(TRACKING_URI)
    try:
        run_ids = seed_tracker(tracker, n_rows=SEED_ROWS, seed=0)
        baseline = find_baseline_run(tracker)
    finally:
        tracker.close()
    production = default_production_config(
        baseline.run_id if baseline else "initial", baseline.metrics if baseline else None
    )
    settings = FraudJlab()
    provision_resources(settings, production_config=production)
    packaged = _package_models(settings, run_ids)
    if baseline is None or baseline.run_id not in packaged:
        raise RuntimeError("the seeded production-baseline run has no packaged model")
    _serve_champion(settings, packaged[baseline.run_id])
    print(
        f"fraud_jlab ui-tests: {len(run_ids)} runs seeded into {TRACKING_URI} "
        f"({len(packaged)} models packaged), champion endpoint "
        f"{settings.production_endpoint}, AWS emulator at {emulator.endpoint_url} "
        f"({time.monotonic() - started:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


atexit.register(shutil.rmtree, WORK_DIR, True)
_start_and_seed()
