"""``TuningMonitor``: a live view of a grid / random / Optuna search or a SageMaker tuning job.

A monitor is the ``on_trial`` callback of :func:`~fraud_jlab.tuning.grid_search`,
:func:`~fraud_jlab.tuning.random_search` and :func:`~fraud_jlab.tuning.bayesian_search`:
each :class:`~fraud_jlab.tuning.progress.TrialInfo` the search reports updates the
progress bar, the trials table and the best-so-far chart (pruned trials marked), so
nothing polls. Calls may come from any thread (a search run in a background thread
keeps the kernel free); a lock keeps the state and the widgets consistent.

:class:`AmtJobPoller` feeds a monitor from a SageMaker tuning job: every
``poll_seconds`` (a timed wait, not a busy loop) it asks
:func:`~fraud_jlab.tuning.amt_progress.tuning_job_progress` and passes each trial on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from fraud_jlab.errors import FraudJlabError
from fraud_jlab.tuning.amt_progress import TuningJobProgress, tuning_job_progress
from fraud_jlab.tuning.progress import TrialInfo
from fraud_jlab.widgets.html import STYLE, error_box, esc, num, table

TRIAL_COLUMNS: tuple[str, ...] = (
    "trial",
    "state",
    "score",
    "best so far",
    "params",
    "seconds",
    "run",
)


class TuningMonitor(widgets.VBox):
    """Progress bar, trials table and best-so-far chart, updated by ``monitor(trial_info)``.

    Pass the monitor itself as ``on_trial``. ``trials`` holds the latest TrialInfo of
    every trial number; ``max_rows`` limits the table to the most recent trials.
    """

    def __init__(self, title: str = "Tuning", *, max_rows: int = 20) -> None:
        self._lock = threading.RLock()
        self.max_rows = max_rows
        self.trials: dict[int, TrialInfo] = {}
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Trials")
        self.status = widgets.HTML(esc("Waiting for the first trial…"))
        self.table = widgets.HTML()
        self.chart = go.FigureWidget(
            data=[
                go.Scatter(x=[], y=[], mode="markers", name="trial score"),
                go.Scatter(
                    x=[], y=[], mode="markers", name="pruned (last fold scored)",
                    marker={"symbol": "x", "color": "gray", "size": 9},
                ),
                go.Scatter(x=[], y=[], mode="lines", name="best so far", line_shape="hv"),
            ],
            layout={"title": title, "xaxis_title": "trial", "yaxis_title": "score", "height": 350},
        )  # fmt: skip
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        super().__init__(
            [widgets.HTML(STYLE), widgets.HTML(f"<h3>{esc(title)}</h3>"), self.progress,
             self.status, self.chart, self.table]
        )  # fmt: skip
        self.add_class("fraud-jlab-widget")

    def __call__(self, info: TrialInfo) -> None:
        """Record one trial (a repeated number replaces the earlier report) and redraw."""
        with self._lock:
            self.trials[info.number] = info
            self._redraw()

    def run_in_background(
        self, search: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> threading.Thread:
        """Run ``search(*args, on_trial=self, **kwargs)`` on a thread; the kernel stays free.

        Example: ``monitor.run_in_background(grid_search, X, y, grid, n_splits=3)``.
        When it ends, ``result`` holds its return value, or ``error`` its exception
        (also shown in the status line). Returns the thread (``join()`` to wait).
        """

        def work() -> None:
            try:
                self.result = search(*args, on_trial=self, **kwargs)
            except BaseException as exc:  # shown to the user, kept for inspection
                self.error = exc
                title = "The search failed"
                self.set_status(
                    error_box(title, exc)
                    if isinstance(exc, FraudJlabError)
                    else f"<b>{esc(title)}</b>: {esc(type(exc).__name__)}: {esc(exc)}"
                )
            else:
                with self._lock:
                    self.status.value += esc(" · finished")

        self.result, self.error = None, None
        self._thread = threading.Thread(target=work, name="fraud-jlab-tuning-monitor", daemon=True)
        self._thread.start()
        return self._thread

    def set_status(self, html: str) -> None:
        """Replace the status line (HTML)."""
        with self._lock:
            self.status.value = html

    @property
    def pruned(self) -> list[int]:
        """Numbers of the trials stopped early (pruned)."""
        with self._lock:
            return sorted(n for n, t in self.trials.items() if t.state == "pruned")

    def _redraw(self) -> None:
        ordered = [self.trials[n] for n in sorted(self.trials)]
        last = max(ordered, key=lambda t: t.completed)
        self.progress.max = max(last.total, 1)
        self.progress.value = min(last.completed, self.progress.max)
        best = last.best_score
        self.status.value = esc(
            f"{last.completed}/{last.total} trials done · {len(self.pruned)} pruned · "
            f"best {last.scoring} = {num(best)}"
        )
        scored = [t for t in ordered if t.score is not None]
        pruned = [t for t in ordered if t.state == "pruned" and t.fold_scores]
        stepped = [t for t in ordered if t.best_score is not None]
        with self.chart.batch_update():
            self.chart.data[0].x = [t.number for t in scored]
            self.chart.data[0].y = [t.score for t in scored]
            self.chart.data[1].x = [t.number for t in pruned]
            self.chart.data[1].y = [t.fold_scores[-1] for t in pruned]
            self.chart.data[2].x = [t.number for t in stepped]
            self.chart.data[2].y = [t.best_score for t in stepped]
            self.chart.layout.yaxis.title = last.scoring
        shown = ordered[-self.max_rows :]
        self.table.value = table(
            TRIAL_COLUMNS,
            [
                [t.number, t.state, num(t.score), num(t.best_score),
                 ", ".join(f"{k}={v}" for k, v in sorted(t.params.items())),
                 f"{t.duration_seconds:.1f}", t.run_id or "-"]
                for t in reversed(shown)
            ],
            label="Trials",
            row_classes=[t.state for t in reversed(shown)],
        )  # fmt: skip


class AmtJobPoller:
    """Polls a SageMaker tuning job into a :class:`TuningMonitor` until the job finishes.

    ``poll()`` asks once (the core's read-only describe and list calls); ``start()``
    polls on a daemon thread every ``poll_seconds`` until the job is Completed, Failed
    or Stopped, or ``stop()``. An AWS error is shown in the monitor's status and
    polling goes on at the next interval.
    """

    def __init__(
        self,
        job_name: str,
        monitor: TuningMonitor | None = None,
        *,
        poll_seconds: float = 30.0,
        sagemaker_client: Any = None,
    ) -> None:
        self.job_name = job_name
        self.monitor = monitor or TuningMonitor(f"SageMaker tuning job {job_name}")
        self.poll_seconds = poll_seconds
        self._client = sagemaker_client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: TuningJobProgress | None = None

    def poll(self) -> TuningJobProgress | None:
        """One poll: update the monitor; None (error shown in the monitor) when AWS failed."""
        try:
            progress = tuning_job_progress(self.job_name, sagemaker_client=self._client)
        except FraudJlabError as exc:
            self.monitor.set_status(error_box("Polling the tuning job failed", exc))
            return None
        for info in progress.trials:
            if self.monitor.trials.get(info.number) != info:
                self.monitor(info)
        job = progress.job
        self.monitor.set_status(
            esc(
                f"{job.tuning_job_name}: {job.status} · {len(progress.trials)}/{job.max_jobs} "
                f"training jobs · best {job.objective_metric} = {num(job.best_metric_value)}"
            )
        )
        self.last = progress
        return progress

    def start(self) -> AmtJobPoller:
        """Poll in the background until the job finishes or :meth:`stop` is called."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name=f"fraud-jlab-amt-{self.job_name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling (the tuning job itself keeps running on SageMaker)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            progress = self.poll()
            if progress is not None and progress.finished:
                return
            self._stop.wait(self.poll_seconds)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.monitor._repr_mimebundle_(**kwargs)
