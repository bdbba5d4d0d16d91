"""schemathesis fuzzes every operation of the served OpenAPI document against a real server.

A ``jupyter_server`` subprocess with fraud_jlab (token auth) runs on a moto server holding
production (see ``live_server``). Every operation gets positive and negative generated
requests; each response must not be a 5xx and must conform to the document (status code,
content type, body schema), and a request answered 4xx must leave production (every SSM
parameter version, every object version in the config bucket: config, ledger, lock) as it was.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from live_server import LiveServer, live_production
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Generated requests per operation and generation mode (13 operations x 2 modes x 80 > 2,000).
EXAMPLES_PER_MODE = 80
MIN_REQUESTS = 2000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with (
        pytest.MonkeyPatch.context() as mp,
        live_production(tmp_path_factory.mktemp("live"), mp) as server,
    ):
        yield server


def _fuzz_operation(
    server: LiveServer,
    operation: Any,
    mode: GenerationMode,
    session: requests.Session,
    counts: collections.Counter[str],
    statuses: collections.Counter[int],
    state: dict[str, Any],
) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def fuzz(case: Any) -> None:
        writes_before = len(server.aws_calls.mutations)
        response = case.call(base_url=server.api, session=session, headers=server.auth, timeout=30)
        counts[operation.label] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=server.auth)
        writes = server.aws_calls.mutations[writes_before:]
        if writes:
            # The request sent writes to AWS: production may only have changed if it succeeded.
            now = server.production_state()
            if 400 <= response.status_code < 500:
                assert now == state["production"], (
                    f"{operation.label} answered {response.status_code} but changed production "
                    f"with {writes}"
                )
            state["production"] = now

    fuzz()


def test_fuzz_every_operation(live: LiveServer) -> None:
    started = time.perf_counter()
    # The document the server serves (from_url would leave out the operation serving it).
    document = requests.get(f"{live.api}/openapi.json", headers=live.auth, timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {
        f"{verb.upper()} {path}" for path, verbs in document["paths"].items() for verb in verbs
    }
    assert {op.label for op in operations} == documented
    counts: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    # production as it is now; refreshed whenever a successful request wrote to AWS
    state = {"production": live.production_state()}
    aws_calls_before = live.aws_calls.calls
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_operation(live, operation, mode, session, counts, statuses, state)
    total = sum(counts.values())
    print(
        f"\nfuzzed {total} requests over {len(counts)} operations in "
        f"{time.perf_counter() - started:.0f} s"
    )
    for label, n in sorted(counts.items()):
        print(f"  {n:5d}  {label}")
    print("  statuses:", dict(sorted(statuses.items())))
    print(
        f"  AWS calls served by the emulator: {live.aws_calls.calls - aws_calls_before}, "
        f"production {'unchanged' if live.production_state() == state['production'] else 'changed'}"
        " since the last checked write"
    )
    assert set(counts) == documented
    assert total >= MIN_REQUESTS
    assert not any(status >= 500 for status in statuses)
    assert live.production_state() == state["production"]
    assert live.process.poll() is None, "the Jupyter server died"
