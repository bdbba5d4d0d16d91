"""Top 100 and filtered pages at 1,000,000 runs: the previous search path against the current one.

Builds a 1,000,000-run store with bulk logging (``SqliteTrackerStore.log_runs``, 50,000 runs a
transaction; several minutes and ~1.7 GB on disk), then times the queries of
``page_bench`` (old search module from ``--baseline-rev`` vs the current ``search_runs`` and
``search_runs_json``), interleaved, in this one process.

Usage::

    PYTHONPATH=. .venv/bin/python bench/million_bench.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_bench import BASELINE_REV, baseline_search, compare, fill
from tracking_bench import machine

from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="runs in the store")
    parser.add_argument("--repeats", type=int, default=9, help="timed calls per path")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--dir", type=Path, default=None, help="where the database goes")
    args = parser.parse_args(argv)
    old = baseline_search(args.baseline_rev)
    report: dict[str, Any] = {"machine": machine(), "n_runs": args.n}
    with tempfile.TemporaryDirectory(prefix="fraud-jlab-million-", dir=args.dir) as tmp:
        store = SqliteTrackerStore(Path(tmp) / "runs.db")
        report["bulk_log_runs_per_s"] = round(fill(store, args.n))
        report["db_mb"] = round(store.path.stat().st_size / 1e6)
        print(json.dumps(report), file=sys.stderr, flush=True)
        report["queries"] = compare(store, old, args.repeats)
        report["loadavg_after"] = machine()["loadavg_1_5_15"]
        store.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
