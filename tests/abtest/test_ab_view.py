"""The A/B view: readout from Data Capture + ground truth, SRM, latency, recommendation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from ab_endpoint_env import ARTIFACT, AUDIT, CONFIG_BUCKET, IMAGE, NOW, PRODUCTION, Env, make_env
from botocore.stub import Stubber
from capture_data import simulate, write_capture, write_ground_truth

from fraud_jlab.abtest.capture import latency_stats
from fraud_jlab.abtest.service import ABTestService, ABTestState
from fraud_jlab.promotion.endpoint_change import EndpointChangePlan

LATER = NOW + timedelta(days=3)
CAPTURE = f"s3://{CONFIG_BUCKET}/data-capture"
TRUTH = f"s3://{CONFIG_BUCKET}/ground-truth/{PRODUCTION}"


@pytest.fixture
def env(moto_env: None) -> Env:
    return make_env()


def _service(env: Env, cloudwatch: Any = None) -> ABTestService:
    service = ABTestService(env.manager(), cloudwatch=cloudwatch or _cloudwatch())
    service.manager.clock = lambda: LATER
    return service


def _cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _start(env: Env, **kwargs: Any) -> ABTestState:
    state = env.service().start("exp-20240115-001", ARTIFACT, image_uri=IMAGE, **AUDIT, **kwargs)
    assert isinstance(state, ABTestState)
    return state


def _latency(cloudwatch: Any, ms: dict[str, float]) -> None:
    for variant, value in ms.items():
        dims = [
            {"Name": "EndpointName", "Value": PRODUCTION},
            {"Name": "VariantName", "Value": variant},
        ]
        cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": dims,
                    "Value": value * 1000.0,
                    "Unit": "Microseconds",
                    "Timestamp": NOW + timedelta(hours=h),
                }
                for h in (1, 20)
            ]
            + [
                {
                    "MetricName": "Invocations",
                    "Dimensions": dims,
                    "Value": 100.0,
                    "Unit": "None",
                    "Timestamp": NOW + timedelta(hours=2),
                }
            ],
        )


def test_counts_labelled_and_unlabelled_records_and_continues_early(env: Env) -> None:
    state = _start(env)
    records = simulate(
        n=2000,
        weights={"Champion": 90, "Challenger": 10},
        fraud_rate=0.02,
        detection={"Champion": 0.6, "Challenger": 0.6},
        false_alarm={"Champion": 0.02, "Challenger": 0.02},
        start=NOW + timedelta(minutes=5),
        days=1,
        labelled_share=0.7,
    )
    write_capture(env.s3, CAPTURE, PRODUCTION, records, extra_lines=["{not json", '{"a": 1}'])
    write_ground_truth(env.s3, TRUTH, records, NOW + timedelta(days=2))

    view = _service(env).view(state.ab_test_id)

    labelled = sum(r.label is not None for r in records)
    assert view.data.records_scored == 2000
    assert view.data.records_labelled == labelled
    assert view.data.records_unlabelled == 2000 - labelled
    assert view.data.frauds_labelled == sum(r.label == 1 for r in records)
    assert view.data.malformed == 2 and view.data.label_cutoff is not None
    assert view.readout is not None
    champion = view.readout["variants"]["Champion"]
    assert champion["n"] == sum(r.variant == "Champion" for r in records)
    assert champion["detection_rate"]["low"] <= champion["detection_rate"]["value"]
    assert view.srm is not None and not view.srm["alarm"]
    # far from the design's first look: not read, whatever the point estimates say
    assert view.recommendation.action == "continue"
    assert "first look" in view.recommendation.reason
    assert view.design is not None and view.design["frauds_needed"] > view.data.frauds_labelled
    assert {p.variant for p in view.timeline} == {"Champion", "Challenger"}
    assert view.latency["Challenger"].source == "none"


def test_a_skewed_split_raises_the_srm_alarm_and_says_stop(env: Env) -> None:
    state = _start(env)  # planned 90 / 10
    records = simulate(
        n=3000,
        weights={"Champion": 70, "Challenger": 30},
        fraud_rate=0.02,
        detection={"Champion": 0.6, "Challenger": 0.6},
        false_alarm={"Champion": 0.02, "Challenger": 0.02},
        start=NOW + timedelta(minutes=5),
        days=1,
    )
    write_capture(env.s3, CAPTURE, PRODUCTION, records)

    view = _service(env).view(state.ab_test_id)

    assert view.srm is not None and view.srm["alarm"] and view.srm["p_value"] < 0.001
    assert view.recommendation.action == "stop"
    assert "sample ratio mismatch" in view.recommendation.reason


def _better_challenger(env: Env) -> ABTestState:
    state = _start(env)
    service = env.service()
    for _ in range(2):  # to the 50 / 50 stage
        state = service.advance(state.ab_test_id, **AUDIT)
    records = simulate(
        n=16_000,
        weights={"Champion": 50, "Challenger": 50},
        fraud_rate=0.02,
        detection={"Champion": 0.6, "Challenger": 0.9},
        false_alarm={"Champion": 0.02, "Challenger": 0.01},
        start=NOW + timedelta(minutes=5),
        days=2,
    )
    write_capture(env.s3, CAPTURE, PRODUCTION, records)
    write_ground_truth(env.s3, TRUTH, records, NOW + timedelta(days=2, hours=12))
    return state


def test_a_clearly_better_challenger_is_recommended_for_promotion(env: Env) -> None:
    state = _better_challenger(env)
    cloudwatch = _cloudwatch()
    _latency(cloudwatch, {"Champion": 30.0, "Challenger": 40.0})

    view = _service(env, cloudwatch).view(state.ab_test_id)

    assert view.recommendation.action == "promote", view.recommendation.reason
    assert view.recommendation.look is not None and view.recommendation.look >= 1
    assert view.recommendation.statistic is not None and view.recommendation.boundary is not None
    assert view.recommendation.statistic > view.recommendation.boundary
    assert view.latency["Challenger"].p99_ms == pytest.approx(40.0)
    assert view.latency["Challenger"].source == "cloudwatch-max"
    assert view.latency["Challenger"].invocations == 100
    assert view.readout is not None
    assert view.readout["variants"]["Challenger"]["latency_ms"]["p99"] == pytest.approx(40.0)


def test_a_slow_challenger_is_rolled_back_and_no_latency_is_no_promotion(env: Env) -> None:
    state = _better_challenger(env)
    cloudwatch = _cloudwatch()
    # no latency measured: the guardrail cannot be shown to hold
    unmeasured = _service(env, cloudwatch).view(state.ab_test_id)
    assert unmeasured.recommendation.action == "rollback"
    assert "no latency measured" in unmeasured.recommendation.reason

    _latency(cloudwatch, {"Champion": 30.0, "Challenger": 250.0})
    slow = _service(env, cloudwatch).view(state.ab_test_id)
    assert slow.recommendation.action == "rollback"
    assert "p99 latency 250.0 ms" in slow.recommendation.reason


def test_shadow_stage_reads_agreement_and_never_promotes(env: Env) -> None:
    state = _start(env, shadow=True)
    records = simulate(
        n=1500,
        weights={"Champion": 1},
        fraud_rate=0.05,
        detection={"Champion": 0.6},
        false_alarm={"Champion": 0.02},
        start=NOW + timedelta(minutes=5),
        days=1,
    )
    shadow = [r.__class__(**{**r.__dict__, "variant": "Challenger"}) for r in records]
    write_capture(env.s3, CAPTURE, PRODUCTION, records + shadow)
    write_ground_truth(env.s3, TRUTH, records, NOW + timedelta(days=2))

    view = _service(env).view(state.ab_test_id)

    assert view.srm is None  # both score every request: no split to check
    assert view.readout is not None and view.readout["agreement"]["value"] == pytest.approx(1.0)
    assert view.recommendation.action == "continue" and "shadow" in view.recommendation.reason


def test_a_finished_test_recommends_nothing(env: Env) -> None:
    state = _start(env)
    env.service().stop(state.ab_test_id, **AUDIT)
    view = _service(env).view(state.ab_test_id)
    assert view.state.status == "stopped" and view.recommendation.action == "none"


def test_design_is_shown_before_start_and_kept_with_the_test(env: Env) -> None:
    plan = env.service().start(
        "exp-20240115-001", ARTIFACT, image_uri=IMAGE, approver="alice", reason=None, dry_run=True
    )
    assert isinstance(plan, EndpointChangePlan)
    design_line = [c for c in plan.changes if c.startswith("Design:")]
    assert design_line and "labelled frauds" in design_line[0] and "days" in design_line[0]
    state = _start(env)
    assert state.design is not None and state.design["summary"] in design_line[0]
    configs = [
        env.sagemaker.describe_endpoint_config(EndpointConfigName=state.ab_config),
    ]
    for config in configs:
        capture = config["DataCaptureConfig"]
        assert capture["EnableCapture"] and capture["InitialSamplingPercentage"] == 100
        assert capture["DestinationS3Uri"] == env.settings.data_capture_uri()


def test_latency_percentiles_from_extended_statistics() -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=1)
    with Stubber(client) as stub:
        stub.add_response(
            "get_metric_statistics",
            {
                "Datapoints": [
                    {"ExtendedStatistics": {"p50": 12000.0, "p95": 30000.0, "p99": 45000.0}}
                ]
            },
        )
        stub.add_response("get_metric_statistics", {"Datapoints": [{"Maximum": 90000.0}]})
        stub.add_response("get_metric_statistics", {"Datapoints": [{"Sum": 1234.0}]})
        stats = latency_stats(client, PRODUCTION, ["Challenger"], start, end)["Challenger"]
    assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == (12.0, 30.0, 45.0)
    assert stats.invocations == 1234 and stats.source == "cloudwatch"


def test_srm_leaves_out_records_scored_while_the_weights_changed(env: Env) -> None:
    import numpy as np

    from fraud_jlab.abtest.view import srm_check

    service = env.service()
    state = _start(env)  # 90 / 10
    change_began = NOW + timedelta(hours=1, milliseconds=400)
    done = change_began + timedelta(seconds=2)
    service.manager.clock = lambda: change_began
    state = service.advance(state.ab_test_id, **AUDIT)  # 75 / 25
    event = state.history[-1]
    assert event.change_started_at is not None and event.timestamp >= event.change_started_at
    event.change_started_at, event.timestamp = change_began, done
    # Capture stamps whole seconds: 300 records of the change's seconds were still 90 / 10,
    # then 2,000 at 75 / 25
    rng = np.random.default_rng(0)
    stamp = float(int(change_began.timestamp()))
    during = np.array(["Challenger" if u < 0.10 else "Champion" for u in rng.random(300)])
    after = np.array(["Challenger" if u < 0.25 else "Champion" for u in rng.random(2000)])
    times = np.concatenate(
        [stamp + rng.integers(0, 3, 300), done.timestamp() + 1 + np.arange(2000)]
    )
    check = srm_check(state, {"variant": np.concatenate([during, after]), "time": times})
    assert check is not None and not check.alarm, check
    assert sum(check.observed.values()) == 2000  # the change's records are not counted
