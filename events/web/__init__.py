"""The web pages: attendees (/, /events/{slug}, /tickets/{id}), door staff (/scan) and
partners (/console). Server-rendered, in English, Traditional and Simplified Chinese.

`routes()` goes into the app's routes; `EXCEPTION_HANDLERS` answer errors with an HTML page
on page paths and leave /api/* (and /healthz) to the problem+json handlers.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from events.api import problems
from events.errors import DomainError
from events.web import (
    attendee,
    console,
    console_access,
    console_account,
    console_attendees,
    console_dashboard,
    console_history,
    console_manage,
    console_messages,
    console_password,
    console_translations,
    join,
    scan,
    selfservice_pages,
)
from events.web.i18n import N_
from events.web.render import ERROR_DETAILS, ERROR_TITLES, HERE, CsrfFailed, error_page


def routes() -> list[BaseRoute]:
    return [
        Route("/", attendee.home),
        Route("/events/{slug}", attendee.event_page),
        Route("/events/{slug}", attendee.register, methods=["POST"]),
        Route("/events/{slug}/resend", selfservice_pages.resend_page),
        Route("/events/{slug}/resend", selfservice_pages.resend, methods=["POST"]),
        Route("/tickets/{registration_id}", attendee.ticket_page),
        Route("/tickets/{registration_id}/cancel", attendee.ticket_page),
        Route("/tickets/{registration_id}/cancel", attendee.cancel, methods=["POST"]),
        Route("/tickets/{registration_id}/edit", selfservice_pages.edit_page),
        Route("/tickets/{registration_id}/edit", selfservice_pages.edit, methods=["POST"]),
        Route("/tickets/{registration_id}/erase", attendee.ticket_page),
        Route("/tickets/{registration_id}/erase", attendee.erase, methods=["POST"]),
        Route("/scan", scan.scanner),
        Route("/join/{secret}", join.join),
        Route("/scan.webmanifest", scan.manifest),
        Route("/scan-sw.js", scan.service_worker),
        *console.routes(),
        *console_access.routes(),
        *console_attendees.routes(),
        *console_manage.routes(),
        *console_messages.routes(),
        *console_dashboard.routes(),
        *console_account.routes(),
        *console_password.routes(),
        *console_history.routes(),
        *console_translations.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/healthz", "/readyz")) or path == "/api")


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if not _is_page(request):
        return await problems.domain_error(request, exc)
    if exc.status == 401 and request.url.path.startswith("/console"):
        return console.to_sign_in(request)
    status = 404 if exc.status == 401 else exc.status  # a page link without its token
    title = ERROR_TITLES.get(status, ERROR_TITLES[400])
    page = error_page(request, status, title, ERROR_DETAILS.get(status))
    if exc.retry_after is not None:
        page.headers["Retry-After"] = str(exc.retry_after)
    return page


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not _is_page(request):
        return await problems.http_error(request, exc)
    status = exc.status_code
    return error_page(request, status, ERROR_TITLES.get(status, ERROR_TITLES[400]))


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        403,
        N_("This form has expired"),
        N_("Please go back, reload the page and send the form again."),
    )


async def refuse(request: Request, exc: Exception) -> Response:
    """The answer to input the policy refuses before routing (see events.http.middleware)."""
    if isinstance(exc, DomainError):
        return await domain_error(request, exc)
    assert isinstance(exc, HTTPException)
    return await http_error(request, exc)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    HTTPException: http_error,
    CsrfFailed: csrf_failed,
}
