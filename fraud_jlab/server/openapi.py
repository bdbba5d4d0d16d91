"""OpenAPI 3.1 document generated from the handlers' pydantic models.

Each handler class declares ``operations = {"get": Operation(...), ...}``; the
document is built by walking the extension's route table, so a served route
without an operation is an error at build time, not a silent gap in the docs.
Schemas come from ``pydantic.json_schema.models_json_schema`` with
``ref_template="#/components/schemas/{model}"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from fraud_jlab.server.api_models import ErrorBody

REF_TEMPLATE = "#/components/schemas/{model}"
HTTP_VERBS = ("get", "post", "put", "patch", "delete")
#: Errors every operation may answer (bad input, no token / not authorized, bug, tracker down).
COMMON_ERRORS = (400, 403, 500, 503)
_ERROR_DESCRIPTIONS = {
    400: "Invalid input; `field` names the offending parameter.",
    403: "Not authenticated or not authorized.",
    404: "Unknown id.",
    413: "Request body larger than `FraudJlab.max_body_bytes`.",
    409: "Conflicting or stale state (e.g. another promotion in progress).",
    500: "Unexpected server error (details in the server log).",
    502: "An AWS call failed; the message says whether production is unchanged.",
    503: "The experiment tracker did not answer; the message names its URI and the cause.",
}
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")

Schema = dict[str, Any]


@dataclass(frozen=True)
class QueryParam:
    """A query-string parameter; ``schema`` is its JSON schema (arrays repeat the key)."""

    name: str
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One HTTP operation on a route.

    ``responses`` maps a success status to a pydantic model, a raw JSON schema
    dict, or ``None`` (no body). ``errors`` lists extra error statuses beyond
    400/403/500 (e.g. 404, 409, 502); error bodies are :class:`ErrorBody`.
    """

    operation_id: str
    summary: str
    responses: Mapping[int, type[BaseModel] | Schema | None]
    tags: Sequence[str] = ()
    description: str = ""
    query: Sequence[QueryParam] = ()
    path_params: Mapping[str, str] = field(default_factory=dict)
    request_model: type[BaseModel] | None = None
    errors: Sequence[int] = ()


def openapi_path(route: str) -> str:
    """``runs/(?P<run_id>[^/]+)`` -> ``/runs/{run_id}``.

    Raises ValueError for regex syntax other than named groups.
    """
    path = _NAMED_GROUP.sub(lambda m: "{" + m.group(1) + "}", route.strip("/"))
    path = path.replace("\\.", ".")
    if re.search(r"[()\[\]*+?$^\\|]", path):
        raise ValueError(f"route {route!r}: use named groups (?P<name>...) for path parameters")
    return "/" + path


def implemented_verbs(handler: type[Any]) -> list[str]:
    """The HTTP verbs ``handler`` overrides (tornado's defaults answer 405)."""
    from tornado.web import RequestHandler

    return [v for v in HTTP_VERBS if getattr(handler, v) is not getattr(RequestHandler, v)]


def _model_refs(
    models: Sequence[tuple[type[BaseModel], JsonSchemaMode]],
) -> tuple[dict[tuple[type[Any], JsonSchemaMode], Schema], dict[str, Schema]]:
    unique = list(dict.fromkeys(models))
    refs, defs = models_json_schema(unique, ref_template=REF_TEMPLATE)
    return dict(refs), dict(defs.get("$defs", {}))


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def build_openapi(
    routes: Sequence[tuple[str, type[Any]]],
    *,
    version: str,
    server_url: str = "/fraud-jlab/api",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (paths relative to ``fraud-jlab/api/``).

    Raises ValueError when a handler implements a verb without declaring its
    ``Operation``, or declares a path parameter the route does not have.
    """
    plan: list[tuple[str, str, Operation]] = []
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route, handler in routes:
        path = openapi_path(route)
        declared: Mapping[str, Operation] = getattr(handler, "operations", {})
        for verb in implemented_verbs(handler):
            op = declared.get(verb)
            if op is None:
                raise ValueError(
                    f"{handler.__name__}.{verb} serves {path} but declares no OpenAPI Operation"
                )
            params = set(re.findall(r"{(\w+)}", path))
            if set(op.path_params) - params:
                raise ValueError(f"{op.operation_id}: path parameters not in {path}")
            plan.append((path, verb, op))
            if op.request_model is not None:
                models.append((op.request_model, "validation"))
            models.extend(
                (m, "serialization")
                for m in op.responses.values()
                if isinstance(m, type) and issubclass(m, BaseModel)
            )

    refs, schemas = _model_refs(models)
    error_ref = refs[(ErrorBody, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for path, verb, op in plan:
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": list(op.tags),
            "responses": {},
        }
        if op.description:
            entry["description"] = op.description
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": op.path_params.get(name, ""),
                "schema": {"type": "string"},
            }
            for name in re.findall(r"{(\w+)}", path)
        ]
        for q in op.query:
            param: dict[str, Any] = {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "description": q.description,
                "schema": q.schema,
            }
            if q.schema.get("type") == "array":
                param.update(style="form", explode=True)
            parameters.append(param)
        if parameters:
            entry["parameters"] = parameters
        if op.request_model is not None:
            entry["requestBody"] = {
                "required": True,
                "content": _json(refs[(op.request_model, "validation")]),
            }
        for status, body in op.responses.items():
            response: dict[str, Any] = {"description": _success_description(status, body)}
            if isinstance(body, type) and issubclass(body, BaseModel):
                response["content"] = _json(refs[(body, "serialization")])
            elif isinstance(body, dict):
                response["content"] = _json(body)
            entry["responses"][str(status)] = response
        body_errors = (413,) if op.request_model is not None else ()
        for status in sorted({*COMMON_ERRORS, *op.errors, *body_errors}):
            entry["responses"][str(status)] = {
                "description": _ERROR_DESCRIPTIONS.get(status, "Error."),
                "content": _json(error_ref),
            }
        paths.setdefault(path, {})[verb] = entry

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fraud_jlab REST API",
            "version": version,
            "description": (
                "REST API of the fraud_jlab Jupyter server extension. Authenticate with the "
                "Jupyter token (`Authorization: token <token>`) or the Jupyter session cookie."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"jupyterToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "jupyterToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <Jupyter server token>`",
                }
            },
        },
    }


def _success_description(status: int, body: type[BaseModel] | Schema | None) -> str:
    if isinstance(body, type):
        return body.__doc__.strip().splitlines()[0] if body.__doc__ else body.__name__
    return {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}.get(status, "Success")


def response_schema(document: Mapping[str, Any], path: str, verb: str, status: int) -> Schema:
    """The response schema of one operation, self-contained for ``jsonschema`` validation.

    The returned schema carries the document's ``components`` so that
    ``#/components/schemas/...`` references resolve against it.
    """
    content = document["paths"][path][verb]["responses"][str(status)]["content"]
    schema = dict(content["application/json"]["schema"])
    schema["components"] = document["components"]
    return schema


__all__ = [
    "COMMON_ERRORS",
    "REF_TEMPLATE",
    "Operation",
    "QueryParam",
    "build_openapi",
    "implemented_verbs",
    "openapi_path",
    "response_schema",
]
