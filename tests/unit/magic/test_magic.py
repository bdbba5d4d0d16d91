"""``%fraud`` through a real IPython shell, on a temp SQLite tracker and moto-backed production."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from evaluated_runs import GATE_METRICS, log_evaluation
from IPython.core.interactiveshell import InteractiveShell

from fraud_jlab.comparison.runs import CompareResult
from fraud_jlab.config import FraudJlab, set_settings
from fraud_jlab.demo.sandbox import provision_sandbox
from fraud_jlab.promotion import ProductionView, PromotionPlan, PromotionRecord
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

PARAMS = {
    "max_depth": "6",
    "learning_rate": "0.1",
    "n_estimators": "200",
    "subsample": "0.8",
    "colsample_bytree": "0.9",
}
PREFIX = "/fraud-detection/hyperparameters/"
BUCKET = "fraud-detection-config"
USER = "notebook-analyst"


@pytest.fixture
def s3(moto_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto AWS with the production sandbox; settings from a clean environment."""
    monkeypatch.setenv("JUPYTERHUB_USER", USER)
    set_settings(None)
    client = boto3.client("s3", region_name="us-east-1")
    provision_sandbox(
        FraudJlab(),
        s3_client=client,
        sfn_client=boto3.client("stepfunctions", region_name="us-east-1"),
    )
    yield client
    set_settings(None)


@pytest.fixture
def no_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"unexpected confirmation prompt: {prompt}")

    monkeypatch.setattr("builtins.input", refuse)


def _run(
    tracker: TrackerStore,
    name: str = "xgb",
    params: dict[str, str] = PARAMS,
    accuracy: float = 0.97,
    average_precision: float = 0.8,
) -> str:
    now = datetime.now(timezone.utc)
    run_id = tracker.create_run("fraud-detection-optimization", name, user="ds", start_time=now)
    tracker.log_params(run_id, params)
    tracker.log_metrics(
        run_id,
        {"accuracy": accuracy, "average_precision": average_precision, **GATE_METRICS},
    )
    log_evaluation(tracker, run_id)
    tracker.end_run(run_id, "completed", end_time=now)
    return run_id


def _ssm() -> dict[str, str]:
    resp = boto3.client("ssm", region_name="us-east-1").get_parameters_by_path(Path=PREFIX)
    return {p["Name"]: p["Value"] for p in resp["Parameters"]}


def _keys(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _text(shell: InteractiveShell, obj: Any) -> str:
    """What a notebook shows for ``obj`` as a cell result."""
    formatter = shell.display_formatter
    assert formatter is not None
    text: str = formatter.format(obj)[0]["text/plain"]
    return text


def _promote(shell: InteractiveShell, run_id: str, reason: str = "baseline") -> PromotionRecord:
    record = shell.run_line_magic("fraud", f'promote {run_id} --reason "{reason}" --yes')
    assert isinstance(record, PromotionRecord), record
    return record


# --- runs, run, compare -----------------------------------------------------------


def test_runs_returns_filtered_sorted_dataframe(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three runs with different accuracy
    low = _run(tracker, "low", accuracy=0.80)
    mid = _run(tracker, "mid", accuracy=0.95)
    high = _run(tracker, "high", accuracy=0.99)

    # When searching with a filter and an unquoted "KEY DESC" ordering
    df = shell.run_line_magic(
        "fraud", 'runs --filter "metrics.accuracy >= 0.9" --order-by metrics.accuracy DESC'
    )

    # Then only the matching runs come back, best first, with metric columns
    assert isinstance(df, pd.DataFrame)
    assert list(df["run_id"]) == [high, mid]
    assert low not in set(df["run_id"])
    assert list(df.columns[:5]) == ["run_id", "run_name", "experiment", "status", "start_time"]
    assert list(df["metrics.accuracy"]) == [0.99, 0.95]
    assert set(df["experiment"]) == {"fraud-detection-optimization"}
    assert capsys.readouterr().out == ""


def test_runs_page_size_prints_next_page_token(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        _run(tracker, f"r{i}")
    df = shell.run_line_magic("fraud", "runs --max-results 2")
    assert len(df) == 2
    out = capsys.readouterr().out
    assert "Showing 2 of 3 matching runs" in out and "--page-token" in out


def test_runs_bad_filter_prints_parser_message_only(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tracker)
    result = shell.run_line_magic("fraud", 'runs --filter "metrics.accuracy >> 0.9"')
    assert result is None
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Error: ")
    assert "position" in captured.err and ">" in captured.err
    assert "Traceback" not in captured.err


def test_runs_max_results_out_of_range_names_field(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_line_magic("fraud", "runs --max-results 0") is None
    assert "max_results must be an integer between 1 and 1000" in capsys.readouterr().err


def test_run_returns_detail_with_readable_repr(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = _run(tracker, "deep-xgb")
    detail = shell.run_line_magic("fraud", f"run {run_id}")
    assert isinstance(detail, RunDetail)
    assert detail.run_id == run_id and detail.params == PARAMS
    text = _text(shell, detail)
    assert text.startswith(f"Run {run_id}  'deep-xgb'")
    assert "max_depth" in text and "accuracy" in text and "0.97" in text
    assert "Params:" in text and "Metrics:" in text


def test_run_unknown_id_prints_not_found(
    shell: InteractiveShell, tracker: TrackerStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shell.run_line_magic("fraud", "run does-not-exist") is None
    err = capsys.readouterr().err
    assert "Unknown run" in err and "does-not-exist" in err


def test_compare_prints_deltas_and_returns_result(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = _run(tracker, "base", accuracy=0.95, average_precision=0.70)
    better = _run(tracker, "better", accuracy=0.97, average_precision=0.80)

    result = shell.run_line_magic("fraud", f"compare {base} {better} --baseline {base}")

    assert isinstance(result, CompareResult)
    assert result.baseline_run_id == base
    delta = {(d.run_id, d.metric): d.delta for d in result.deltas}
    assert delta[(better, "average_precision")] == pytest.approx(0.10)
    out = capsys.readouterr().out
    assert f"baseline base ({base})" in out
    assert "average_precision" in out and "+0.1" in out
    assert "figures in .figures" in _text(shell, result)


def test_compare_single_run_names_allowed_range(
    shell: InteractiveShell, tracker: TrackerStore, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    only = _run(tracker)
    assert shell.run_line_magic("fraud", f"compare {only}") is None
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "run_ids" in err


# --- promote -------------------------------------------------------------------------


def test_promote_yes_writes_run_values_and_returns_record(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    run_id = _run(tracker, params=PARAMS | {"max_depth": "7"})

    record = shell.run_line_magic(
        "fraud", f'promote {run_id} --reason "better AP" --yes --trigger-pipeline'
    )

    assert isinstance(record, PromotionRecord)
    assert record.status == "completed" and record.run_id == run_id
    assert record.approver == USER and record.reason == "better AP"
    ssm = _ssm()
    assert ssm[PREFIX + "max_depth"] == "7" and ssm[PREFIX + "eta"] == "0.1"
    assert "production-model-config.yaml" in _keys(s3)
    out = capsys.readouterr().out
    # the dry run first, then the ledger summary
    assert out.index("Gates:") < out.index(f"Promotion {record.promotion_id}: completed")
    assert f"{PREFIX}max_depth: (not set) -> 7  (changes)" in out
    assert record.parameter_store_backup_key in out
    assert record.pipeline_execution_arn and record.pipeline_execution_arn in out
    assert _text(shell, record).startswith(f"<PromotionRecord {record.promotion_id}")


@pytest.mark.parametrize("answer", ["n", "", "maybe"])
def test_promote_declined_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
) -> None:
    _promote(shell, _run(tracker))
    candidate = _run(tracker, params=PARAMS | {"max_depth": "9"})
    ssm_before, keys_before = _ssm(), _keys(s3)
    prompts: list[str] = []

    def reply(prompt: str = "") -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr("builtins.input", reply)
    capsys.readouterr()

    result = shell.run_line_magic("fraud", f'promote {candidate} --reason "deeper"')

    assert result is None
    assert prompts == [f"Promote run {candidate} to production? [y/N] "]
    assert _ssm() == ssm_before and _keys(s3) == keys_before
    assert "Cancelled: nothing was written." in capsys.readouterr().out


def test_promote_confirmed_with_yes_answer(
    shell: InteractiveShell, tracker: TrackerStore, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(tracker, params=PARAMS | {"n_estimators": "300"})
    monkeypatch.setattr("builtins.input", lambda prompt="": "Yes")
    record = shell.run_line_magic("fraud", f'promote {run_id} --reason "more trees"')
    assert isinstance(record, PromotionRecord) and record.status == "completed"
    assert _ssm()[PREFIX + "num_round"] == "300"


def test_promote_dry_run_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    run_id = _run(tracker)
    keys_before = _keys(s3)

    plan = shell.run_line_magic("fraud", f"promote {run_id} --dry-run")

    assert isinstance(plan, PromotionPlan) and plan.gates_passed
    assert _ssm() == {} and _keys(s3) == keys_before
    out = capsys.readouterr().out
    assert "[PASS]" in out and f"{PREFIX}eta: (not set) -> 0.1  (changes)" in out
    assert f"version {run_id} approved by {USER}" in out


def test_promote_without_reason_errors_and_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    run_id = _run(tracker)
    keys_before = _keys(s3)
    assert shell.run_line_magic("fraud", f"promote {run_id} --yes") is None
    captured = capsys.readouterr()
    assert "--reason is required" in captured.err and captured.out == ""
    assert _ssm() == {} and _keys(s3) == keys_before


def test_promote_failed_gates_need_force(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    weak = _run(tracker, accuracy=0.5)
    assert shell.run_line_magic("fraud", f'promote {weak} --reason "try" --yes') is None
    captured = capsys.readouterr()
    assert "[FAIL]" in captured.out and "Add --force" in captured.err
    assert _ssm() == {}

    record = shell.run_line_magic("fraud", f'promote {weak} --reason "hotfix" --force --yes')
    assert isinstance(record, PromotionRecord) and record.forced
    assert "forced past failed gates" in capsys.readouterr().out


def test_promote_aws_failure_prints_production_unchanged(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _promote(shell, _run(tracker))
    ssm_before = _ssm()
    # the pipeline step fails after SSM and config were written: the transaction restores them
    boto3.client("stepfunctions", region_name="us-east-1").delete_state_machine(
        stateMachineArn=FraudJlab().state_machine_arn
    )
    candidate = _run(tracker, params=PARAMS | {"max_depth": "9"})
    capsys.readouterr()

    result = shell.run_line_magic(
        "fraud", f'promote {candidate} --reason "deeper" --yes --trigger-pipeline'
    )

    assert result is None
    err = capsys.readouterr().err
    assert "production unchanged" in err.lower() and "Traceback" not in err
    assert _ssm() == ssm_before
    view = shell.run_line_magic("fraud", "production")
    assert view.promotion.promotion_id == first.promotion_id


def test_unexpected_exception_propagates(
    shell: InteractiveShell, tracker: TrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tracker, "search_runs", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        shell.run_line_magic("fraud", "runs")


# --- rollback, promotions, production ---------------------------------------------------


def test_rollback_restores_earlier_promotion(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    first = _promote(shell, _run(tracker, "first"))
    first_ssm = _ssm()
    _promote(shell, _run(tracker, "second", params=PARAMS | {"max_depth": "9"}), "deeper")
    assert _ssm()[PREFIX + "max_depth"] == "9"
    capsys.readouterr()

    record = shell.run_line_magic(
        "fraud", f'rollback {first.promotion_id} --reason "AP dropped" --yes'
    )

    assert isinstance(record, PromotionRecord)
    assert record.kind == "rollback" and record.rollback_of == first.promotion_id
    assert record.status == "completed" and record.approver == USER
    assert _ssm() == first_ssm
    out = capsys.readouterr().out
    assert f"{PREFIX}max_depth: 9 -> 6  (changes)" in out
    assert f"Rollback {record.promotion_id}: completed" in out


def test_rollback_declined_writes_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _promote(shell, _run(tracker))
    _promote(shell, _run(tracker, params=PARAMS | {"max_depth": "9"}), "deeper")
    ssm_before, keys_before = _ssm(), _keys(s3)
    monkeypatch.setattr("builtins.input", lambda prompt="": "no")
    assert shell.run_line_magic("fraud", f'rollback {first.promotion_id} --reason "x"') is None
    assert _ssm() == ssm_before and _keys(s3) == keys_before
    assert "Cancelled" in capsys.readouterr().out


def test_rollback_unknown_promotion_prints_error(
    shell: InteractiveShell, tracker: TrackerStore, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "01JAAAAAAAAAAAAAAAAAAAAAAA"
    assert shell.run_line_magic("fraud", f'rollback {missing} --reason "x" --yes') is None
    assert missing in capsys.readouterr().err


def test_promotions_lists_ledger_newest_first(
    shell: InteractiveShell, tracker: TrackerStore, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = shell.run_line_magic("fraud", "promotions")
    assert isinstance(empty, pd.DataFrame) and empty.empty and "promotion_id" in empty.columns
    first = _promote(shell, _run(tracker, "first"))
    second = _promote(shell, _run(tracker, "second", params=PARAMS | {"max_depth": "9"}))

    df = shell.run_line_magic("fraud", "promotions")
    assert list(df["promotion_id"]) == [second.promotion_id, first.promotion_id]
    assert list(df["status"]) == ["completed", "completed"]
    assert set(df["approver"]) == {USER}

    capsys.readouterr()
    page = shell.run_line_magic("fraud", "promotions --max-results 1")
    assert list(page["promotion_id"]) == [second.promotion_id]
    assert f"--page-token {second.promotion_id}" in capsys.readouterr().out


def test_production_shows_live_values_and_promotion(
    shell: InteractiveShell, tracker: TrackerStore, s3: Any
) -> None:
    empty = shell.run_line_magic("fraud", "production")
    assert isinstance(empty, ProductionView) and empty.promotion is None
    assert "no completed promotion" in _text(shell, empty)

    run_id = _run(tracker)
    record = _promote(shell, run_id, "go live")
    view = shell.run_line_magic("fraud", "production")

    assert isinstance(view, ProductionView)
    assert view.ssm[PREFIX + "max_depth"] == "6"
    assert view.promotion is not None and view.promotion.promotion_id == record.promotion_id
    text = _text(shell, view)
    assert f"{PREFIX}max_depth" in text
    assert f"version {run_id} approved by {USER}" in text
    assert f"promotion {record.promotion_id} of run {run_id}" in text and "go live" in text


# --- usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("promote RUN --bogus", "%fraud promote: error: unrecognized arguments: --bogus"),
        ("bogus", "invalid choice: 'bogus'"),
        ("runs --max-results many", "argument --max-results: invalid int value: 'many'"),
        ("rollback 01JAAAAAAAAAAAAAAAAAAAAAAA", "the following arguments are required: --reason"),
        ('runs --filter "unclosed', "No closing quotation"),
    ],
)
def test_usage_errors_print_usage_and_do_nothing(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
    line: str,
    expected: str,
) -> None:
    keys_before = _keys(s3)
    assert shell.run_line_magic("fraud", line) is None
    captured = capsys.readouterr()
    assert expected in captured.err and "usage: %fraud" in captured.err
    assert captured.out == ""
    assert _ssm() == {} and _keys(s3) == keys_before


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("--help", "promotions"),
        ("", "production"),
        ("promote --help", "--trigger-pipeline"),
        ("runs -h", "--order-by KEY"),
    ],
)
def test_help_is_printed(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    assert shell.run_line_magic("fraud", line) is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %fraud") and expected in out


def test_compare_text_shows_role_and_adjusted_significance() -> None:
    from fraud_jlab.comparison.runs import ComparedRun, CompareFigures, MetricDelta
    from fraud_jlab.magic.display import compare_text

    runs = [
        ComparedRun(run_id=r, run_name=r, experiment_name="e", metrics={}, params={})
        for r in ("a", "b")
    ]
    deltas = [
        MetricDelta(
            run_id="b",
            metric="average_precision",
            value=0.8,
            baseline_value=0.7,
            delta=0.1,
            ci_low=0.02,
            ci_high=0.18,
            significant=True,
            paired=True,
            method="paired_bootstrap",
            role="primary",
            p_value=0.01,
            p_adjusted=0.01,
        ),
        MetricDelta(
            run_id="b",
            metric="auc_roc",
            value=0.9,
            baseline_value=0.88,
            delta=0.02,
            ci_low=0.001,
            ci_high=0.04,
            significant=False,
            paired=True,
            method="delong",
            role="secondary",
            p_value=0.03,
            p_adjusted=0.18,
        ),
    ]
    text = compare_text(
        CompareResult(
            runs=runs,
            baseline_run_id="a",
            metric_names=["average_precision", "auc_roc"],
            deltas=deltas,
            figures=CompareFigures(metric_bars={}),
        )
    )
    assert "Primary metric: average_precision" in text
    assert "role" in text and "primary" in text and "secondary" in text
    assert "p (Holm)" in text and "0.18" in text and "delong" in text


# --- the approver --------------------------------------------------------------------


@pytest.fixture
def no_kernel_user(s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JupyterHub user, no Studio metadata, no configured approver (the OS login is root)."""
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("FRAUD_JLAB_APPROVER", raising=False)
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("FRAUD_JLAB_STUDIO_METADATA_FILE", str(tmp_path / "no-studio.json"))
    set_settings(None)


def test_promote_without_identity_is_refused_and_dry_run_works(
    shell: InteractiveShell,
    tracker: TrackerStore,
    no_kernel_user: None,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    run_id = _run(tracker)
    before = _keys(s3)

    result = shell.run_line_magic("fraud", f'promote {run_id} --reason "no one" --yes')

    assert result is None
    err = capsys.readouterr().err
    assert "c.FraudJlab.approver" in err and "FRAUD_JLAB_APPROVER" in err
    assert _keys(s3) == before and _ssm() == {}
    plan = shell.run_line_magic("fraud", f"promote {run_id} --dry-run")
    assert isinstance(plan, PromotionPlan)


def test_promote_records_the_configured_approver_not_the_os_login(
    shell: InteractiveShell,
    tracker: TrackerStore,
    no_kernel_user: None,
    monkeypatch: pytest.MonkeyPatch,
    no_input: None,
) -> None:
    monkeypatch.setenv("FRAUD_JLAB_APPROVER", "Jane Doe")
    set_settings(None)
    record = _promote(shell, _run(tracker))
    assert record.approver == "Jane Doe"


def test_promote_records_the_studio_profile(
    shell: InteractiveShell,
    tracker: TrackerStore,
    no_kernel_user: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    no_input: None,
) -> None:
    metadata = tmp_path / "resource-metadata.json"
    metadata.write_text('{"DomainId": "d-1", "UserProfileName": "jane-doe"}')
    monkeypatch.setenv("FRAUD_JLAB_STUDIO_METADATA_FILE", str(metadata))
    set_settings(None)
    record = _promote(shell, _run(tracker))
    assert record.approver == "jane-doe"
    rolled = shell.run_line_magic("fraud", f'rollback {record.promotion_id} --reason "again" --yes')
    assert isinstance(rolled, PromotionRecord) and rolled.approver == "jane-doe"


# --- run names as arguments ------------------------------------------------------------


def test_promote_by_name_and_ambiguous_name_lists_ids(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    wanted = _run(tracker, "xgb-small-steps", params=PARAMS | {"max_depth": "4"})
    twin_a = _run(tracker, "xgb-twin")
    twin_b = _run(tracker, "xgb-twin")

    record = shell.run_line_magic("fraud", 'promote xgb-small-steps --reason "by name" --yes')
    assert isinstance(record, PromotionRecord) and record.run_id == wanted
    assert _ssm()[PREFIX + "max_depth"] == "4"

    capsys.readouterr()
    result = shell.run_line_magic("fraud", 'promote xgb-twin --reason "which" --yes')
    assert result is None
    err = capsys.readouterr().err
    assert "2 runs are named 'xgb-twin'" in err and twin_a in err and twin_b in err
    assert _ssm()[PREFIX + "max_depth"] == "4"

    detail = shell.run_line_magic("fraud", "run xgb-small-steps")
    assert isinstance(detail, RunDetail) and detail.run_id == wanted


def test_rollback_target_before_undoes_a_promotion(
    shell: InteractiveShell,
    tracker: TrackerStore,
    s3: Any,
    capsys: pytest.CaptureFixture[str],
    no_input: None,
) -> None:
    first = _promote(shell, _run(tracker, "first"))
    first_ssm = _ssm()
    second = _promote(shell, _run(tracker, "second", params=PARAMS | {"max_depth": "9"}), "deep")
    capsys.readouterr()

    record = shell.run_line_magic(
        "fraud", f'rollback {second.promotion_id} --target before --reason "undo" --yes'
    )

    assert isinstance(record, PromotionRecord) and record.rollback_target == "before"
    assert _ssm() == first_ssm
    out = capsys.readouterr().out
    assert f"Rollback undoes promotion {second.promotion_id}" in out
    assert f"{PREFIX}max_depth: 9 -> 6  (changes)" in out
    assert f"undoes {second.promotion_id}" in out
    df = shell.run_line_magic("fraud", "promotions")
    assert df["change"].iloc[0] == f"undoes {second.promotion_id}"
    assert f"%fraud rollback {first.promotion_id} --target before" in capsys.readouterr().out
    assert (
        shell.run_line_magic("fraud", f'rollback {first.promotion_id} --target later --reason "x"')
        is None
    )
    assert "invalid choice: 'later'" in capsys.readouterr().err
