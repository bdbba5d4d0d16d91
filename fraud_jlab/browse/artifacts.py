"""Reading one artifact of a run for the run detail view, confined to the run's artifact store.

:func:`check_artifact_path` refuses what could leave the store before the tracker is asked
(absolute paths, ``..``, backslashes, NUL, drive letters, empty segments); only a path the
run lists among its artifacts is read, and the SQLite store refuses a symlink that resolves
outside the run's directory. :func:`read_run_artifact` also says how a browser may show it.

Example::

    content = read_run_artifact(tracker, run_id, "evaluation/figures/pr_curve.json")
    content.kind  # "json"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from fraud_jlab.errors import NotFoundError, ValidationError
from fraud_jlab.tracking.contract import TrackerStore

ArtifactKind = Literal["image", "json", "yaml", "text", "binary"]

#: Longest artifact path accepted (characters).
MAX_ARTIFACT_PATH = 1024

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
_TEXT_SUFFIXES = {
    ".txt",
    ".log",
    ".csv",
    ".tsv",
    ".md",
    ".py",
    ".sql",
    ".ini",
    ".cfg",
    ".toml",
    ".xml",
}
_DRIVE = re.compile(r"^[A-Za-z]:")


def check_artifact_path(path: object, field: str = "path") -> str:
    """A relative POSIX artifact path, unchanged; ValidationError naming ``field`` otherwise."""
    if not isinstance(path, str) or not path:
        raise ValidationError(f"{field} must name an artifact of the run", field=field)
    if len(path) > MAX_ARTIFACT_PATH:
        raise ValidationError(
            f"{field} must be at most {MAX_ARTIFACT_PATH} characters, got {len(path)}", field=field
        )
    problems = []
    if "\x00" in path:
        problems.append("a NUL character")
    if "\\" in path:
        problems.append("a backslash")
    if path.startswith("/") or _DRIVE.match(path):
        problems.append("an absolute path")
    parts = path.split("/")
    if ".." in parts:
        problems.append("'..'")
    if any(part in ("", ".") for part in parts):
        problems.append("an empty or '.' segment")
    if problems:
        raise ValidationError(
            f"{field} must be a relative path inside the run's artifacts; {path[:200]!r} has "
            + ", ".join(problems),
            field=field,
        )
    return path


def artifact_kind(path: str) -> ArtifactKind:
    """How the run detail view shows an artifact, from its name."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _IMAGE_TYPES:
        return "image"
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix in _TEXT_SUFFIXES:
        return "text"
    return "binary"


def media_type(path: str) -> str:
    """The Content-Type an artifact is served with (binary and HTML are never rendered)."""
    kind = artifact_kind(path)
    if kind == "image":
        return _IMAGE_TYPES[PurePosixPath(path).suffix.lower()]
    if kind == "json":
        return "application/json"
    if kind in ("yaml", "text"):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


@dataclass(frozen=True)
class ArtifactContent:
    """One artifact's bytes and how to serve them."""

    path: str
    kind: ArtifactKind
    media_type: str
    data: bytes

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.path).name


def read_run_artifact(tracker: TrackerStore, run_id: str, path: str) -> ArtifactContent:
    """The artifact ``path`` of run ``run_id``.

    Raises ValidationError for a path that could leave the store, NotFoundError for an unknown
    run or a path the run does not list, AccessDenied when the stored file resolves outside
    the run's artifact store (a planted symlink).
    """
    clean = check_artifact_path(path)
    run = tracker.get_run(run_id)
    if clean not in {artifact.path for artifact in run.artifacts}:
        raise NotFoundError("artifact", clean, f"Run {run.run_id} has no artifact at this path.")
    data = tracker.read_artifact(run.run_id, clean)
    return ArtifactContent(
        path=clean, kind=artifact_kind(clean), media_type=media_type(clean), data=data
    )
