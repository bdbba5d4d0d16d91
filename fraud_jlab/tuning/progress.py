"""Progress reporting for searches: a per-trial callback and a plain-text progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from fraud_jlab.tuning.space import ParamValue


@dataclass(frozen=True)
class TrialInfo:
    """What a search reports after each trial.

    ``number`` is the trial's number (from 0, its position in the grid or the
    sampling order); ``completed`` counts the trials finished so far, which
    may differ in order from ``number`` when trials share a model.
    """

    number: int
    completed: int
    total: int
    params: dict[str, ParamValue]
    state: str
    score: float | None
    fold_scores: list[float] = field(default_factory=list)
    best_score: float | None = None
    duration_seconds: float = 0.0
    run_id: str | None = None
    scoring: str = "average_precision"


TrialCallback = Callable[[TrialInfo], None]


def text_progress(stream: TextIO | None = None, width: int = 30) -> TrialCallback:
    """A ``on_trial`` callback drawing ``[#####.....] 5/16 best average_precision=0.8123``.

    Redraws one line (carriage return) and ends it after the last trial.
    Example: ``grid_search(X, y, grid, on_trial=text_progress())``.
    """
    out = stream if stream is not None else sys.stderr

    def report(info: TrialInfo) -> None:
        done = info.completed
        filled = int(width * done / max(info.total, 1))
        best = "n/a" if info.best_score is None else f"{info.best_score:.4f}"
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{info.total} "
            f"best {info.scoring}={best}"
        )
        out.write(line + ("\n" if done >= info.total else ""))
        out.flush()

    return report
