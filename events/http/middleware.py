"""Pure ASGI middleware shared by api/ and web/: the input policy on paths and query
strings, and the security headers of every HTML answer.

A refused path or query string is answered by the app's own error handlers (`refuse`, the
web package's: an HTML page on page paths, problem+json under /api), so the answer looks
like any other 404 or 422 of the same path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.errors import InvalidInput
from events.http import policy

Refuse = Callable[[Request, Exception], Awaitable[Response]]

MAX_QUERY = 8192

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:;"
        " style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none';"
        " base-uri 'none'; form-action 'self'"
    ),
}
#: /api/docs keeps its styles in the page (one file, no other request): the same policy
#: with inline styles allowed.
DOCS_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


class InputPolicy:
    """NUL or control characters in the path → 404; in the query string → 422 naming it."""

    def __init__(self, app: ASGIApp, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.refuse(request, problem)
        await response(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope) -> Exception | None:
        if policy.path_fault(scope.get("path", "")):
            return HTTPException(404)
        query: bytes = scope.get("query_string", b"")
        if not query:
            return None
        if len(query) > MAX_QUERY:
            return InvalidInput.one("query", f"must be at most {MAX_QUERY} bytes")
        try:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            policy.check_fields(pairs, "query")
        except InvalidInput as exc:
            scope["query_string"] = b""  # the error page must not echo it back
            return exc
        return None


class SecurityHeaders:
    """Every text/html answer (pages, error pages, /api/docs) gets the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") == "/api/docs"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    for name, value in SECURITY_HEADERS.items():
                        if docs and name == "Content-Security-Policy":
                            value = DOCS_CSP
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
