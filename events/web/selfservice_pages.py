"""Attendees help themselves on the pages: get their link again, change their registration,
and a ticket link that does not work explains what to do instead of "Page not found"."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import UNSET
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from events import catalog, registration, selfservice
from events.api.routing import client_address
from events.catalog import EventOut
from events.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from events.hosting import ANONYMOUS
from events.queries import Connection
from events.registration import RegistrationOut
from events.selfservice import RegistrationPatch
from events.web.attendee import CONFLICTS, FIELD_MESSAGES, field_errors, places_left
from events.web.i18n import LANG_NAMES, LANGS, N_
from events.web.render import connection, form_of, now, redirect, render

CLOSED = N_("Changes are closed for this event.")


# --- "send me my link again" ----------------------------------------------------------------


async def resend_page(request: Request) -> Response:
    async with connection(request) as conn:
        event = await catalog.get_event_by_slug(conn, ANONYMOUS, request.path_params["slug"])
    return render(request, "resend.html", {"event": event, "sent": False, "error": None})


async def resend(request: Request) -> Response:
    """The same answer whether or not the address is registered; limited per address and email."""
    limiter = request.app.state.limiter
    await limiter.check("resend", client_address(request))
    form = await form_of(request)
    email = str(form.get("email") or "").strip()
    async with connection(request, write=True) as conn:
        event = await catalog.get_event_by_slug(conn, ANONYMOUS, request.path_params["slug"])
        if not 3 <= len(email) <= 254 or "@" not in email:
            context = {"event": event, "sent": False, "error": FIELD_MESSAGES["email"]}
            return render(request, "resend.html", {**context, "email": email}, status=422)
        row = await catalog.load(conn, event.id)
        if await limiter.hit("resend-email", email.lower()):
            await selfservice.resend(conn, selfservice.resendable(row), email, now=now(request))
    return render(request, "resend.html", {"event": event, "sent": True, "error": None})


# --- a ticket link that does not work -------------------------------------------------------


async def missing_ticket(request: Request, conn: Connection) -> Response:
    """What a wrong or cut-off ticket link shows: how to get a working one (status 404)."""
    event = None
    try:
        found = await registration.load(conn, UUID(request.path_params["registration_id"]))
    except ValueError:
        found = None
    if found is not None:
        row = await catalog.load(conn, found["event_id"])
        if row is not None and row["status"] == "published":
            event = (await catalog.render(conn, [row]))[0]
    return render(request, "ticket_missing.html", {"event": event}, status=404, private=True)


# --- changing a registration ----------------------------------------------------------------


async def _read(request: Request, conn: Connection, token: str) -> tuple[RegistrationOut, EventOut]:
    found, _ = await registration.authorize(
        conn, ANONYMOUS, token or None, request.path_params["registration_id"]
    )
    out = await registration.render(
        conn, found, base_url=request.app.state.settings.base_url, with_secret=True
    )
    row = await catalog.load(conn, found["event_id"])
    assert row is not None
    return out, (await catalog.render(conn, [row]))[0]


def speak_the_registrations_language(request: Request, reg: RegistrationOut) -> None:
    """Pages about a registration open in its language, unless the reader chose one (?lang=)."""
    if request.query_params.get("lang") not in LANGS:
        request.scope["events.lang"] = reg.locale


async def edit_page(request: Request) -> Response:
    token = request.query_params.get("token") or ""
    async with connection(request) as conn:
        try:
            reg, event = await _read(request, conn, token)
        except (NotFound, Unauthenticated):
            return await missing_ticket(request, conn)
        context = await _edit_context(request, conn, reg, event, token)
    speak_the_registrations_language(request, reg)
    values: dict[str, Any] = {"name": reg.name, "locale": reg.locale, "sessions": reg.sessions}
    values["attendance"] = reg.attendance
    for key, answer in reg.answers.items():
        values["answer_" + key] = "yes" if answer is True else answer
    return render(request, "edit.html", {**context, "values": values}, private=True)


async def _edit_context(
    request: Request, conn: Connection, reg: RegistrationOut, event: EventOut, token: str
) -> dict[str, Any]:
    open_ = reg.status != "cancelled" and event.status == "published"
    seats_left, online_left = await places_left(conn, event)
    return {
        "seats_left": seats_left,
        "online_left": online_left,
        "reg": reg,
        "event": event,
        "token": token,
        "edits_open": open_ and now(request) < event.edits_close_at,
        "session_seats": await selfservice.session_seats_left(conn, UUID(event.id)),
        "lang_names": LANG_NAMES,
        "errors": {},
        "message": None,
    }


def _patch_of(form: FormData, event: EventOut) -> RegistrationPatch:
    answers: dict[str, registration.Answer] = {}
    for question in event.questions:
        raw = form.get(f"answer_{question.id}")
        if question.kind == "checkbox":
            if raw:
                answers[question.id] = True
        elif isinstance(raw, str) and raw.strip():
            answers[question.id] = raw.strip()
    locale = str(form.get("locale") or "en")
    attendance = form.get("attendance")
    return RegistrationPatch(
        name=str(form.get("name") or "").strip()[:200] or " ",
        answers=answers,
        sessions=[str(s) for s in form.getlist("sessions")][:100] if event.sessions else [],
        locale=locale if locale in LANGS else "en",  # type: ignore[arg-type]
        attendance=attendance  # type: ignore[arg-type]
        if event.format == "hybrid" and attendance in ("in_person", "online")
        else UNSET,
    )


async def edit(request: Request) -> Response:
    form = await form_of(request)
    token = str(form.get("token") or "")
    rid = request.path_params["registration_id"]
    async with connection(request, write=True) as conn:
        try:
            reg, event = await _read(request, conn, token)
        except (NotFound, Unauthenticated):
            return await missing_ticket(request, conn)
        try:
            await selfservice.edit(
                conn,
                ANONYMOUS,
                token,
                rid,
                _patch_of(form, event),
                now=now(request),
                base_url=request.app.state.settings.base_url,
            )
        except DomainError as exc:
            context = await _edit_context(request, conn, reg, event, token)
            values = {k: form.getlist(k) if k == "sessions" else form.get(k) for k in form}
            context["values"] = values
            if isinstance(exc, InvalidInput):
                context["errors"] = field_errors(exc)
                context["message"] = N_("Please correct the fields marked below.")
            else:
                context["message"] = (
                    CLOSED
                    if exc.code == "registration-closed"
                    else (CONFLICTS.get(exc.code) or CLOSED)
                )
            speak_the_registrations_language(request, reg)
            return render(request, "edit.html", context, status=exc.status, private=True)
    return redirect(request, f"/tickets/{rid}?token={token}")
