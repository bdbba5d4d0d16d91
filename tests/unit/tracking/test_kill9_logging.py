"""kill -9 of a process in the middle of logging runs: the store opens, committed runs are
all there, and the run in flight reads ``running``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

CHILD = textwrap.dedent(
    """
    import sys
    from fraud_jlab.tracking.run import Run
    from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

    store = SqliteTrackerStore(sys.argv[1])
    for i in range(1_000_000):
        with Run(experiment_name="kill9", run_name=f"done-{i}", tracker=store) as run:
            run.log_parameters({"i": i, "max_depth": 3 + i % 5})
            for step in range(5):
                run.log_metric("auc_roc", 0.9 + step / 100, step=step)
        print(f"committed {run.run_id}", flush=True)
        if i == 20:
            live = Run(experiment_name="kill9", run_name="in-flight", tracker=store).start()
            live.log_parameters({"max_depth": 7})
            print(f"in-flight {live.run_id}", flush=True)
    """
)


def test_kill_9_mid_logging_keeps_every_committed_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed: list[str] = []
    in_flight = None
    assert child.stdout is not None
    try:
        deadline = time.monotonic() + 60
        # Given a process that committed 60+ runs and has one open, still writing more
        while len(committed) < 60:
            assert time.monotonic() < deadline, child.stderr.read() if child.stderr else ""
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child exited"
            kind, run_id = line.split()
            if kind == "committed":
                committed.append(run_id)
            else:
                in_flight = run_id
        # When it is killed without any chance to clean up, mid-write
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert in_flight is not None
    # Then the store opens, holds every run it reported committed, and the open run is running
    store = SqliteTrackerStore(db)
    try:
        for run_id in committed:
            run = store.get_run(run_id)
            assert run.status == "completed", run_id
            assert run.params["max_depth"] and len(run.metrics) == 1
        flying = store.get_run(in_flight)
        assert flying.status == "running" and flying.params == {"max_depth": "7"}
        page = store.search_runs("attributes.status = 'completed'", max_results=1000)
        assert {r.run_id for r in page.runs} >= set(committed)
        # and it takes new runs
        run_id = store.create_run(
            "kill9", "after", user="ds", start_time=store.get_run(in_flight).start_time
        )
        assert store.get_run(run_id).status == "running"
    finally:
        store.close()
