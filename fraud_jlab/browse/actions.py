"""Which actions a run offers: Promote only where a promotion can apply.

A tuning parent trained no model of its own (its parameters are the search's, not a
model's): it says so and names the run to promote instead, its refit run when the tuning
recorded one, else its best trial.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from fraud_jlab.errors import NotFoundError
from fraud_jlab.tracking.contract import RunDetail, TrackerStore

#: Tags a tuning parent records about the run to promote instead of itself, best first.
SUGGESTED_RUN_TAGS = ("refit_run_id", "best_run_id")


class RunActions(BaseModel):
    """``GET runs/{run_id}/actions``."""

    run_id: str
    can_promote: bool
    reason: str = Field(description="Why Promote is (not) offered, in one sentence.")
    suggested_run_id: str | None = Field(
        default=None, description="The run to promote instead (a tuning parent's refit run)."
    )
    suggested_run_name: str | None = None


def is_tuning_parent(run: RunDetail) -> bool:
    """True for a run whose children are its trials (it trained no model of its own)."""
    return bool(run.children) or any(tag in run.tags for tag in SUGGESTED_RUN_TAGS)


def run_actions(run: RunDetail, tracker: TrackerStore) -> RunActions:
    """Whether Promote applies to ``run``, and why not."""
    if is_tuning_parent(run):
        suggested = next((run.tags[t] for t in SUGGESTED_RUN_TAGS if run.tags.get(t)), None)
        name = None
        if suggested:
            try:
                name = tracker.get_run(suggested).run_name
            except NotFoundError:  # a dangling tag: name the id only
                name = None
        what = "its refit run" if "refit_run_id" in run.tags else "the refit of its best trial"
        target = f" ({name or suggested})" if suggested else ""
        return RunActions(
            run_id=run.run_id,
            can_promote=False,
            reason=(
                f"{run.run_name} is a tuning parent of {len(run.children)} trial runs and "
                f"trained no model of its own: promote {what}{target} instead."
            ),
            suggested_run_id=suggested,
            suggested_run_name=name,
        )
    if run.status != "completed":
        return RunActions(
            run_id=run.run_id,
            can_promote=False,
            reason=f"{run.run_name} is {run.status}: only completed runs can be promoted.",
        )
    return RunActions(
        run_id=run.run_id,
        can_promote=True,
        reason="Promote checks the gates and shows the production diff before anything changes.",
    )
