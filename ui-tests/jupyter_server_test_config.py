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
  (real metrics, nothing hard-coded).

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
    provision_resources(FraudJlab(), production_config=production)
    print(
        f"fraud_jlab ui-tests: {len(run_ids)} runs seeded into {TRACKING_URI}, "
        f"AWS emulator at {emulator.endpoint_url} ({time.monotonic() - started:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


atexit.register(shutil.rmtree, WORK_DIR, True)
_start_and_seed()
