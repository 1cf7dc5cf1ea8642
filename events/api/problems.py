"""Every error leaves the service here, as RFC 9457 application/problem+json.

Domain errors carry their own code and status; Starlette's HTTP errors (unknown path,
wrong method) and anything unexpected are mapped to problems too. No stack trace and no
SQL ever reaches a client: unexpected errors are logged and answered with a plain 500.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import ERROR_TYPE_BASE, DomainError, PayloadTooLarge, RequestTimeout

log = logging.getLogger("events.api")

PROBLEM = "application/problem+json"

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "A valid token is needed"),
    403: ("forbidden", "This token may not do this"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "The request was not sent in time"),
    413: ("payload-too-large", "The request body is larger than 1 MiB"),
    500: ("internal-error", "Something went wrong on our side"),
}


class Problem(msgspec.Struct, omit_defaults=True):
    """The error body (RFC 9457); `type` ends with the stable error code."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    result: str | None = None
    retry_after: int | None = None


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(body), body["status"], headers, PROBLEM)


def http_problem(status: int, detail: str | None = None) -> dict[str, Any]:
    code, title = _HTTP_CODES.get(status, ("error", "Error"))
    return {
        "type": ERROR_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
    }


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 408:  # the rest of the body may never come: the connection ends here
        headers["Connection"] = "close"
    return problem_response(exc.problem(), headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code != 404 else f"Nothing at {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette names only the first route's methods
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(http_problem(exc.status_code, detail), headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


EXCEPTION_HANDLERS = {DomainError: domain_error, HTTPException: http_error}


class CatchAll:
    """Pure ASGI middleware: an unexpected exception becomes a logged, plain 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = problem_response(http_problem(500))
            await response(scope, receive, send)


#: Seconds to wait for each chunk of a request body (EVENTS_BODY_TIMEOUT): a body sent too
#: slowly is a 408, so a half-sent request cannot hold its worker's attention for ever.
BODY_TIMEOUT = float(os.environ.get("EVENTS_BODY_TIMEOUT") or 30)


class BodyLimit:
    """Pure ASGI middleware: request bodies over `limit` bytes are refused with a 413, bodies
    that stall for BODY_TIMEOUT with a 408."""

    def __init__(self, app: ASGIApp, limit: int = 1024 * 1024) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            try:
                async with asyncio.timeout(BODY_TIMEOUT):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout() from None
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise PayloadTooLarge()
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await problem_response(http_problem(413))(scope, receive, send)
