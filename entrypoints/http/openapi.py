"""The OpenAPI 3.1 document, generated from the declared operations and their pydantic models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from entrypoints.http.api import Operation
from entrypoints.http.problems import CODES, ErrorBody

_PATH_PARAM = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{model}"
_REQUEST_ID = {
    "description": "The request id: the client's X-Request-ID when sane, else a generated one.",
    "schema": {"type": "string"},
}
_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: still queued or retrying; the body is the delivery so far",
    204: "No Content",
    400: "Validation error: one entry per problem in details",
    401: "No valid API key: send Authorization: Bearer <key>",
    403: "Your role does not allow this (a member acting on another member's things)",
    404: "Not found (also for an id of another team)",
    409: "Conflict with the current state",
    413: "Body larger than 64 KiB",
    415: "Body is not application/json",
    429: "Too many requests with this API key; Retry-After says when to try again",
    500: "Internal error",
    502: "The delivery failed for good or was cancelled; details carry the delivery",
    503: "Unavailable",
}

BEARER = "apiKey"
_BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, rk_<prefix>_<secret>; it acts as its user.",
}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Mode = Literal["validation", "serialization"]


def build_openapi(operations: Sequence[Operation], *, title: str, version: str) -> dict[str, Any]:
    wanted: list[tuple[type[BaseModel], Mode]] = [(ErrorBody, "serialization")]
    for op in operations:
        wanted += [(model, "serialization") for _, model in op.error_models]
        wanted += [(model, "validation") for model in (op.body, op.query) if model is not None]
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, schemas)
    for op in operations:  # query models became parameters; they are not bodies
        if op.query is not None:
            schemas.pop(_name(refs, op.query), None)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {BEARER: _BEARER_SCHEME}},
        "security": [{BEARER: []}],
    }


def _operation(op: Operation, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        query_schema = schemas[_name(refs, op.query)]
        for field, schema in query_schema.get("properties", {}).items():
            parameters.append({"name": field, "in": "query", "required": False, "schema": schema})
    spec: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}_{op.endpoint.__name__}",
        "tags": [op.tag],
        "parameters": parameters,
        "responses": _responses(op, refs),
    }
    if op.public:
        spec["security"] = []
    if op.body is not None:
        media: dict[str, Any] = {"schema": refs[(op.body, "validation")]}
        if op.examples:
            media["examples"] = {
                example.name: {"summary": example.summary, "value": example.value} for example in op.examples
            }
        spec["requestBody"] = {"required": True, "content": {"application/json": media}}
    return spec


def _name(refs: dict[Any, Any], model: type[BaseModel]) -> str:
    ref: str = refs[(model, "validation")]["$ref"]
    return ref.rsplit("/", 1)[-1]


def _responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    headers = {"X-Request-ID": _REQUEST_ID}
    success: dict[str, Any] = {"description": _DESCRIPTIONS.get(op.status, "OK"), "headers": headers}
    if op.response is not None:
        success["content"] = {op.media_type: {"schema": refs[(op.response, "serialization")]}}
    elif op.status != 204:
        success["content"] = {
            op.media_type: {"schema": {"type": "string" if "text" in op.media_type else "object"}}
        }
    responses = {str(op.status): success}
    for status in op.also_returns:
        responses[str(status)] = {**success, "description": _DESCRIPTIONS[status]}
    guarded: set[int] = set() if op.public else {401} | ({429} if op.method in _WRITES else set())
    models = {status: ErrorBody for status in {*op.errors, *guarded, 500}} | dict(op.error_models)
    for status, model in sorted(models.items()):
        responses[str(status)] = {
            "description": _DESCRIPTIONS.get(status, CODES[status]),
            "headers": headers,
            "content": {"application/json": {"schema": refs[(model, "serialization")]}},
        }
    return responses
