"""The tracker contract every tracking backend implements.

A backend implements the abstract primitives of :class:`TrackerStore`; the
``Run`` facade (``fraud_jlab.tracking.run``), the server, the widgets and the
modelling toolkit only ever call these methods. The embedded SQLite store is
the default; MLflow and SageMaker Experiments backends implement the same
contract and are exercised by the same contract tests
(``tests/unit/tracking/test_contract.py``).

Values crossing the contract are the pydantic models below, so they serialise
to the REST API unchanged.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

RunStatus = Literal["running", "completed", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = ("running", "completed", "failed")

#: Longest parameter value stored (characters); longer values are rejected.
MAX_PARAM_LENGTH = 8000
#: Longest metric / parameter / tag name.
MAX_KEY_LENGTH = 250


class ArtifactInfo(BaseModel):
    """One file stored with a run."""

    path: str = Field(description="Path relative to the run's artifact root.")
    size_bytes: int
    is_output: bool = Field(description="True for outputs (models, plots), False for inputs.")
    sha256: str


class RunSummary(BaseModel):
    """A run as it appears in a runs table (no artifacts or history)."""

    run_id: str = Field(
        description="Unique run id: a time-sortable 26-char ULID in the SQLite store; the backend's own id elsewhere."
    )
    experiment_name: str
    run_name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None = None
    user: str
    parent_run_id: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict, description="Latest value per metric.")
    tags: dict[str, str] = Field(default_factory=dict)


class RunDetail(RunSummary):
    """Everything the tracker knows about one run."""

    code_version: str | None = Field(
        default=None, description="git:<commit>[+dirty] or nb:<sha256 of the notebook>."
    )
    dataset_version: str | None = Field(
        default=None, description="Content hash of the dataset(s) logged with the run."
    )
    datasets: dict[str, str] = Field(
        default_factory=dict, description="Dataset name -> content hash."
    )
    dependencies: dict[str, str] = Field(default_factory=dict)
    artifacts: list[ArtifactInfo] = Field(default_factory=list)
    children: list[str] = Field(default_factory=list, description="Run ids of child runs.")
    metric_history: dict[str, list[tuple[int, float]]] = Field(
        default_factory=dict, description="metric -> [(step, value), ...] when logged with steps."
    )


class RunsPage(BaseModel):
    """One page of search results."""

    runs: list[RunSummary]
    next_page_token: str | None = None
    total: int = Field(
        description=(
            "Number of runs matching the filter, over all pages; a lower bound when "
            "total_is_exact is false."
        )
    )
    total_is_exact: bool = Field(
        default=True,
        description=(
            "False when the backend paged in the service and did not count every match: "
            "total is then the matches read so far (at least one more than this page ends "
            "at) and next_page_token says more runs follow. The embedded store always counts."
        ),
    )
    client_side_filter: str | None = Field(
        default=None,
        description=(
            "The part of the filter the tracking service could not evaluate, which the backend "
            "evaluated itself over bounded pages of candidate runs; null when the service did all."
        ),
    )


class ExperimentSummary(BaseModel):
    """An experiment (a named group of runs)."""

    name: str
    run_count: int
    first_run_time: datetime | None = None
    last_run_time: datetime | None = None


class TrackerEvent(BaseModel):
    """An append-only event (e.g. a production promotion) recorded in the tracker."""

    event_id: str
    kind: str = Field(description="Event kind, e.g. 'promotion'.")
    run_id: str | None = None
    timestamp: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class TrackerStore(ABC):
    """Primitives a tracking backend provides.

    Every method raises :class:`fraud_jlab.errors.ValidationError` for bad input
    (naming the field) and :class:`fraud_jlab.errors.NotFoundError` for an
    unknown run id. Stores are safe to share between threads.
    """

    # --- writing -----------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        experiment_name: str,
        run_name: str,
        *,
        user: str,
        start_time: datetime,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        dependencies: Mapping[str, str] | None = None,
    ) -> str:
        """Create a run in status ``running`` and return its id."""

    @abstractmethod
    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Record parameters (stored as strings). Re-logging a key with a different value is an error."""

    @abstractmethod
    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], *, step: int | None = None
    ) -> None:
        """Record metric values; the latest value per name is what search sees. NaN/inf rejected."""

    @abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Set (or overwrite) tags."""

    @abstractmethod
    def log_artifact(
        self,
        run_id: str,
        local_path: Path,
        *,
        artifact_path: str | None = None,
        is_output: bool = True,
    ) -> ArtifactInfo:
        """Copy a local file into the run's artifact store."""

    @abstractmethod
    def log_dataset(self, run_id: str, name: str, content_hash: str) -> None:
        """Record the content hash of a dataset used by the run."""

    @abstractmethod
    def end_run(self, run_id: str, status: RunStatus, *, end_time: datetime) -> None:
        """Finish a run as ``completed`` or ``failed``."""

    # --- reading -----------------------------------------------------------
    @abstractmethod
    def get_run(self, run_id: str) -> RunDetail:
        """Everything about one run."""

    @abstractmethod
    def search_runs(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunsPage:
        """Runs matching ``filter_string`` (see ``fraud_jlab.tracking.query.filters``)."""

    @abstractmethod
    def list_experiments(self) -> list[ExperimentSummary]:
        """Every experiment with its run count."""

    @abstractmethod
    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes of one artifact of a run."""

    # --- events ------------------------------------------------------------
    @abstractmethod
    def log_event(
        self, kind: str, payload: Mapping[str, Any], *, run_id: str | None = None
    ) -> TrackerEvent:
        """Append an event (never updated or deleted)."""

    @abstractmethod
    def list_events(
        self, kind: str | None = None, *, run_id: str | None = None
    ) -> list[TrackerEvent]:
        """Events, newest first, optionally of one kind and/or one run."""

    def search_runs_json(
        self,
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> str:
        """:meth:`search_runs`'s page as the JSON text of ``RunsPage.model_dump(mode="json")``.

        What the REST API sends. A backend may render it without building a model per run
        (the SQLite store does it in SQL); the decoded JSON must equal this default's.
        """
        page = self.search_runs(filter_string, order_by, max_results, page_token)
        return json.dumps(page.model_dump(mode="json"))

    def data_version(self) -> int | None:
        """A number that changes whenever the store's data changes (any writer, any process),
        cheap enough to ask before every read; ``None`` when the backend cannot tell (a remote
        service), in which case search responses are never cached."""
        return None

    def check(self) -> None:
        """Raise if the backing service is unreachable or refuses access (one cheap request)."""
        self.search_runs("", max_results=1)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (connections, files)."""
