"""The partner console: sign in, events, sessions, questions, co-hosts, attendees, door tokens.

A signed-in user acts as their partner: every page calls the same domain functions as the
API with that `Actor`, so permissions (owner, co-host) are the API's. Every change is a
POST with the CSRF field, answered by a redirect (or the form again with its errors).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from events import (
    accounts,
    analytics,
    badges,
    catalog,
    checkin,
    directory,
    door_kit,
    hosting,
    partner_mail,
)
from events.api.routing import client_address
from events.catalog import EventOut, EventPatch
from events.errors import DomainError, InvalidInput, Unauthenticated
from events.hosting import CohostIn, DoorTokenIn
from events.paging import PageRequest, decode_cursor
from events.queries import Connection
from events.web import console_forms as forms
from events.web.attendee import qr_svg
from events.web.console_support import (
    CONFLICTS,
    attendee_count,
    cancel_with_reason,
    partner_slug,
)
from events.web.i18n import N_
from events.web.render import connection, finish, form_of, now, redirect, render

COOKIE = "console_session"
Handler = Callable[[Request], Awaitable[Response]]


def routes() -> list[BaseRoute]:
    def post(path: str, handler: Handler) -> Route:
        return Route(path, handler, methods=["POST"])

    return [
        Route("/console", dashboard),
        post("/console/sign-in", sign_in),
        post("/console/sign-out", sign_out),
        Route("/console/events/new", new_event),
        post("/console/events/new", create_event),
        Route("/console/events/{event_id}", event_page),
        post("/console/events/{event_id}", update_event),
        post("/console/events/{event_id}/publish", publish),
        post("/console/events/{event_id}/cancel", cancel),
        post("/console/events/{event_id}/sessions", add_session),
        post("/console/events/{event_id}/sessions/{session_id}", update_session),
        post("/console/events/{event_id}/questions", update_questions),
        post("/console/events/{event_id}/cohosts", invite),
        post("/console/events/{event_id}/door-tokens", door_token),
        Route("/console/events/{event_id}/stats", stats),
        post("/console/invitations/{invitation_id}/{answer}", answer_invitation),
    ]


def to_sign_in(request: Request) -> Response:
    return finish(request, RedirectResponse("/console", status_code=303))


async def _who(request: Request, conn: Connection) -> accounts.SignedIn:
    found = await accounts.session(conn, request.cookies.get(COOKIE), now(request))
    if found is None:
        raise Unauthenticated()
    return found


def _page(
    request: Request, template: str, who: accounts.SignedIn, *, status: int = 200, **context: Any
) -> Response:
    return render(request, template, {"who": who, **context}, status=status, private=True)


# --- signing in ----------------------------------------------------------------------------


EVENTS_PAGE = 100  # of a partner's events on the dashboard, then "More"


async def dashboard(request: Request) -> Response:
    async with connection(request) as conn:
        who = await accounts.session(conn, request.cookies.get(COOKIE), now(request))
        if who is None:
            return render(request, "console/sign_in.html", {"error": None}, private=True)
        cursor = decode_cursor(request.query_params.get("cursor"))
        events = await catalog.list_events(
            conn, who.actor, hosted=True, page=PageRequest(after_seq=cursor, limit=EVENTS_PAGE)
        )
        invitations = await hosting.list_invitations(conn, who.actor)
    return _page(
        request,
        "console/dashboard.html",
        who,
        events=events.items,
        next_cursor=events.next_cursor,
        invitations=invitations,
    )


async def sign_in(request: Request) -> Response:
    await request.app.state.limiter.check("signin", client_address(request))
    form = await form_of(request)
    try:
        async with connection(request, write=True) as conn:
            secret = await accounts.sign_in(
                conn, str(form.get("email") or ""), str(form.get("password") or ""), now(request)
            )
    except Unauthenticated:
        context = {"error": N_("Wrong email or password."), "email": form.get("email")}
        return render(request, "console/sign_in.html", context, status=401, private=True)
    response = redirect(request, "/console")
    https = request.app.state.settings.base_url.startswith("https:")
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=https,
        path="/console",
    )
    return response


async def sign_out(request: Request) -> Response:
    await form_of(request)
    async with connection(request, write=True) as conn:
        await accounts.sign_out(conn, request.cookies.get(COOKIE))
    response = redirect(request, "/console")
    response.delete_cookie(COOKIE, path="/console")
    return response


# --- events --------------------------------------------------------------------------------


async def new_event(request: Request) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
    values = {"timezone": "Asia/Hong_Kong", "capacity": 100, "waitlist": True}
    return _page(request, "console/event_new.html", who, values=values, errors={})


async def create_event(request: Request) -> Response:
    form = await form_of(request)
    try:
        async with connection(request, write=True) as conn:
            who = await _who(request, conn)
            created = await catalog.create_event(
                conn, who.actor, forms.event_in(form), now(request)
            )
    except InvalidInput as exc:
        async with connection(request) as conn:
            who = await _who(request, conn)
        errors = forms.messages(exc)
        context = {"values": dict(form), "errors": errors}
        return _page(request, "console/event_new.html", who, status=422, **context)
    return redirect(request, f"/console/events/{created.id}")


async def _event_context(
    request: Request, conn: Connection, who: accounts.SignedIn, event: EventOut
) -> dict[str, Any]:
    row = await catalog.load_for(conn, who.actor, event.id, "manage")
    return {
        "event": event,
        "role": hosting.role_of(row, who.actor),
        "values": forms.event_values(event),
        "sessions": [(s, forms.session_values(s, event.timezone)) for s in event.sessions],
        "invitations": await hosting.list_event_invitations(conn, row),
        "door_tokens": (await hosting.list_door_tokens(conn, row)).items,
        "badge_parts": await badges.badge_parts(conn, row, ["confirmed"]),
        "badges_per_part": badges.MAX_BADGES,
        "fill": await analytics.session_fills(conn, row),
        "directory": await directory.partners(conn),
        "counts": await _counts(conn, row),
        "errors": {},
        "message": None,
        "pairing": None,
        "public_url": f"{request.app.state.settings.base_url}/events/{event.slug}",
    }


async def _counts(conn: Connection, event: dict[str, Any]) -> dict[str, int]:
    """The door's counts (checked in included), as the API's /stats gives them."""
    found = await door_kit.stats(conn, event, checkin.Door(event["id"], None, event))
    return {k: v for k, v in msgspec.structs.asdict(found).items() if isinstance(v, int)}


async def _show_event(request: Request, event_id: str, **extra: Any) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
        event = await catalog.get_event(conn, who.actor, event_id)
        context = await _event_context(request, conn, who, event)
    context.update(extra)
    status = 422 if extra.get("errors") else 409 if extra.get("message") else 200
    return _page(request, "console/event.html", who, status=status, **context)


async def event_page(request: Request) -> Response:
    return await _show_event(request, request.path_params["event_id"])


async def _change(
    request: Request,
    work: Callable[[Connection, accounts.SignedIn, Any], Awaitable[Any]],
    *done: tuple[str, int | None],
) -> Response:
    """Run one change on the event; back to its page with the messages `done` (and any the
    work returns as a list), or the page with what went wrong."""
    event_id = request.path_params["event_id"]
    form = await form_of(request)
    try:
        async with connection(request, write=True) as conn:
            who = await _who(request, conn)
            result = await work(conn, who, form)
    except InvalidInput as exc:
        return await _show_event(request, event_id, errors=forms.messages(exc))
    except Unauthenticated:
        raise
    except DomainError as exc:
        if exc.status == 404:
            raise
        message = CONFLICTS.get(exc.code, N_("That is not possible right now."))
        return await _show_event(request, event_id, message=message)
    if isinstance(result, dict):  # something to show once (a new door token)
        return await _show_event(request, event_id, **result)
    if isinstance(result, str):  # somewhere else to go (a duplicate)
        return redirect(request, result, *done)
    return redirect(request, f"/console/events/{event_id}", *done, *(result or []))


async def update_event(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> Any:
        fields = forms.event_fields(form)
        patch = forms._convert(fields, EventPatch)
        event_id = request.path_params["event_id"]
        before = await catalog.get_event(conn, who.actor, event_id)
        shift = fields["starts_at"] - before.starts_at
        if shift and before.sessions and form.get("move_sessions") != "yes":
            return await _ask_to_move(conn, before, shift, form)  # nothing changed yet
        after = await catalog.patch_event(conn, who.actor, event_id, patch, now(request))
        moved = len(after.sessions) if after.starts_at != before.starts_at else 0
        return [("moved", moved)] * bool(moved) + await _told(conn, before, after)

    return await _change(request, work, ("saved", None))


async def _ask_to_move(conn: Connection, event: EventOut, shift: timedelta, form: Any) -> Any:
    """The form again, as typed, with what moving the start does: each session, from → to,
    and how many attendees get an updated invite; saving it again (move_sessions) does it."""
    moves = [(s.title, s.starts_at, s.starts_at + shift) for s in event.sessions]
    told = await attendee_count(conn, event.id) if event.status == "published" else 0
    values = {key: form.get(key) for key in form}
    return {"values": values, "confirm_move": {"sessions": moves, "told": told}}


async def _told(conn: Connection, before: EventOut, after: EventOut) -> list[Any]:
    """'N attendees will be told' when a published event's time, place or title changed."""
    if after.status != "published" or after.revision == before.revision:
        return []
    return [("told", await attendee_count(conn, after.id))]


async def publish(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        await catalog.publish_event(conn, who.actor, request.path_params["event_id"], now(request))

    return await _change(request, work, ("published", None))


async def cancel(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> list[Any]:
        if form.get("confirm") != "yes":
            raise InvalidInput.one("confirm", "tick the box to confirm")
        event_id = request.path_params["event_id"]
        told: int = await attendee_count(conn, event_id)
        await cancel_with_reason(
            conn, who.actor, event_id, str(form.get("reason") or ""), now(request)
        )
        return [("told", told)]

    return await _change(request, work, ("cancelled", None))


async def add_session(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> list[Any]:
        event_id = request.path_params["event_id"]
        event = await catalog.load_for(conn, who.actor, event_id, "manage")
        data = forms.session_in(form, event["timezone"])
        await catalog.create_session(conn, who.actor, event_id, data, now(request))
        return await _told_live(conn, event)

    return await _change(request, work, ("session-added", None))


async def update_session(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> list[Any]:
        event_id = request.path_params["event_id"]
        event = await catalog.load_for(conn, who.actor, event_id, "manage")
        data = forms.session_in(form, event["timezone"])
        patch = catalog.SessionPatch(
            data.title, data.starts_at, data.ends_at, data.room, data.capacity
        )
        await catalog.patch_session(
            conn, who.actor, event_id, request.path_params["session_id"], patch, now(request)
        )
        return await _told_live(conn, event)

    return await _change(request, work, ("session-saved", None))


async def _told_live(conn: Connection, event: dict[str, Any]) -> list[Any]:
    if event["status"] != "published":
        return []
    return [("told", await attendee_count(conn, str(event["id"])))]


async def update_questions(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        event = await catalog.get_event(conn, who.actor, request.path_params["event_id"])
        patch = EventPatch(questions=forms.keep_translations(forms.questions(form), event))
        await catalog.patch_event(
            conn, who.actor, request.path_params["event_id"], patch, now(request)
        )

    return await _change(request, work, ("questions-saved", None))


async def invite(request: Request) -> Response:
    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> None:
        event = await catalog.load_for(
            conn, who.actor, request.path_params["event_id"], "change_hosts"
        )
        slug = await partner_slug(conn, str(form.get("partner") or ""))
        invitation = await hosting.invite_cohost(conn, event, who.actor, CohostIn(slug))
        console = f"{request.app.state.settings.base_url}/console"
        await partner_mail.cohost_invited(conn, invitation, console_url=console, now=now(request))

    return await _change(request, work, ("invited", None))


async def door_token(request: Request) -> Response:
    """A new door token; its pairing QR (the /scan URL with the token) is shown once, here."""

    async def work(conn: Connection, who: accounts.SignedIn, form: Any) -> dict[str, Any]:
        event_id = request.path_params["event_id"]
        event = await catalog.load_for(conn, who.actor, event_id, "manage")
        label = str(form.get("label") or "").strip()[:200]
        session = str(form.get("session_id") or "").strip() or None
        door = DoorTokenIn(label, session)
        created = await hosting.create_door_token(conn, event, who.actor, door)
        url = f"{request.app.state.settings.base_url}/scan?token={created.token}"
        return {"pairing": {"label": label, "url": url, "qr": qr_svg(url)}}

    return await _change(request, work)


async def answer_invitation(request: Request) -> Response:
    await form_of(request)
    accept = request.path_params["answer"] == "accept"
    parsed = catalog.parse_id(request.path_params["invitation_id"])
    if parsed is None or request.path_params["answer"] not in ("accept", "decline"):
        return to_sign_in(request)
    async with connection(request, write=True) as conn:
        who = await _who(request, conn)
        await hosting.answer_invitation(conn, who.actor, parsed, accept=accept, now=now(request))
    return redirect(request, "/console")


# --- counts --------------------------------------------------------------------------------


async def stats(request: Request) -> Response:
    async with connection(request) as conn:
        who = await _who(request, conn)
        row = await catalog.load_for(conn, who.actor, request.path_params["event_id"], "manage")
        counts = await _counts(conn, row)
    return JSONResponse(counts, headers={"Cache-Control": "no-store"})
