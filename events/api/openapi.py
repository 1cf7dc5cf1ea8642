"""The OpenAPI 3.1 document, built from the same endpoint declarations and msgspec types
that route and validate requests, so it cannot drift from what the service does."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from events import __version__
from events.api import contract
from events.api.params import TOKEN, QueryParam
from events.api.problems import Problem
from events.api.routing import JSON, Endpoint
from events.webhook_delivery import WebhookPayload
from events.webhooks import SUBSCRIBABLE

REF = "#/components/schemas/{name}"
_AUTH_TEXT = {
    "none": "No token.",
    "optional": "Token optional: with a host's token, drafts and private details too.",
    "partner": "A partner token.",
    "door": "A door token of this event, or a host's partner token.",
    "attendee": "The registration's access_token (Bearer or ?token=), or a host's token.",
}
_ERROR_TEXT = {
    401: "No token, or an unknown token",
    403: "This token may not do this",
    408: "The body was not sent in time",
    404: "Not found, or not yours",
    409: "Conflicts with the current state",
    410: "Gone: its personal data was erased",
    413: "Body over 1 MiB",
    415: "Body is not application/json",
    422: "Invalid input (a body, query parameter or header breaking the input policy)",
    429: "Rate limited (rate-limited); try again after Retry-After",
    503: "The database is unavailable (database-unavailable: nothing was done); try again after"
    " Retry-After",
}
_WRITE_503 = (
    "The database is unavailable (database-unavailable: nothing was done), or the outcome of"
    " this write is unknown (outcome-unknown); either way send it again after Retry-After,"
    " with the same Idempotency-Key"
)


def build(endpoints: list[Endpoint]) -> dict[str, Any]:
    types: list[Any] = [Problem]
    for e in endpoints:
        types += [t for t in (e.body, e.response) if t is not None]
    schemas, components = msgspec.json.schema_components([*types, WebhookPayload], ref_template=REF)
    contract.constrain(
        components,
        {_name(e.body) for e in endpoints if e.body is not None},
        {_name(e.body) for e in endpoints if e.body is not None and e.method == "PATCH"},
    )
    index = 1
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        body_schema = schemas[index] if e.body is not None else None
        index += e.body is not None
        response_schema = schemas[index] if e.response is not None else None
        index += e.response is not None
        op = _operation(e, body_schema, response_schema)
        if e.body is not None and e.method != "PATCH":  # no body is `{}`, if that is enough
            op["requestBody"]["required"] = bool(components.get(_name(e.body), {}).get("required"))
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Events API",
            "version": __version__,
            "description": "Summits and seminars: partners, registration, check-in, calendars.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def query_parameters(e: Endpoint) -> tuple[QueryParam, ...]:
    """What the endpoint reads from its query string: its own declarations, and on attendee
    endpoints the access token (read where the caller is found, api/routing.py)."""
    return (*e.query, TOKEN) if e.auth == "attendee" else e.query


def _name(kind: Any) -> str:
    return str(getattr(kind, "__name__", ""))


def _webhooks() -> dict[str, Any]:
    """What partners' receivers get (Standard Webhooks), one entry per subscribable action."""
    signed = (
        "Signed as Standard Webhooks says: headers webhook-id, webhook-timestamp and"
        ' webhook-signature ("v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>" under the'
        " secret's bytes, the base64 after whsec_). Answer 2xx; anything else is retried for"
        " 27 hours; 410 turns the webhook off."
    )
    body = {"$ref": REF.format(name="WebhookPayload")}
    return {
        action: {
            "post": {
                "operationId": "webhook_" + action.replace(".", "_"),
                "summary": f"{action}: sent to your webhooks subscribed to it (or to *)",
                "description": signed,
                "tags": ["webhooks"],
                "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
                "responses": {"200": {"description": "Received (any 2xx)"}},
            }
        }
        for action in SUBSCRIBABLE
    }


def _operation(e: Endpoint, body: Any, response: Any) -> dict[str, Any]:
    rules = contract.rules_of(_name(e.body)) if e.body is not None else ""
    op: dict[str, Any] = {
        "operationId": e.handler.__name__,
        "summary": e.summary,
        "description": _AUTH_TEXT.get(e.auth, "") + rules,
        "tags": [e.tag],
        "parameters": [contract.path_parameter(name) for name in re.findall(r"{(\w+)}", e.path)],
        "responses": {},
    }
    op["parameters"] += [param.document() for param in query_parameters(e)]
    if e.auth != "none":
        op["security"] = [{"bearer": []}] if e.auth != "optional" else [{}, {"bearer": []}]
    if e.idempotent:
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": contract.IDEMPOTENCY_KEY,
                "description": "Replays the first answer to the same request for 24 hours.",
            }
        )
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    elif e.request_media_type is not None:
        text = {"schema": {"type": "string"}}
        op["requestBody"] = {"required": True, "content": {e.request_media_type: text}}
    ok: dict[str, Any] = {"description": "OK"}
    if response is not None:
        ok["content"] = {e.media_type: {"schema": response}}
    elif e.media_type != JSON:
        ok["content"] = {e.media_type: {"schema": {"type": "string"}}}
    op["responses"][str(e.status)] = ok
    if e.not_modified:
        op["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The ETag of the copy you hold: 304 while it is current.",
            }
        )
        op["responses"]["304"] = {"description": "Not modified: your copy is current"}
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(name="Problem")}}}
    for code in sorted(_error_codes(e, body is not None or e.request_media_type is not None)):
        types = ", ".join(f"`{t}`" for t in _PROBLEM_TYPES.get(code, ()))
        said = _WRITE_503 if code == 503 and e.writes else _ERROR_TEXT.get(code, "Error")
        op["responses"][str(code)] = {
            "description": said + (f". Problem types: {types}" if types else ""),
            "content": problem,
        }
    return op


_PROBLEM_TYPES = contract.problem_types()


def _error_codes(e: Endpoint, has_body: bool) -> set[int]:
    """Every status an operation can answer besides its own: any token sent is checked
    (401), any path or query string may break the input policy (404, 422)."""
    codes = set(e.errors) | {401, 404, 422, 503}
    if has_body:
        codes |= {408, 413, 415}
    if e.auth != "none":
        codes.add(403)
    if e.rate_limit:
        codes.add(429)
    return codes


def resource_schemas(endpoints: list[Endpoint]) -> dict[str, dict[str, Any]]:
    """One self-contained JSON Schema (2020-12) per request/response type, by type name."""
    out: dict[str, dict[str, Any]] = {}
    declared = [t for e in endpoints for t in (e.body, e.response) if t is not None]
    for kind in [Problem, *declared, WebhookPayload]:
        schema = msgspec.json.schema(kind)
        ref = schema.get("$ref")
        if ref is None:
            continue  # a list of a resource: its item type has a file of its own
        name = ref.rsplit("/", 1)[-1]
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{name}.json",
            **schema,
        }
    return dict(sorted(out.items()))


def contract_files(endpoints: list[Endpoint]) -> dict[str, bytes]:
    """Every file of `schemas/`: the OpenAPI document and one JSON Schema per resource."""
    files = {"openapi.json": _pretty(build(endpoints))}
    for name, schema in resource_schemas(endpoints).items():
        files[f"{name}.json"] = _pretty(schema)
    return files


def _pretty(document: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"
