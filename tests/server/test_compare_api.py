"""``POST compare``: deltas with paired CIs, production default baseline, validation."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml

from fraud_jlab.evaluation.holdout import HOLDOUT_ARTIFACT, holdout_identity, holdout_scores_npz
from fraud_jlab.evaluation.metrics import classification_metrics
from fraud_jlab.server.openapi import response_schema
from fraud_jlab.tracking import Run
from fraud_jlab.tracking.contract import TrackerStore

RNG = np.random.default_rng(7)
Y_TRUE = (RNG.random(4000) < 0.05).astype(int)
IDENTITY = holdout_identity(np.arange(Y_TRUE.size).reshape(-1, 1), Y_TRUE)


def _scored_run(tracker: TrackerStore, name: str, signal: float, max_depth: int) -> str:
    """A run whose holdout scores separate the classes with strength ``signal``."""
    scores = 1 / (1 + np.exp(-(signal * (Y_TRUE * 2 - 1) + RNG.normal(0, 1.5, Y_TRUE.size))))
    with Run("fraud-detection-optimization", name, tracker=tracker) as run:
        run.log_parameters({"max_depth": max_depth, "eta": 0.1})
        run.log_metrics(classification_metrics(Y_TRUE, scores))
        run.log_artifact(HOLDOUT_ARTIFACT, holdout_scores_npz(Y_TRUE, scores, identity=IDENTITY))
    return run.run_id


@pytest.fixture
def three_runs(fj_tracker: TrackerStore) -> list[str]:
    return [
        _scored_run(fj_tracker, "weak", 0.5, 3),
        _scored_run(fj_tracker, "strong", 3.0, 6),
        _scored_run(fj_tracker, "strong-2", 3.0, 8),
    ]


def _put_production(s3: Any, run_id: str) -> None:
    config = {
        "model": {
            "algorithm": "xgboost",
            "version": run_id,
            "hyperparameters": {"max_depth": "3"},
            "performance": {"accuracy": 0.95},
            "tested_date": datetime.now(timezone.utc).date().isoformat(),
            "approved_by": "lead",
        }
    }
    s3.put_object(
        Bucket="fraud-detection-config",
        Key="production-model-config.yaml",
        Body=yaml.safe_dump(config).encode(),
    )


async def test_compare_against_explicit_baseline_has_paired_cis(
    fj_api: Any, three_runs: list[str]
) -> None:
    weak, strong, _ = three_runs
    status, body = await fj_api(
        "POST", "compare", body={"run_ids": [weak, strong], "baseline_run_id": weak}
    )
    assert status == 200, body
    assert body["baseline_run_id"] == weak
    ap = next(
        d for d in body["deltas"] if d["run_id"] == strong and d["metric"] == "average_precision"
    )
    assert ap["paired"] is True
    assert ap["delta"] > 0 and ap["ci_low"] is not None and ap["ci_low"] > 0
    assert ap["significant"] is True
    assert body["figures"]["roc"] is not None and body["figures"]["pr"] is not None
    _, doc = await fj_api("GET", "openapi.json")
    jsonschema.validate(body, response_schema(doc, "/compare", "post", 200))


async def test_default_baseline_is_the_production_run(
    fj_api: Any, three_runs: list[str], production: Any
) -> None:
    weak, strong, strong2 = three_runs
    _put_production(production, weak)
    status, body = await fj_api("POST", "compare", body={"run_ids": [strong, strong2]})
    assert status == 200, body
    assert body["baseline_run_id"] == weak
    assert {d["run_id"] for d in body["deltas"]} >= {strong, strong2}


async def test_without_reachable_aws_the_comparison_still_answers(
    fj_api: Any, three_runs: list[str], moto_env: None
) -> None:
    # Given AWS that answers NoSuchBucket for the config bucket
    status, body = await fj_api("POST", "compare", body={"run_ids": three_runs[:2]})
    # Then the runs are compared, with no baseline and a note saying why
    assert status == 200, body
    assert body["baseline_run_id"] is None
    assert body["deltas"] == []
    assert any("production" in note for note in body["notes"])


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"run_ids": ["only-one"]}, 400, "run_ids"),
        ({"run_ids": []}, 400, "run_ids"),
        ({"run_ids": ["a", "b"], "approver": "x"}, 400, "approver"),
        ({"run_ids": [f"r{i}" for i in range(11)]}, 400, "run_ids"),
        (
            {"run_ids": ["01JUNKNOWN00000000000000AA", "01JUNKNOWN00000000000000AB"]},
            404,
            "Unknown run",
        ),
    ],
)
async def test_bad_requests(fj_api: Any, payload: dict[str, Any], status: int, needle: str) -> None:
    code, body = await fj_api("POST", "compare", body=payload)
    assert code == status, body
    assert needle in body["message"]


async def test_lone_surrogates_are_400_naming_the_field(fj_api: Any) -> None:
    status, body = await fj_api("POST", "compare", body={"run_ids": ["\ud800", "ok"]})
    assert status == 400, body
    assert body["field"] == "run_ids"
    assert "surrogate" in body["message"]

    status, body = await fj_api(
        "POST", "compare", body={"run_ids": ["a", "b"], "baseline_run_id": "x\udfffy"}
    )
    assert status == 400, body
    assert body["field"] == "baseline_run_id"
