"""Seed N cheap top-level runs (synthetic metrics, no models) into a tracker, for grid tests.

Usage: python seed_scale_runs.py <tracking_uri> <experiment> <n>
Prints the number of runs the experiment holds afterwards. Idempotent per experiment:
runs are only added up to n.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

from fraud_jlab.tracking.registry import tracker_from_uri


def main(uri: str, experiment: str, n: int) -> int:
    tracker = tracker_from_uri(uri)
    try:
        have = tracker.search_runs(f"experiment = '{experiment}'", max_results=1).total
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        for i in range(have, n):
            when = start + timedelta(seconds=i)
            run_id = tracker.create_run(experiment, f"scale-{i:05d}", user="fixture", start_time=when)
            tracker.log_metrics(
                run_id,
                {
                    "average_precision": (i % 997) / 997,
                    "recall_at_fpr": (i % 89) / 89,
                    "accuracy": 0.9 + (i % 100) / 1000,
                },
            )
            tracker.end_run(run_id, "completed", end_time=when)
        total = tracker.search_runs(f"experiment = '{experiment}'", max_results=1).total
    finally:
        tracker.close()
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
