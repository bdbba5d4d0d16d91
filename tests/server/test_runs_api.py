"""REST API for runs, experiments and info, plus the base handler's error mapping."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pydantic
import pytest
import tornado.web

import fraud_jlab
from fraud_jlab.errors import (
    AccessDenied,
    AwsOperationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from fraud_jlab.server.base import FraudJlabContext, FraudJlabHandler, error_status_and_body
from fraud_jlab.tracking.contract import TrackerStore
from fraud_jlab.tracking.query.filters import MAX_FILTER_LENGTH, parse_filter

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class Seeded:
    """Ids of the runs seeded into the server's tracker."""

    xgb: list[str] = field(default_factory=list)  # 5 completed runs, auc 0.90..0.94
    parent: str = ""
    children: list[str] = field(default_factory=list)
    lgbm_failed: str = ""

    @property
    def all_ids(self) -> set[str]:
        return {*self.xgb, self.parent, *self.children, self.lgbm_failed}


def _run(
    store: TrackerStore,
    experiment: str,
    name: str,
    minute: int,
    *,
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    status: str = "completed",
    parent: str | None = None,
) -> str:
    start = T0 + timedelta(minutes=minute)
    run_id = store.create_run(
        experiment, name, user="analyst", start_time=start, parent_run_id=parent
    )
    if params:
        store.log_params(run_id, params)
    if metrics:
        store.log_metrics(run_id, metrics)
    store.end_run(run_id, status, end_time=start + timedelta(seconds=30))  # type: ignore[arg-type]
    return run_id


@pytest.fixture
def seeded(fj_tracker: TrackerStore) -> Seeded:
    s = Seeded()
    for i in range(5):
        s.xgb.append(
            _run(
                fj_tracker,
                "fraud-xgb",
                f"xgb-{i}",
                i,
                params={"max_depth": str(3 + i), "eta": "0.1"},
                metrics={"auc_roc": 0.90 + i / 100, "accuracy": 0.99 - i / 100},
            )
        )
    s.parent = _run(fj_tracker, "fraud-tuning", "tuning", 10, params={"strategy": "bayesian"})
    s.children = [
        _run(
            fj_tracker,
            "fraud-tuning",
            f"trial-{k}",
            11 + k,
            params={"max_depth": str(k + 4)},
            metrics={"auc_roc": 0.8 + k / 100},
            parent=s.parent,
        )
        for k in range(2)
    ]
    s.lgbm_failed = _run(fj_tracker, "fraud-lgbm", "lgbm-0", 20, status="failed")
    return s


# --- GET runs ------------------------------------------------------------


async def test_list_runs_returns_every_run_and_total(fj_api: Any, seeded: Seeded) -> None:
    status, page = await fj_api("GET", "runs")
    assert status == 200
    assert page["total"] == 9
    assert {r["run_id"] for r in page["runs"]} == seeded.all_ids
    assert page["next_page_token"] is None
    failed = next(r for r in page["runs"] if r["run_id"] == seeded.lgbm_failed)
    assert failed["status"] == "failed"
    assert failed["experiment_name"] == "fraud-lgbm"


async def test_paging_visits_each_run_once(fj_api: Any, seeded: Seeded) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"max_results": "2", **({"page_token": token} if token else {})}
        status, page = await fj_api("GET", "runs", params=params)
        assert status == 200, page
        assert len(page["runs"]) <= 2
        assert page["total"] == 9
        seen.extend(r["run_id"] for r in page["runs"])
        pages += 1
        token = page["next_page_token"]
        if token is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(seeded.all_ids)


async def test_order_by_metric_desc_sorts_runs(fj_api: Any, seeded: Seeded) -> None:
    status, page = await fj_api(
        "GET",
        "runs",
        params={"filter": "experiment = 'fraud-xgb'", "order_by": "metrics.auc_roc DESC"},
    )
    assert status == 200
    assert [r["run_id"] for r in page["runs"]] == list(reversed(seeded.xgb))
    aucs = [r["metrics"]["auc_roc"] for r in page["runs"]]
    assert aucs == sorted(aucs, reverse=True)


async def test_order_by_repeated_and_comma_separated_agree(fj_api: Any, seeded: Seeded) -> None:
    xgb = ("filter", "experiment = 'fraud-xgb'")
    repeated = [xgb, ("order_by", "params.eta ASC"), ("order_by", "metrics.accuracy ASC")]
    status_a, page_a = await fj_api("GET", "runs", params=repeated)
    status_b, page_b = await fj_api(
        "GET", "runs", params=[xgb, ("order_by", "params.eta ASC, metrics.accuracy ASC")]
    )
    assert status_a == status_b == 200
    ids = [r["run_id"] for r in page_a["runs"]]
    assert ids == [r["run_id"] for r in page_b["runs"]]
    # eta ties across the xgb runs, so accuracy (ascending) decides: highest index first
    assert ids == list(reversed(seeded.xgb))


async def test_filter_selects_matching_runs(fj_api: Any, seeded: Seeded) -> None:
    status, page = await fj_api(
        "GET",
        "runs",
        params={
            "filter": "metrics.auc_roc >= 0.915 and (params.max_depth = '5' or status = 'failed')"
        },
    )
    assert status == 200
    assert {r["run_id"] for r in page["runs"]} == {seeded.xgb[2]}
    assert page["total"] == 1

    status, page = await fj_api(
        "GET", "runs", params={"filter": f"parent_run_id = '{seeded.parent}'"}
    )
    assert status == 200
    assert {r["run_id"] for r in page["runs"]} == set(seeded.children)


@pytest.mark.parametrize(
    "bad_filter",
    ["metrics.auc_roc >>= 0.9", "metrics.auc_roc >= 0.9 and (status = 'failed'", "colour = 'red'"],
)
async def test_bad_filter_is_400_with_parser_message(
    fj_api: Any, seeded: Seeded, bad_filter: str
) -> None:
    with pytest.raises(ValidationError) as parser_error:
        parse_filter(bad_filter)

    status, body = await fj_api("GET", "runs", params={"filter": bad_filter})

    assert status == 400
    assert body["message"] == str(parser_error.value)
    assert body["field"] == "filter"
    assert body["errors"]


@pytest.mark.parametrize("value", ["0", "1001", "-5", "lots"])
async def test_max_results_out_of_range_is_400(fj_api: Any, value: str) -> None:
    status, body = await fj_api("GET", "runs", params={"max_results": value})
    assert status == 400
    assert body["field"] == "max_results"
    assert "between 1 and 1000" in body["message"]
    assert repr(value) in body["message"] or value in body["message"]


async def test_max_results_bounds_are_accepted(fj_api: Any, seeded: Seeded) -> None:
    for value, expected in (("1", 1), ("1000", 9)):
        status, page = await fj_api("GET", "runs", params={"max_results": value})
        assert status == 200
        assert len(page["runs"]) == expected


# --- GET runs/{run_id} -----------------------------------------------------


async def test_unknown_run_id_is_404(fj_api: Any, seeded: Seeded) -> None:
    status, body = await fj_api("GET", "runs", "01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert status == 404
    assert "01JZZZZZZZZZZZZZZZZZZZZZZZ" in body["message"]
    assert body["errors"] == []


async def test_run_detail_includes_children_params_and_metrics(fj_api: Any, seeded: Seeded) -> None:
    status, parent = await fj_api("GET", "runs", seeded.parent)
    assert status == 200
    assert parent["run_id"] == seeded.parent
    assert sorted(parent["children"]) == sorted(seeded.children)
    assert parent["params"] == {"strategy": "bayesian"}
    assert parent["parent_run_id"] is None

    status, child = await fj_api("GET", "runs", seeded.children[1])
    assert status == 200
    assert child["parent_run_id"] == seeded.parent
    assert child["metrics"] == {"auc_roc": pytest.approx(0.81)}
    assert child["status"] == "completed"
    assert datetime.fromisoformat(child["start_time"]) == T0 + timedelta(minutes=12)
    for key in ("artifacts", "dependencies", "metric_history", "code_version", "dataset_version"):
        assert key in child


# --- GET experiments / info -----------------------------------------------------


async def test_experiments_lists_run_counts(fj_api: Any, seeded: Seeded) -> None:
    status, body = await fj_api("GET", "experiments")
    assert status == 200
    counts = {e["name"]: e["run_count"] for e in body["experiments"]}
    assert counts == {"fraud-xgb": 5, "fraud-tuning": 3, "fraud-lgbm": 1}


async def test_info_reports_version_settings_and_backend(
    fj_api: Any, fj_tracking_uri: str, fj_tracker: TrackerStore
) -> None:
    status, body = await fj_api("GET", "info")
    assert status == 200
    assert body["version"] == fraud_jlab.__version__
    assert body["settings"]["tracking_uri"] == fj_tracking_uri
    assert body["settings"]["max_compare_runs"] == 10
    assert body["tracking_backend"] == type(fj_tracker).__name__


@pytest.fixture
def _compare_limit_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUD_JLAB_MAX_COMPARE_RUNS", "4")


async def test_environment_overrides_server_config(
    _compare_limit_from_env: None, fj_api: Any, fj_context: FraudJlabContext
) -> None:
    status, body = await fj_api("GET", "info")
    assert status == 200
    assert body["settings"]["max_compare_runs"] == 4
    # the core sees the same settings object the server built
    assert fraud_jlab.config.get_settings() is fj_context.settings


# --- blocking work runs off the event loop ---------------------------------


@pytest.mark.parametrize(
    ("method_name", "path"),
    [
        ("search_runs_json", ("runs",)),
        ("get_run", ("runs", "PARENT")),
        ("list_experiments", ("experiments",)),
    ],
)
async def test_slow_tracker_call_does_not_block_other_requests(
    fj_api: Any,
    fj_tracker: TrackerStore,
    seeded: Seeded,
    monkeypatch: pytest.MonkeyPatch,
    method_name: str,
    path: tuple[str, ...],
) -> None:
    # Given a tracker call that takes 1 s (a blocked loop would delay GET info by >= 0.9 s)
    original = getattr(fj_tracker, method_name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(fj_tracker, method_name, slow)
    path = tuple(seeded.parent if p == "PARENT" else p for p in path)

    # When a slow request is in flight and GET info arrives
    slow_request = asyncio.ensure_future(fj_api("GET", *path))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    status, _ = await fj_api("GET", "info")
    info_seconds = time.perf_counter() - started

    # Then info answers while the slow call is still running
    assert status == 200
    assert info_seconds < 0.6, f"GET info waited {info_seconds:.2f}s behind {method_name}"
    assert not slow_request.done()
    slow_status, _ = await slow_request
    assert slow_status == 200


# --- the one error mapping ---------------------------------------------------


class _Body(pydantic.BaseModel):
    run_ids: list[str] = pydantic.Field(min_length=2)
    limit: int = pydantic.Field(default=5, ge=1, le=10)


_RAISES: dict[str, BaseException] = {
    "validation": ValidationError("threshold must be between 0 and 1, got 2", field="threshold"),
    "denied": AccessDenied("ssm:PutParameter denied for role X"),
    "permission": PermissionError("not allowed"),
    "missing": NotFoundError("promotion", "p-1"),
    "conflict": ConflictError("another promotion is in progress"),
    "aws": AwsOperationError("S3 PutObject failed; production unchanged", step="config"),
    "bug": RuntimeError("secret internal detail"),
}


class _ProbeHandler(FraudJlabHandler):
    """Test-only handler exercising the base class end to end."""

    @tornado.web.authenticated
    async def get(self, kind: str) -> None:
        if kind == "user":
            self.write_json({"user": self.user_name})
            return
        raise _RAISES[kind]

    @tornado.web.authenticated
    async def post(self, kind: str) -> None:
        self.write_model(self.parse_body(_Body), status=201)


@pytest.fixture
def probe(jp_serverapp: Any, fj_context: FraudJlabContext) -> Iterator[None]:
    base = jp_serverapp.web_app.settings["base_url"]
    jp_serverapp.web_app.add_handlers(
        ".*$",
        [(base + "fraud-jlab/api/_probe/(?P<kind>[a-z]+)", _ProbeHandler, {"context": fj_context})],
    )
    yield


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("validation", 400),
        ("denied", 403),
        ("permission", 403),
        ("missing", 404),
        ("conflict", 409),
        ("aws", 502),
    ],
)
async def test_domain_errors_map_to_status_with_message(
    fj_api: Any, probe: None, kind: str, status: int
) -> None:
    code, body = await fj_api("GET", "_probe", kind)
    assert code == status
    assert body["message"] == str(_RAISES[kind])
    assert set(body) == {"message", "errors", "field"}
    if kind == "validation":
        assert body["field"] == "threshold"
        assert body["errors"] == [str(_RAISES[kind])]


async def test_unexpected_error_is_500_generic_with_logged_traceback(
    fj_api: Any, probe: None, caplog: pytest.LogCaptureFixture
) -> None:
    code, body = await fj_api("GET", "_probe", "bug")
    assert code == 500
    assert "secret internal detail" not in json.dumps(body)
    assert body["message"].startswith("Internal server error")
    assert "Traceback" in caplog.text
    assert "secret internal detail" in caplog.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("{not json", "body"),
        ("", "body"),
        ("[1, 2]", "body"),
        ({"run_ids": ["a"]}, "run_ids"),
        ({"run_ids": ["a", "b"], "limit": 11}, "limit"),
    ],
)
async def test_bad_request_body_is_400_naming_the_field(
    fj_api: Any, probe: None, payload: Any, field: str
) -> None:
    code, body = await fj_api("POST", "_probe", "x", body=payload if payload != "" else None)
    assert code == 400
    assert body["field"] == field
    assert body["errors"]


async def test_valid_request_body_is_parsed_into_the_model(fj_api: Any, probe: None) -> None:
    code, body = await fj_api("POST", "_probe", "x", body={"run_ids": ["a", "b"]})
    assert code == 201
    assert body == {"run_ids": ["a", "b"], "limit": 5}


async def test_user_name_is_the_authenticated_jupyter_user(
    fj_api: Any, jp_fetch: Any, probe: None, fj_user: str
) -> None:
    me = json.loads((await jp_fetch("api", "me")).body)
    assert me["identity"]["username"] == fj_user
    code, body = await fj_api("GET", "_probe", "user")
    assert code == 200
    assert body["user"] == fj_user


def test_pydantic_errors_list_every_problem() -> None:
    with pytest.raises(pydantic.ValidationError) as exc:
        _Body.model_validate({"run_ids": [], "limit": 0})
    status, body = error_status_and_body(exc.value)
    assert status == 400
    assert len(body["errors"]) == 2
    assert body["field"] == "run_ids"
    assert "limit" in body["message"]


# --- extension registration ----------------------------------------------------


def test_extension_is_listed_enabled_and_ok(tmp_path: Path) -> None:
    # Given the server-config JSON the wheel installs into etc/jupyter/jupyter_server_config.d
    conf = tmp_path / "etc" / "jupyter_server_config.d"
    conf.mkdir(parents=True)
    shipped = REPO / "jupyter-config" / "server-config" / "fraud_jlab.json"
    (conf / "fraud_jlab.json").write_text(shipped.read_text())
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "etc"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # When jupyter lists the server extensions
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_server", "extension", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    # Then fraud_jlab is enabled and validates
    assert proc.returncode == 0, out
    assert "fraud_jlab enabled" in out
    assert f"fraud_jlab {fraud_jlab.__version__} OK" in out


def _nested_token() -> str:
    import base64

    raw = ("[" * 5000 + "]" * 5000).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ([("order_by", f"metrics.m{i}") for i in range(32)], "order_by", "0..16"),
        ([("order_by", f"params.p{i} DESC") for i in range(64)], "order_by", "0..16"),
        ({"filter": "(" * 10_000 + "status = 'running'" + ")" * 10_000}, "filter", "0..20000"),
        ({"filter": "(" * 400 + "status = 'running'" + ")" * 400}, "filter", "0..16 levels"),
        ({"filter": " or ".join(["user IS NULL"] * 3000)}, "filter", "0..20000"),
        ({"filter": " or ".join(["user = 'u'"] * 201)}, "filter", "0..200"),
        ({"filter": "start_time > 1e400"}, "filter", "out of range"),
        ({"filter": "start_time > '99999-01-01'"}, "filter", "ISO 8601"),
        ({"filter": "metrics.auc_roc > 1e400"}, "filter", "finite"),
        ({"page_token": _nested_token()}, "page_token", "not a token"),
    ],
)
async def test_hostile_search_input_is_400_not_500(
    fj_api: Any, seeded: Seeded, params: Any, field: str, fragment: str
) -> None:
    status, body = await fj_api("GET", "runs", params=params)
    assert status == 400, body
    assert body["field"] == field
    assert fragment in body["message"]


async def test_long_filters_within_the_limits_answer_correctly(fj_api: Any, seeded: Seeded) -> None:
    every_id = sorted(seeded.all_ids)
    cases = [
        (" or ".join(f"metrics.k{i} = {i}" for i in range(14)) + " or status = 'failed'", 1),
        (" or ".join(f"metrics.k{i} = {i}" for i in range(15)) + " or status = 'failed'", 1),
        (" or ".join(f"metrics.k{i % 31} = {i}" for i in range(199)) + " or user IS NOT NULL", 9),
        (" and ".join(["user IS NOT NULL"] * 200), 9),
        ("run_id IN (" + ", ".join(f"'{i}'" for i in [*every_id, *map(str, range(990))]) + ")", 9),
    ]
    for text, expected in cases:
        status, page = await fj_api(
            "GET",
            "runs",
            params=[("filter", text), *[("order_by", f"metrics.o{i}") for i in range(16)]],
        )
        assert status == 200, page
        assert page["total"] == expected, text[:80]


# --- POST runs/search ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({}, {}),
        (
            {"filter": "metrics.auc_roc >= 0.91", "order_by": "metrics.auc_roc DESC"},
            {"filter": "metrics.auc_roc >= 0.91", "order_by": ["metrics.auc_roc DESC"]},
        ),
        (
            {"order_by": "start_time,name", "max_results": "3"},
            {"order_by": ["start_time", "name"], "max_results": 3},
        ),
    ],
)
async def test_post_runs_search_equals_get_runs(
    fj_api: Any, seeded: Seeded, query: dict[str, str], body: dict[str, Any]
) -> None:
    get_status, via_get = await fj_api("GET", "runs", params=query)
    post_status, via_post = await fj_api("POST", "runs", "search", body=body)
    assert get_status == post_status == 200
    assert via_post == via_get
    if via_get["next_page_token"]:
        _, page2_get = await fj_api(
            "GET", "runs", params={**query, "page_token": via_get["next_page_token"]}
        )
        _, page2_post = await fj_api(
            "POST", "runs", "search", body={**body, "page_token": via_post["next_page_token"]}
        )
        assert page2_post == page2_get


async def test_post_runs_search_accepts_a_filter_longer_than_a_url(
    fj_api: Any, seeded: Seeded
) -> None:
    # Within the grammar's length limit, but over 64 KB once URL-encoded ("\u00e9" is %C3%A9):
    # as a GET query this gets a TCP reset (tornado's 64 KB header limit).
    value = "\u00e9" * (MAX_FILTER_LENGTH - 100)
    long_filter = f"params.eta = '0.1' and params.max_depth != '{value}'"
    assert len(long_filter) <= MAX_FILTER_LENGTH
    assert len(urllib.parse.quote(long_filter)) > 64 * 1024
    status, page = await fj_api("POST", "runs", "search", body={"filter": long_filter})
    assert status == 200, page
    assert {r["run_id"] for r in page["runs"]} == set(seeded.xgb)
    # One character past the limit: a clear 400 naming the field, through POST as through GET.
    too_long = long_filter + " " * (MAX_FILTER_LENGTH - len(long_filter) + 1)
    status, body = await fj_api("POST", "runs", "search", body={"filter": too_long})
    assert status == 400 and body["field"] == "filter"


@pytest.mark.parametrize("bad_filter", ["metrics.auc_roc >>= 0.9", "colour = 'red'"])
async def test_post_runs_search_bad_filter_is_400(
    fj_api: Any, seeded: Seeded, bad_filter: str
) -> None:
    with pytest.raises(ValidationError) as parser_error:
        parse_filter(bad_filter)
    status, body = await fj_api("POST", "runs", "search", body={"filter": bad_filter})
    assert status == 400
    assert body["message"] == str(parser_error.value)[: len(body["message"])]
    assert body["field"] == "filter"


@pytest.mark.parametrize("body", [{"max_results": 0}, {"max_results": 1001}, {"colour": 1}])
async def test_post_runs_search_bad_body_is_400(fj_api: Any, body: dict[str, Any]) -> None:
    status, _ = await fj_api("POST", "runs", "search", body=body)
    assert status == 400


async def test_post_runs_search_requires_auth(fj_api: Any) -> None:
    status, _ = await fj_api("POST", "runs", "search", body={}, token=False)
    assert status == 403


def test_openapi_document_declares_post_runs_search() -> None:
    from fraud_jlab.server.extension import collect_routes
    from fraud_jlab.server.openapi import build_openapi

    doc = build_openapi(collect_routes(), version="0", server_url="/")
    op = doc["paths"]["/runs/search"]["post"]
    assert op["operationId"] == "searchRunsPost"
    assert "requestBody" in op
