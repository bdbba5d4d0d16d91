"""Generated runs for the SQLite search tests: ties on purpose, missing keys, odd text.

``seeded_store`` fills a store with ``n`` runs through bulk logging and ``create_run`` alike;
``records`` reads them back as ``matcher.RunRecord`` so the in-memory matcher and paging
(``fraud_jlab.tracking.query``) give the reference page for any filter and order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fraud_jlab.tracking.inputs import to_ms
from fraud_jlab.tracking.query.matcher import RunRecord
from fraud_jlab.tracking.sqlite.bulk import RunToLog
from fraud_jlab.tracking.sqlite.store import SqliteTrackerStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: Few distinct values, so equal metric / param values (ties) are common.
METRIC_VALUES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
DEPTHS = ("3", "5", "7", "10")


def random_run(rng: random.Random, i: int) -> RunToLog:
    metrics = {
        name: rng.choice(METRIC_VALUES) if rng.random() < 0.7 else rng.random()
        for name in ("accuracy", "auc_roc", "recall")
        if rng.random() < 0.85
    }
    params = {"max_depth": rng.choice(DEPTHS)} if rng.random() < 0.9 else {}
    if rng.random() < 0.5:
        params["algorithm"] = rng.choice(["xgboost", "lightgbm"])
    tags = {"stage": rng.choice(["dev", "staging", "prod"])} if rng.random() < 0.6 else {}
    start = T0 + timedelta(seconds=rng.randrange(5), milliseconds=rng.choice([0, 1, 999]))
    status = rng.choice(["completed", "failed", "running"])
    return RunToLog(
        experiment_name=rng.choice(["fraud", "fraud-b"]),
        run_name=f"run-{i}-{rng.choice(['a', 'b'])}",
        user=rng.choice(["ann", "bob"]),
        start_time=start,
        end_time=None if status == "running" else start + timedelta(milliseconds=rng.randrange(3)),
        status=status,  # type: ignore[arg-type]
        params=params,
        metrics=metrics,
        tags=tags,
    )


def seeded_store(path: Path, seed: int, n: int) -> SqliteTrackerStore:
    """A store with ``n`` generated runs: half bulk-logged, half through the one-run calls."""
    rng = random.Random(seed)
    store = SqliteTrackerStore(path)
    runs = [random_run(rng, i) for i in range(n)]
    store.log_runs(runs[: n // 2])
    for run in runs[n // 2 :]:
        run_id = store.create_run(
            run.experiment_name, run.run_name, user=run.user, start_time=run.start_time
        )
        if run.params:
            store.log_params(run_id, run.params)
        if run.metrics:
            store.log_metrics(run_id, run.metrics)
        if run.tags:
            store.set_tags(run_id, run.tags)
        if run.end_time is not None:
            store.end_run(run_id, run.status, end_time=run.end_time)
    return store


def records(store: SqliteTrackerStore) -> list[RunRecord]:
    """Every run of ``store`` as the in-memory matcher's record."""
    out: list[RunRecord] = []
    token: str | None = None
    while True:
        page = store.search_runs("", max_results=1000, page_token=token)
        for run in page.runs:
            out.append(
                RunRecord(
                    run_id=run.run_id,
                    experiment_name=run.experiment_name,
                    run_name=run.run_name,
                    status=run.status,
                    start_ms=to_ms(run.start_time, "start_time"),
                    end_ms=to_ms(run.end_time, "end_time") if run.end_time else None,
                    user=run.user,
                    parent_run_id=run.parent_run_id,
                    created_ns=0,  # ties on start time fall to run_id, as in the store
                    summary=run,
                    params=dict(run.params),
                    metrics=dict(run.metrics),
                    tags=dict(run.tags),
                )
            )
        token = page.next_page_token
        if token is None:
            return out
