"""Endpoints as data: one declaration gives the Starlette route and its OpenAPI entry.

A handler receives a `Call` (the decoded body, the caller, a connection and `now`) and
returns what to send. The wrapper here does the rest in the same order for every endpoint:
read the body (before touching the database), refuse a missing token, open a transaction
(reads: a plain connection), authenticate, decode and check the body (so a stranger gets a 401
whatever it sent), replay or record an `Idempotency-Key`, render JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events import idempotency
from events.api.params import TOKEN, QueryParam
from events.errors import FieldError, InvalidInput, Unauthenticated, UnsupportedMediaType
from events.hosting import ANONYMOUS, Actor, authenticate
from events.http import policy
from events.queries import Connection

JSON = "application/json"


@dataclass(slots=True)
class Call:
    request: Request
    conn: Connection
    actor: Actor
    now: datetime
    body: Any = None
    secret: str | None = None  # an attendee's access token (Bearer or ?token=)
    declared: tuple[QueryParam, ...] = ()  # the endpoint's query parameters

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        """The query parameter `name` as sent (None when absent), checked against its
        declaration (else a 422 naming it). Reading an undeclared one is a bug: LookupError."""
        for param in self.declared:
            if param.name == name:
                raw = self.request.query_params.get(name)
                return None if raw is None else param.check(raw)
        raise LookupError(f"?{name} is read but not declared in the endpoint's query=")

    @property
    def settings(self) -> Any:
        return self.request.app.state.settings


@dataclass(slots=True)
class Result:
    """A JSON answer with a status other than the endpoint's usual one."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type | None = None
    response: Any = None
    status: int = 200
    auth: str = "partner"  # "none", "optional", "partner", "door", "attendee" — for the docs
    tag: str = "events"
    idempotent: bool = False
    rate_limit: str | None = None
    media_type: str = JSON
    errors: tuple[int, ...] = ()
    transaction: bool = True  # False: the domain call makes its own (a measured hot path)
    request_media_type: str | None = None  # a body that is not JSON, read by the handler
    query: tuple[QueryParam, ...] = ()  # the query parameters the handler reads (params.py)
    not_modified: bool = False  # answers 304 to an If-None-Match naming its current ETag

    @property
    def writes(self) -> bool:
        return self.method != "GET"


class Router:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self, method: str, path: str, summary: str, **options: Any
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method, path, handler, summary, tag=options.pop("tag", self.tag), **options
                )
            )
            return handler

        return register

    def get(self, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, summary, **options)

    def post(self, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, summary, **options)

    def patch(self, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, summary, **options)

    def delete(self, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, summary, **options)


def client_address(request: Request) -> str | None:
    """The client's address: behind a trusted proxy, the one it forwards (uvicorn's proxy
    headers middleware has put it in the scope already)."""
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""  # present but malformed: authenticate() refuses it as unknown
    return token.strip()


def decode(raw: bytes, content_type: str | None, kind: type, *, method: str = "POST") -> Any:
    not_json = content_type is None or content_type.split(";")[0].strip().lower() != JSON
    if not_json and (raw or content_type is not None):
        raise UnsupportedMediaType("Send the body as application/json")
    if method == "PATCH" and raw.strip() in (b"", b"{}"):
        raise InvalidInput.one("body", "must name at least one field to change")
    try:
        decoded: Any = msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise InvalidInput([validation_error(str(exc))]) from None
        decoded = _with_whole_numbers(raw, kind)
    except (msgspec.DecodeError, RecursionError):
        raise InvalidInput.one("body", "is not valid JSON") from None
    policy.check_json(raw)
    return decoded


def _with_whole_numbers(raw: bytes, kind: type) -> Any:
    """JSON Schema's `integer` includes 5.0: a whole float is taken where an int is wanted."""
    try:
        return msgspec.convert(_ints(msgspec.json.decode(raw)), type=kind)
    except msgspec.ValidationError as exc:
        raise InvalidInput([validation_error(str(exc))]) from None


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def validation_error(message: str) -> FieldError:
    """msgspec's 'Expected `int` - at `$.venue.name`' → FieldError('venue.name', 'Expected `int`')."""
    text, sep, where = message.rpartition(" - at `")
    if not sep:
        text, where = message, "$`"
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    path = path.replace("[", ".").replace("]", "")
    if text.startswith("Object contains unknown field `"):
        unknown = text.split("`")[1]
        return FieldError(f"{path}.{unknown}" if path else unknown, "is not a known field")
    if text.startswith("Object missing required field `"):
        missing = text.split("`")[1]
        return FieldError(f"{path}.{missing}" if path else missing, "is required")
    return FieldError(path or "body", text)


def starlette_route(endpoint: Endpoint) -> Route:
    async def asgi_endpoint(request: Request) -> Response:
        return await run(endpoint, request)

    asgi_endpoint.__name__ = endpoint.handler.__name__
    return Route(endpoint.path, asgi_endpoint, methods=[endpoint.method])


async def run(endpoint: Endpoint, request: Request) -> Response:
    raw = await request.body() if endpoint.body is not None else b""
    body = None
    if endpoint.body is not None and endpoint.auth == "none":  # no caller to check first
        body = decode(
            raw, request.headers.get("content-type"), endpoint.body, method=endpoint.method
        )
    state = request.app.state
    if endpoint.rate_limit:
        await state.limiter.check(endpoint.rate_limit, client_address(request))
    now = state.clock()
    token = bearer_token(request)
    if token is None and endpoint.auth in ("partner", "door"):
        raise Unauthenticated("This needs a token (Authorization: Bearer …)")
    key = request.headers.get("idempotency-key") if endpoint.idempotent else None
    if key is not None and (not key or len(key) > 200 or policy.text_fault(key)):
        raise InvalidInput.one("Idempotency-Key", "must be 1 to 200 printable characters")
    in_transaction = endpoint.writes and (endpoint.transaction or key is not None)
    opened = (
        state.db.transaction() if in_transaction else state.db.connection(writes=endpoint.writes)
    )
    async with opened as conn:
        actor, secret = await _caller(conn, endpoint, request, token)
        if endpoint.auth == "attendee" and actor.kind == "anonymous" and not secret:
            raise Unauthenticated("Give the registration's access token, or a host's token")
        if (
            endpoint.body is not None and endpoint.auth != "none"
        ):  # read once the caller is known: a stranger gets a 401
            body = decode(
                raw, request.headers.get("content-type"), endpoint.body, method=endpoint.method
            )
        call = Call(request, conn, actor, now, body, secret, endpoint.query)
        if key is None:
            return render(endpoint, await endpoint.handler(call))
        scope = f"{endpoint.method} {endpoint.path} {actor.token_id or 'anonymous'}"
        digest = hashlib.sha256(request.url.path.encode() + b"\0" + raw).digest()
        replay = await idempotency.begin(conn, scope, key, digest)
        if replay is not None:
            return Response(
                replay.body, replay.status, media_type=JSON, headers={"idempotent-replay": "true"}
            )
        response = render(endpoint, await endpoint.handler(call))
        stored = idempotency.Replay(response.status_code, bytes(response.body))
        await idempotency.finish(conn, scope, key, digest, stored)
        return response


async def _caller(
    conn: Connection, endpoint: Endpoint, request: Request, token: str | None
) -> tuple[Actor, str | None]:
    """Who calls. On attendee endpoints a token that is no API token may be an access token."""
    if endpoint.auth != "attendee":
        return await authenticate(conn, token), None
    secret = request.query_params.get(TOKEN.name)
    if secret is not None:
        TOKEN.check(secret)
    if token and not token.startswith(("pt_", "dt_")):
        return ANONYMOUS, token
    return await authenticate(conn, token), secret


def render(endpoint: Endpoint, result: Any) -> Response:
    if result is None and endpoint.status == 204:
        return Response(status_code=204)
    if isinstance(result, Response):
        return result
    if isinstance(result, Result):
        return Response(msgspec.json.encode(result.body), result.status, result.headers, JSON)
    return Response(msgspec.json.encode(result), endpoint.status, media_type=JSON)


def utcnow() -> datetime:
    return datetime.now(UTC)
