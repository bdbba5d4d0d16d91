"""The per-variant readout, the sample-ratio check and the decision rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fraud_jlab.abtest.decision import decide
from fraud_jlab.abtest.readout import (
    Readout,
    sample_ratio_check,
    variant_from_counts,
    variant_readout,
    wilson,
)
from fraud_jlab.errors import ValidationError
from fraud_jlab.evaluation.metrics import average_precision, recall_at_fpr
from fraud_jlab.models.abtest import SuccessCriteria

CRITERIA = SuccessCriteria(min_accuracy=0.9, max_latency_ms=100, min_improvement_pct=1.0)


def _records(n: int = 20_000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    variant = np.where(rng.random(n) < 0.5, "champion", "challenger")
    label = (rng.random(n) < 0.02).astype(float)
    score = rng.normal(size=n) + np.where(variant == "challenger", 3.0, 2.0) * label
    return {
        "variant": variant,
        "score": score,
        "label": label,
        "timestamp": np.arange(n, dtype=float),
        "latency_ms": rng.gamma(2.0, 10.0, n),
    }


def test_readout_per_variant_uses_the_existing_metrics_on_labelled_records() -> None:
    data = _records()
    data["label"][:500] = -1  # not yet labelled
    readout = variant_readout(**data, threshold=2.0, label_cutoff=18_000.0)

    ch = readout.variants["challenger"]
    mine = (data["variant"] == "challenger") & (data["label"] >= 0) & (data["timestamp"] <= 18_000)
    assert ch.n == int((data["variant"] == "challenger").sum())
    assert ch.n_labelled == int(mine.sum()) and ch.n_unlabelled == ch.n - ch.n_labelled
    assert ch.frauds == int(data["label"][mine].sum())
    y, s = data["label"][mine], data["score"][mine]
    assert ch.average_precision.value == pytest.approx(average_precision(y, s))
    assert ch.recall_at_fpr.value == pytest.approx(recall_at_fpr(y, s, 0.001))
    assert (
        ch.average_precision.low is not None
        and ch.average_precision.low < ch.average_precision.value
    )
    assert ch.detection_rate.value == pytest.approx(((s >= 2.0) & (y == 1)).sum() / y.sum())
    assert ch.alert_rate.value == pytest.approx(
        (data["score"][data["variant"] == "challenger"] >= 2).mean()
    )
    lat = data["latency_ms"][data["variant"] == "challenger"]
    assert ch.latency_ms["p99"] == pytest.approx(np.percentile(lat, 99))
    out = readout.to_dict()
    assert out["label_cutoff"] == 18_000.0
    assert out["n_unlabelled"] == sum(v.n_unlabelled for v in readout.variants.values())
    json.dumps(out, allow_nan=False)


def test_readout_is_json_safe_without_labels_or_latency() -> None:
    data = _records(200)
    data["label"][:] = -1
    del data["latency_ms"]
    out = variant_readout(**data, threshold=2.0).to_dict()

    text = json.dumps(out, allow_nan=False)
    assert out["variants"]["champion"]["average_precision"]["value"] is None
    assert out["variants"]["champion"]["latency_ms"]["p99"] is None
    assert "NaN" not in text


def test_shadow_agreement_on_records_scored_by_both() -> None:
    ids = np.arange(100).astype(str)
    score_a = np.linspace(0, 1, 100)
    score_b = score_a.copy()
    score_b[:10] = 1.0  # ten records flagged only by the challenger
    readout = variant_readout(
        np.array(["champion"] * 100 + ["challenger"] * 100),
        np.concatenate([score_a, score_b]),
        [None] * 200,
        np.zeros(200),
        threshold=0.5,
        record_id=np.concatenate([ids, ids]),
    )

    assert readout.agreement is not None
    assert readout.agreement.value == pytest.approx(0.9)


def test_bad_labels_are_rejected() -> None:
    data = _records(50)
    data["label"][0] = 2
    with pytest.raises(ValidationError) as err:
        variant_readout(**data, threshold=0.5)
    assert err.value.field == "label"


def test_wilson_interval() -> None:
    est = wilson(3, 10)

    assert est.value == 0.3
    assert est.low == pytest.approx(0.1078, abs=1e-3) and est.high == pytest.approx(
        0.6032, abs=1e-3
    )
    assert wilson(0, 0).value is None


def test_sample_ratio_mismatch_alarm_below_0_001() -> None:
    fine = sample_ratio_check(
        {"champion": 5_030, "challenger": 4_970}, {"champion": 50, "challenger": 50}
    )
    off = sample_ratio_check(
        {"champion": 9_060, "challenger": 940}, {"champion": 90, "challenger": 10}
    )
    bad = sample_ratio_check(
        {"champion": 9_500, "challenger": 500}, {"champion": 90, "challenger": 10}
    )

    assert not fine.alarm and fine.p_value > 0.5
    assert not off.alarm and 0.001 < off.p_value < 0.05  # chi2 = 4.0: odd, but no alarm
    assert bad.alarm and bad.p_value < 0.001
    assert "sample ratio mismatch" in bad.detail
    json.dumps(bad.to_dict(), allow_nan=False)


def test_sample_ratio_check_rejects_mismatched_variants() -> None:
    with pytest.raises(ValidationError) as err:
        sample_ratio_check({"champion": 1}, {"champion": 50, "challenger": 50})
    assert err.value.field == "weights"


def _readout(
    caught: tuple[int, int],
    frauds: int = 500,
    *,
    n: int = 200_000,
    alerts: tuple[int, int] | None = None,
    p99: float = 50.0,
) -> Readout:
    lat = {"p50": 10.0, "p95": 30.0, "p99": p99}
    alerts = alerts or (caught[0] + 200, caught[1] + 200)
    variants = {
        arm: variant_from_counts(
            arm,
            n=n,
            n_labelled=n,
            frauds=frauds,
            frauds_flagged=c,
            alerts=a,
            labelled_alerts=a,
            latency_ms=lat,
        )
        for arm, c, a in zip(("champion", "challenger"), caught, alerts, strict=True)
    }
    return Readout(variants, threshold=0.5, target_fpr=0.001, label_cutoff=None)


def test_decide_promotes_a_significant_improvement() -> None:
    decision = decide(_readout((300, 400)), CRITERIA, look=2)

    assert decision.recommendation == "promote"
    assert "significant improvement" in decision.reason
    json.dumps(decision.to_dict(), allow_nan=False)


def test_decide_continues_then_stops_without_significance() -> None:
    assert decide(_readout((300, 320)), CRITERIA, look=2).recommendation == "continue"
    final = decide(_readout((300, 320)), CRITERIA, look=4)
    assert final.recommendation == "stop"
    assert "no significant improvement at the final look" in final.reason


def test_decide_rolls_back_a_significantly_worse_challenger() -> None:
    decision = decide(_readout((400, 250)), CRITERIA, look=2)

    assert decision.recommendation == "rollback"
    assert "significantly worse" in decision.reason


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"p99": 150.0}, "p99 latency 150.0 ms > 100 ms"),
        ({"alerts": (1_000, 2_000)}, "alert rate"),
    ],
)
def test_a_breached_guardrail_blocks_promotion_and_rolls_back(
    kwargs: dict[str, object], words: str
) -> None:
    decision = decide(_readout((300, 400), **kwargs), CRITERIA, look=2)  # type: ignore[arg-type]

    assert decision.recommendation == "rollback"
    assert words in decision.reason


def test_decide_stops_on_sample_ratio_mismatch() -> None:
    srm = sample_ratio_check(
        {"champion": 9_500, "challenger": 500}, {"champion": 90, "challenger": 10}
    )

    decision = decide(_readout((300, 400)), CRITERIA, look=2, srm=srm)

    assert decision.recommendation == "stop" and "sample ratio mismatch" in decision.reason


def test_decide_needs_both_variants() -> None:
    readout = _readout((300, 400))
    with pytest.raises(ValidationError) as err:
        decide(readout, CRITERIA, look=1, challenger="nope")
    assert err.value.field == "readout"
    assert not math.isnan(decide(readout, CRITERIA, look=1).improvement)
