"""A slow promotion in flight never freezes the server: 200 concurrent GET runs complete and
the event loop is never blocked for more than 100 ms (measured by a loop-lag probe).

The GET runs clients run in a separate process, so their own work does not count as lag of
the server's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import statistics
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from evaluated_runs import GATE_METRICS, log_evaluation
from tornado.httpclient import AsyncHTTPClient

from fraud_jlab import aws
from fraud_jlab.config import FraudJlab
from fraud_jlab.tracking.contract import TrackerStore

SLOW_AWS_SECONDS = 2.0
#: The slow AWS call is released by the test once the GETs are done (or after this long).
RELEASE_TIMEOUT = 45.0
CONCURRENT_GETS = 200
MAX_LOOP_LAG = 0.100
PROBE_INTERVAL = 0.005

CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from tornado.httpclient import AsyncHTTPClient

    url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

    async def main():
        client = AsyncHTTPClient(max_clients=n)
        headers = {"Authorization": f"token {token}"}

        async def one():
            started = time.perf_counter()
            response = await client.fetch(url, headers=headers, raise_error=False)
            return response.code, time.perf_counter() - started

        await one()  # warm the connection path
        results = await asyncio.gather(*(one() for _ in range(n)))
        print(json.dumps(results))

    asyncio.run(main())
    """
)


class LoopLagProbe:
    """Finds every event-loop callback that kept the loop busy longer than a threshold.

    Every callback the loop runs (``asyncio.Handle._run``: task steps, I/O, timers) is timed
    in wall time and in the loop thread's CPU time, and a control thread wakes every 5 ms.
    A callback *blocked* the loop when it ran longer than the threshold and either used that
    much CPU itself or the control thread kept running meanwhile (so the process was not
    merely descheduled by a loaded machine). The wake-up lag of an ``asyncio.sleep`` loop
    is recorded too, for the report.
    """

    def __init__(self, threshold: float, interval: float = PROBE_INTERVAL) -> None:
        self.threshold = threshold
        self.interval = interval
        self.lags: list[float] = []
        #: (started, wall seconds, loop-thread CPU seconds, callback) of slow callbacks
        self.slow: list[tuple[float, float, float, str]] = []
        self.control_wakeups: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._control, daemon=True)
        self._real_run = asyncio.events.Handle._run
        self.test_task: asyncio.Task[Any] | None = None
        #: (start, end) perf_counter times of garbage collections while the probe ran
        self.gc_pauses: list[tuple[float, float]] = []
        self._gc_started = 0.0

    def _timed_run(self_probe: LoopLagProbe) -> Any:  # noqa: N805 - closes over the probe
        real = self_probe._real_run

        def run(handle: asyncio.events.Handle) -> None:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                real(handle)
            finally:
                elapsed = time.perf_counter() - wall
                if elapsed > self_probe.threshold:
                    used = time.thread_time() - cpu
                    what = f"{self_probe.kind(handle)}: {repr(handle)[:300]}"
                    self_probe.slow.append((wall, elapsed, used, what))

        return run

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(time.perf_counter() - started - self.interval)

    def _control(self) -> None:
        while not self._stop.is_set():
            time.sleep(self.interval)
            self.control_wakeups.append(time.perf_counter())

    def kind(self, handle: asyncio.events.Handle) -> str:
        """``test`` (the test's own coroutine, e.g. starting the client process), ``accept``
        (tornado accepting new connections on a listening socket) or ``server``."""
        callback = getattr(handle, "_callback", None)
        owner = getattr(callback, "__self__", None)
        if owner is not None and owner is self.test_task:
            return "test"
        args = getattr(handle, "_args", None) or ()
        if getattr(callback, "__name__", "") == "_handle_events" and args:
            with (
                contextlib.suppress(OSError, ValueError, TypeError),
                socket.fromfd(int(args[0]), socket.AF_INET, socket.SOCK_STREAM) as sock,
            ):
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    return "accept"
        if isinstance(owner, asyncio.Task):
            return f"server {owner.get_coro().__qualname__}"  # type: ignore[union-attr]
        return "server"

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((self._gc_started, time.perf_counter()))

    def start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.test_task = asyncio.current_task()
        gc.callbacks.append(self._on_gc)
        monkeypatch.setattr(asyncio.events.Handle, "_run", self._timed_run())
        self._thread.start()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._stop.set()
        self._thread.join()
        gc.callbacks.remove(self._on_gc)
        asyncio.events.Handle._run = self._real_run  # type: ignore[method-assign]

    def blocked(self) -> list[tuple[float, float, int, str]]:
        """(wall s, loop CPU s, control wake-ups, callback) of each server callback that blocked.

        The test's own steps and tornado's accepting of a burst of new connections (up to 128
        a callback) are left out: they are the load generator and the socket layer, not request
        handling; the test prints them. Time spent in Python's garbage collector during a
        callback (the test process holds the server, moto and the tracker) is subtracted and
        reported separately (``gc_pauses``).
        """
        out = []
        for started, wall, cpu, what in self.slow:
            if not what.startswith("server"):
                continue
            gc_seconds = sum(
                end - begin for begin, end in self.gc_pauses if started <= begin <= started + wall
            )
            wall, cpu = wall - gc_seconds, cpu - gc_seconds
            wakeups = sum(started <= t <= started + wall for t in self.control_wakeups)
            if cpu > self.threshold or wakeups >= 10:
                out.append((wall, cpu, wakeups, what))
        return out


@dataclass
class SlowAws:
    """``started`` is set when the slow call begins; it lasts until ``release`` (at least 2 s)."""

    started: threading.Event
    release: threading.Event


@pytest.fixture
def slow_put_parameter(monkeypatch: pytest.MonkeyPatch) -> SlowAws:
    """The first SSM PutParameter of any server-made client waits at least 2 s, and until the
    test releases it, so the promotion is still in flight however long the GETs take."""
    slow = SlowAws(threading.Event(), threading.Event())
    real_client = aws.client

    def sleep(**_: Any) -> None:
        if not slow.started.is_set():
            slow.started.set()
            time.sleep(SLOW_AWS_SECONDS)
            slow.release.wait(RELEASE_TIMEOUT)

    def slow_client(service: str, settings: FraudJlab | None = None) -> Any:
        made = real_client(service, settings)
        made.meta.events.register("before-call.ssm.PutParameter", sleep)
        return made

    monkeypatch.setattr(aws, "client", slow_client)
    return slow


def _seed(tracker: TrackerStore, n: int) -> str:
    now = datetime.now(timezone.utc)
    ids = []
    for i in range(n):
        run_id = tracker.create_run(
            "fraud-detection-optimization", f"xgb-{i}", user="ds", start_time=now
        )
        tracker.log_params(
            run_id,
            {
                "max_depth": str(3 + i % 6),
                "learning_rate": "0.1",
                "n_estimators": "200",
                "subsample": "0.8",
                "colsample_bytree": "0.9",
            },
        )
        tracker.log_metrics(
            run_id,
            {"accuracy": 0.95 + (i % 40) / 1000, "average_precision": 0.8, "auc_roc": 0.9}
            | GATE_METRICS,
        )
        tracker.end_run(run_id, "completed", end_time=now)
        ids.append(run_id)
    log_evaluation(tracker, ids[-1])  # the candidate: holdout scores the gates pair on
    return ids[-1]


async def test_get_runs_stay_fast_and_the_loop_never_blocks_during_a_slow_promotion(
    fj_tracker: TrackerStore,
    production: Any,
    slow_put_parameter: SlowAws,
    http_server_client: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    candidate = _seed(fj_tracker, 300)
    api = f"http://127.0.0.1:{jp_http_port}{jp_base_url}fraud-jlab/api/"
    token = jp_auth_header["Authorization"].split(" ", 1)[1]
    promoter = AsyncHTTPClient(force_instance=True)
    probe = LoopLagProbe(MAX_LOOP_LAG)
    probe.start(monkeypatch)
    # Given a promotion waiting 2 s on AWS
    promotion = asyncio.ensure_future(
        promoter.fetch(
            api + "promotions",
            method="POST",
            headers=jp_auth_header,
            body=json.dumps({"run_id": candidate, "reason": "slow"}),
            raise_error=False,
            request_timeout=60,
        )
    )
    deadline = time.monotonic() + 30
    while not slow_put_parameter.started.is_set():
        assert not promotion.done(), promotion.result().body
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    slow_since = time.perf_counter()
    # When 200 clients GET runs at once (filtered, sorted, 100 rows)
    url = (
        api
        + "runs?max_results=100&order_by=metrics.accuracy+DESC&filter=params.max_depth+%3D+%275%27"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        url,
        token,
        str(CONCURRENT_GETS),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    gets_done = time.perf_counter()
    promotion_in_flight = not promotion.done()
    slow_put_parameter.release.set()
    response = await promotion
    await probe.stop()
    promoter.close()
    results = json.loads(out)
    latencies = sorted(elapsed for _, elapsed in results)
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * len(latencies)) - 1]
    print(
        f"\n{CONCURRENT_GETS} concurrent GET runs during a promotion waiting >= {SLOW_AWS_SECONDS} s "
        f"on AWS: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms; "
        f"wake-up lag of a 5 ms sleep: max {max(probe.lags) * 1000:.0f} ms, median "
        f"{statistics.median(probe.lags) * 1000:.1f} ms; "
        f"GETs done {gets_done - slow_since:.2f} s after the slow call started"
    )
    print(
        f"callbacks over {MAX_LOOP_LAG * 1000:.0f} ms wall (wall s, loop CPU s, kind): "
        f"{[(round(w, 3), round(c, 3), what[:120]) for _, w, c, what in probe.slow]}; "
        f"garbage collections over 50 ms: "
        f"{[round(e - b, 3) for b, e in probe.gc_pauses if e - b > 0.05]}"
    )
    # Then every GET succeeded while the promotion was still waiting, and it completed
    assert [code for code, _ in results] == [200] * CONCURRENT_GETS
    assert promotion_in_flight, "the GETs must overlap the slow AWS call"
    assert response.code == 201, response.body
    # and the event loop never stalled
    assert len(probe.lags) > 50 and len(probe.control_wakeups) > 50
    assert probe.blocked() == []


async def test_the_probe_catches_a_blocking_call_on_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the control for the test above: a synchronous 300 ms call on the loop is reported
    probe = LoopLagProbe(MAX_LOOP_LAG)
    probe.start(monkeypatch)
    await asyncio.sleep(0.05)
    asyncio.get_running_loop().call_soon(time.sleep, 0.3)
    await asyncio.sleep(0.4)
    await probe.stop()
    [(wall, _, wakeups, what)] = probe.blocked()
    assert wall >= 0.3 and wakeups >= 10 and "sleep" in what
