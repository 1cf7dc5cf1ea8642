"""The console's event management beyond editing: delete a session, unpublish, duplicate,
preview a draft, revoke a door device, print the badges and the check-in list (the API's
PDFs, for the signed-in user), remove a co-host."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import accounts, badges, catalog, checkin, hosting, lifecycle
from events.errors import NotFound
from events.http.files import pdf_response
from events.queries import Connection
from events.web import attendee
from events.web.console import _change, _who
from events.web.render import connection, now, render


def routes() -> list[BaseRoute]:
    def post(path: str, handler: Any) -> Route:
        return Route(path, handler, methods=["POST"])

    return [
        post("/console/events/{event_id}/sessions/{session_id}/delete", delete_session),
        post("/console/events/{event_id}/unpublish", unpublish),
        post("/console/events/{event_id}/duplicate", duplicate),
        Route("/console/events/{event_id}/preview", preview),
        post("/console/events/{event_id}/door-tokens/{token_id}/revoke", revoke_door),
        Route("/console/events/{event_id}/badges.pdf", badges_pdf),
        Route("/console/events/{event_id}/checkin-list.pdf", checkin_list_pdf),
        post("/console/events/{event_id}/cohosts/{partner}/remove", remove_cohost),
    ]


def _event_id(request: Request) -> str:
    return str(request.path_params["event_id"])


async def delete_session(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> list[Any]:
        deleted = await lifecycle.delete_session(
            conn,
            who.actor,
            _event_id(request),
            request.path_params["session_id"],
            force=form.get("force") == "yes",
            now=now(request),
        )
        event = await catalog.load(conn, _event_id(request))
        published = event is not None and event["status"] == "published"
        return [("told", deleted.registrations)] if published and deleted.registrations else []

    return await _change(request, work, ("session-deleted", None))


async def unpublish(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        await lifecycle.unpublish(conn, who.actor, _event_id(request), now(request))

    return await _change(request, work, ("unpublished", None))


async def duplicate(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> str:
        copy = await lifecycle.duplicate(
            conn, who.actor, _event_id(request), lifecycle.DuplicateIn(), now(request)
        )
        return f"/console/events/{copy.id}"

    return await _change(request, work, ("duplicated", None))


async def preview(request: Request) -> Response:
    """The event's public page as attendees will see it, for its hosts (drafts included);
    the form is shown but cannot be sent."""
    async with connection(request) as conn:
        who = await _who(request, conn)
        event = await catalog.get_event(conn, who.actor, _event_id(request))
        await catalog.load_for(conn, who.actor, event.id, "manage")
        context = await attendee._event_context(request, conn, event)
    context["preview"] = True
    return render(request, "event.html", {"who": who, **context}, private=True)


def _uuid(value: str) -> UUID:
    parsed = catalog.parse_id(value)
    if parsed is None:
        raise NotFound()
    return parsed


async def revoke_door(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        event = await catalog.load_for(conn, who.actor, _event_id(request), "manage")
        token_id = _uuid(request.path_params["token_id"])
        await hosting.revoke_door_token(conn, event, token_id, now(request), who.actor)

    return await _change(request, work, ("door-revoked", None))


async def badges_pdf(request: Request) -> Response:
    """The confirmed attendees' badges (?size=a6|label), a part of MAX_BADGES from ?after=
    (the event page lists the parts)."""
    size = badges.parse_size(request.query_params.get("size"))
    after = request.query_params.get("after") or "0"
    start = int(after) if after.isdigit() and len(after) < 19 else 0
    async with connection(request) as conn:
        who = await _who(request, conn)
        door = await checkin.door(conn, who.actor, _event_id(request))
        assert door.event is not None
        drawn, _ = await badges.badges_document(conn, door.event, ["confirmed"], size, after=start)
    return pdf_response(drawn, f"badges-{door.event['slug']}.pdf")


async def checkin_list_pdf(request: Request) -> Response:
    """The confirmed attendees by name, to tick off on paper when the scanners are down."""
    async with connection(request) as conn:
        who = await _who(request, conn)
        door = await checkin.door(conn, who.actor, _event_id(request))
        assert door.event is not None
        drawn = await badges.checkin_list_document(conn, door.event, ["confirmed"], now(request))
    return pdf_response(drawn, f"checkin-list-{door.event['slug']}.pdf")


async def remove_cohost(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        event = await catalog.load_for(conn, who.actor, _event_id(request), "change_hosts")
        await hosting.remove_cohost(conn, event, request.path_params["partner"])

    return await _change(request, work, ("cohost-removed", None))
