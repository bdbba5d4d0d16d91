"""compare_endpoints against moto's sagemaker-runtime, seeded with per-record scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, average_precision_score

from fraud_jlab.abtest.compare import csv_line
from fraud_jlab.errors import AwsOperationError, ValidationError

from .abtest_env import PRODUCTION, AbEnv, seed_runtime_results

CHALLENGER = "fraud-detection-challenger-exp-1-20240115-103000"


def interleave(champion: list[float], challenger: list[float]) -> list[str]:
    """Bodies in call order: each record goes to the champion first, then the challenger.

    moto hands out queued bodies per distinct request; the per-call InferenceId makes the
    champion's and the challenger's request for the same record distinct.
    """
    return [f"{s}" for pair in zip(champion, challenger, strict=True) for s in pair]


def test_scores_latency_and_metrics_for_both_sides(ab_env: AbEnv) -> None:
    # Given 8 distinct records, labels, and the scores each endpoint returns for them
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.normal(size=(8, 4)), columns=["V1", "V2", "Amount", "Time"])
    labels = [0, 0, 1, 0, 1, 0, 0, 1]
    champion = [0.1, 0.6, 0.4, 0.2, 0.9, 0.1, 0.3, 0.7]
    challenger = [0.05, 0.2, 0.8, 0.1, 0.95, 0.15, 0.3, 0.6]
    seed_runtime_results(interleave(champion, challenger))

    # When
    comparison, champ_preds, chal_preds = ab_env.manager().compare_endpoints(
        PRODUCTION, CHALLENGER, data, labels=labels
    )

    # Then each side got its own per-record scores back
    assert champ_preds == champion
    assert chal_preds == challenger
    for side, scores in (("champion", champion), ("challenger", challenger)):
        stats = comparison[side]
        assert stats["n_records"] == 8
        assert 0 < stats["avg_latency_ms"] <= stats["p99_latency_ms"]
        assert stats["p95_latency_ms"] <= stats["p99_latency_ms"]
        assert stats["accuracy"] == pytest.approx(accuracy_score(labels, np.asarray(scores) >= 0.5))
        assert stats["average_precision"] == pytest.approx(average_precision_score(labels, scores))
    assert comparison["champion"]["endpoint"] == PRODUCTION
    assert comparison["challenger"]["average_precision"] == 1.0
    assert comparison["difference"]["average_precision"] == pytest.approx(
        1.0 - average_precision_score(labels, champion)
    )


def test_without_labels_only_latency_is_reported(ab_env: AbEnv) -> None:
    seed_runtime_results(interleave([0.1, 0.2], [0.3, 0.4]))

    comparison, _, chal = ab_env.manager().compare_endpoints(
        PRODUCTION, CHALLENGER, [[1.0, 2.0], [3.0, float("nan")]]
    )

    assert chal == [0.3, 0.4]
    assert "accuracy" not in comparison["champion"]
    assert set(comparison["difference"]) == {"avg_latency_ms", "p95_latency_ms", "p99_latency_ms"}


def test_records_are_sent_as_xgboost_csv() -> None:
    assert csv_line([1.0, float("nan"), -2.5]) == "1.0,,-2.5"


def test_non_numeric_response_is_an_aws_error(ab_env: AbEnv) -> None:
    seed_runtime_results(["<html>oops</html>", "0.5"])

    with pytest.raises(AwsOperationError) as err:
        ab_env.manager().compare_endpoints(PRODUCTION, CHALLENGER, [[1.0, 2.0]])

    assert err.value.step == "invoke_endpoint"
    assert PRODUCTION in str(err.value)


@pytest.mark.parametrize(
    ("data", "labels", "field"),
    [
        ([], None, "test_data"),
        ([[1.0, 2.0], [3.0]], None, "test_data"),
        ([["a", "b"]], None, "test_data"),
        ("1,2,3", None, "test_data"),
        ([[1.0], [2.0]], [0, 1, 1], "labels"),
    ],
)
def test_bad_input_is_rejected_before_any_call(
    ab_env: AbEnv, data: object, labels: object, field: str
) -> None:
    calls: list[str] = []
    ab_env.runtime.meta.events.register(
        "before-call.sagemaker-runtime.InvokeEndpoint", lambda **_: calls.append("invoke")
    )

    with pytest.raises(ValidationError) as err:
        ab_env.manager().compare_endpoints(PRODUCTION, CHALLENGER, data, labels=labels)

    assert err.value.field == field
    assert calls == []


def test_bad_endpoint_name_is_rejected(ab_env: AbEnv) -> None:
    with pytest.raises(ValidationError) as err:
        ab_env.manager().compare_endpoints(PRODUCTION, "bad_name", [[1.0]])

    assert err.value.field == "challenger_endpoint"


def test_each_call_carries_its_own_inference_id(ab_env: AbEnv) -> None:
    seen: list[tuple[str, str]] = []
    ab_env.runtime.meta.events.register(
        "provide-client-params.sagemaker-runtime.InvokeEndpoint",
        lambda params, **_: seen.append((params["EndpointName"], params["InferenceId"])),
    )
    seed_runtime_results(interleave([0.1, 0.2], [0.3, 0.4]))

    ab_env.manager().compare_endpoints(PRODUCTION, CHALLENGER, [[1.0], [2.0]])

    assert [endpoint for endpoint, _ in seen] == [PRODUCTION, CHALLENGER] * 2
    ids = [inference_id for _, inference_id in seen]
    assert len(set(ids)) == 4
    assert ids[1].startswith("abtest-") and ids[1].endswith("-challenger-0")
