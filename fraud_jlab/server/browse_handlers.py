"""Run detail routes: one artifact's content, and which actions a run offers.

``GET runs/{run_id}/artifact?path=...`` serves only a path the run lists, confined to
its artifact store (:mod:`fraud_jlab.browse.artifacts`). Responses are never rendered as
active content: ``nosniff``, a sandboxing CSP, and ``attachment`` for anything that is
not an image, JSON, YAML or text (or when ``download=true``).
"""

from __future__ import annotations

import tornado.web

from fraud_jlab.browse.actions import RunActions, run_actions
from fraud_jlab.browse.artifacts import read_run_artifact
from fraud_jlab.browse.names import resolve_run_ref
from fraud_jlab.errors import ValidationError
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation, QueryParam
from fraud_jlab.tracking.contract import TrackerStore

#: Largest artifact served (bytes); larger ones are for the tracker's own tools.
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024


def _quoted_file_name(name: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "artifact"
    return f'attachment; filename="{safe}"'


class ArtifactHandler(FraudJlabHandler):
    """``GET runs/{run_id}/artifact?path=<artifact path>``."""

    operations = {
        "get": Operation(
            operation_id="getRunArtifact",
            summary="The content of one artifact of a run",
            description=(
                "Only paths the run lists in `artifacts`; 400 for paths that could leave the "
                "run's artifact store (absolute, `..`, backslashes), 403 when the stored file "
                "resolves outside it (a symlink). Images, JSON, YAML and text are served "
                "inline, everything else as a download."
            ),
            tags=("runs",),
            path_params={"run_id": "Run id."},
            query=(
                QueryParam(
                    "path",
                    {"type": "string", "minLength": 1, "maxLength": 1024},
                    "Artifact path as listed in the run's `artifacts`.",
                    required=True,
                ),
                QueryParam(
                    "download",
                    {"type": "boolean", "default": False},
                    "Serve as an attachment (a file download).",
                ),
            ),
            responses={200: {"type": "string", "format": "binary"}},
            errors=(404,),
        )
    }

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        path = self.get_query_argument("path", default="")
        download = self.query_bool("download", False)
        content = await self.run_blocking(read_run_artifact, self.tracker, run_id, path)
        if len(content.data) > MAX_ARTIFACT_BYTES:
            raise ValidationError(
                f"artifact {content.path!r} is {len(content.data)} bytes; at most "
                f"{MAX_ARTIFACT_BYTES} are served",
                field="path",
            )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Cache-Control", "private, no-store")
        if download or content.kind == "binary":
            self.set_header("Content-Disposition", _quoted_file_name(content.file_name))
        # APIHandler.finish sets the Content-Type (JSON unless told otherwise).
        self.finish(content.data, set_content_type=content.media_type)


def _actions(tracker: TrackerStore, ref: str) -> RunActions:
    return run_actions(tracker.get_run(resolve_run_ref(ref, tracker=tracker)), tracker)


class RunActionsHandler(FraudJlabHandler):
    """``GET runs/{run_id}/actions``."""

    operations = {
        "get": Operation(
            operation_id="getRunActions",
            summary="Which actions a run offers (Promote), and why not",
            tags=("runs",),
            path_params={"run_id": "Run id, or a run name unique among runs."},
            responses={200: RunActions},
            errors=(404,),
        )
    }

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        actions = await self.run_blocking(_actions, self.tracker, run_id)
        self.write_model(actions)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    """Routes of this module, relative to ``<base_url>fraud-jlab/api/``."""
    return [
        (r"runs/(?P<run_id>[^/]+)/artifact", ArtifactHandler),
        (r"runs/(?P<run_id>[^/]+)/actions", RunActionsHandler),
    ]
