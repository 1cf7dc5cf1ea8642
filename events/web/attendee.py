"""Attendee pages: upcoming events, an event with its registration form, the private ticket.

Each handler reads the request, makes one domain call (the same ones as the API) and
renders a template; domain errors become messages in the page's language.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import msgspec
import qrcode
import qrcode.image.svg
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from events import (
    audit,
    calendar_links,
    catalog,
    guests,
    idempotency,
    privacy,
    registration,
    selfservice,
    tickets,
)
from events.api.routing import client_address
from events.calendar_links import CalendarLinks
from events.catalog import EventOut
from events.errors import DomainError, FieldError, InvalidInput, NotFound, Unauthenticated
from events.hosting import ANONYMOUS
from events.queries import Connection
from events.registration import RegistrationIn, RegistrationOut
from events.web import content
from events.web.i18n import N_
from events.web.render import connection, form_of, lang_of, now, redirect, render

CONFLICTS = {
    "event-full": N_("Sorry, the event is full."),
    "registration-closed": N_("Registration is not open for this event."),
    "already-registered": N_("This email address is already registered for this event."),
    "session-full": N_("A session you chose is full. Please choose another."),
    "idempotency-key-reused": N_("This form was sent already. Reload the page to register again."),
    "access-code-invalid": N_("This access code is not valid."),
    "invitation-required": N_("This event is by invitation only: please enter your access code."),
}
FIELD_MESSAGES = {
    "name": N_("Please enter your name."),
    "email": N_("Please enter a valid email address."),
    "chinese_name": N_("Please write your Chinese name in Chinese characters, or leave it empty."),
    "sessions": N_("Please choose from the sessions listed."),
    "required": N_("Please answer this question."),
    "answer": N_("Please check this answer."),
    "overlap": N_("These sessions overlap in time, so you can choose only one of them:"),
    "consent": N_("Please accept this to register."),
}


async def home(request: Request) -> Response:
    query = (request.query_params.get("q") or "").strip()[:200]
    async with connection(request) as conn:
        # a search looks through every upcoming event (matched in each language, folded), not
        # only the 200 soonest that the page lists without one
        upcoming = await catalog.upcoming_events(conn, now(request), limit=5000 if query else 200)
    lang = lang_of(request)
    found = [e for e in upcoming if content.matches(e, query)][:200]
    shown = [content.localize(e, lang) for e in found]
    return render(request, "home.html", {"events": shown, "q": query})


async def event_page(request: Request) -> Response:
    async with connection(request) as conn:
        event = await catalog.get_event_by_slug(conn, ANONYMOUS, request.path_params["slug"])
        context = await _event_context(request, conn, event)
    return render(request, "event.html", context)


async def places_left(conn: Connection, event: EventOut) -> tuple[int, int | None]:
    """Seats left in the room, and places left online (None: no limit; 0 unless hybrid)."""
    event_id = catalog.parse_id(event.id)
    assert event_id is not None
    counts = await registration.counts(conn, {"id": event_id})
    online_count = counts["online_confirmed"] if event.format == "hybrid" else 0
    seats_left = max(event.capacity - counts["confirmed"] + online_count, 0)
    online_left = None
    if event.format == "hybrid" and event.online_capacity is not None:
        online_left = max(event.online_capacity - online_count, 0)
    if event.format != "hybrid":
        online_left = 0
    return seats_left, online_left


async def _event_context(request: Request, conn: Connection, event: EventOut) -> dict[str, Any]:
    event_id = catalog.parse_id(event.id)
    assert event_id is not None
    seats_left, online_left = await places_left(conn, event)
    guest = await _guest(conn, event, request.query_params.get("invitation"))
    return {
        "event": content.localize(event, lang_of(request)),
        "seats_left": seats_left,
        "online_left": online_left,
        "session_seats": await selfservice.session_seats_left(conn, event_id),
        "resend_email": None,
        "state": _registration_state(request, event),
        "invitation": guest["token"] if guest else None,
        "values": {"name": guest["name"], "email": guest["email"]} if guest else {},
        "errors": {},
        "message": None,
        "form_id": secrets.token_urlsafe(16),
        "map_url": _map_url(event),
    }


async def _guest(conn: Connection, event: EventOut, token: str | None) -> dict[str, Any] | None:
    """The guest whose personal link this is (still invited, to this event), if any."""
    if not token or len(token) > 200:
        return None
    guest = await guests.by_token(conn, token)
    if guest is None or str(guest["event_id"]) != event.id:
        return None
    if guest["status"] == "revoked" or guest["registration_id"] is not None:
        return None
    return guest


def _registration_state(request: Request, event: EventOut) -> str:
    current = now(request)
    if event.status == "cancelled":
        return "cancelled"
    if event.registration_opens_at and current < event.registration_opens_at:
        return "not_open"
    if current >= (event.registration_closes_at or event.starts_at):
        return "closed"
    return "open"


def _calendar_links(event: Any, reg: RegistrationOut, base_url: str) -> CalendarLinks:
    """An online attendee's copy is at their personal join link; anyone else's at the venue."""
    venue = event.venue
    where = ", ".join(p for p in (venue.name, venue.address) if p) if venue else ""
    page = reg.join_url or f"{base_url}/events/{event.slug}"
    return calendar_links.links(
        event.title,
        event.starts_at,
        event.ends_at,
        details=f"{event.description}\n\n{page}".strip(),
        location=reg.join_url or where,
        zone=event.timezone,
    )


def _map_url(event: Any) -> str | None:
    if event.venue is None:
        return None
    query = ", ".join(p for p in (event.venue.name, event.venue.address) if p)
    return "https://www.google.com/maps/search/?api=1&query=" + quote(query)


def _registration_in(form: FormData, event: EventOut, lang: str) -> RegistrationIn:
    errors: list[FieldError] = []
    name = str(form.get("name") or "").strip()
    email = str(form.get("email") or "").strip()
    if not name or len(name) > 200:
        errors.append(FieldError("name", "required"))
    if not 3 <= len(email) <= 254:
        errors.append(FieldError("email", "required"))
    answers: dict[str, registration.Answer] = {}
    for question in event.questions:
        raw = form.get(f"answer_{question.id}")
        if question.kind == "checkbox":
            if raw:
                answers[question.id] = True
        elif isinstance(raw, str) and raw.strip():
            answers[question.id] = raw.strip()
    if errors:
        raise InvalidInput(errors)
    sessions = [str(s) for s in form.getlist("sessions")][:100]
    chinese_name = str(form.get("chinese_name") or "").strip()[:50] or None
    code = str(form.get("access_code") or "").strip()[:100] or None
    invitation = str(form.get("invitation") or "").strip()[:200] or None
    return RegistrationIn(
        name,
        email,
        sessions,
        answers,
        lang,  # type: ignore[arg-type]
        chinese_name,
        access_code=code,
        invitation=invitation,
        consent=bool(form.get("consent")),
        attendance=_attendance(form, event),
    )


def _attendance(form: FormData, event: EventOut) -> Any:
    """A hybrid event's form asks; other events' registrations take their default."""
    chosen = form.get("attendance")
    return chosen if event.format == "hybrid" and chosen in ("in_person", "online") else None


def field_errors(exc: InvalidInput) -> dict[str, str]:
    """API field errors → one message per form field, in words a person can act on."""
    out: dict[str, str] = {}
    for error in exc.extra["errors"]:
        field = error["field"]
        if field.startswith("answers."):
            key = "required" if error["message"] == "is required" else "answer"
            out.setdefault("answer_" + field.split(".", 1)[1], FIELD_MESSAGES[key])
        elif field == "sessions" and "overlap" in error["message"]:
            out["sessions"] = FIELD_MESSAGES["overlap"]
            out["sessions_names"] = error["message"].partition(": ")[2]
        elif field.startswith("sessions"):
            out.setdefault("sessions", FIELD_MESSAGES["sessions"])
        else:
            out.setdefault(field, FIELD_MESSAGES.get(field, FIELD_MESSAGES["answer"]))
    return out


async def register(request: Request) -> Response:
    """The form's POST. The form carries a one-time id: pressing Register twice (or going
    back and sending the same form again) replays the first answer instead of failing."""
    await request.app.state.limiter.check("register", client_address(request))
    slug = request.path_params["slug"]
    form = await form_of(request)
    async with connection(request) as conn:
        event = await catalog.get_event_by_slug(conn, ANONYMOUS, slug)
    form_id = str(form.get("form_id") or "")[:100] or None
    try:
        data = _registration_in(form, event, lang_of(request))
        ticket_path = await _register(request, event, data, form_id)
    except InvalidInput as exc:
        return await _form_again(request, event, form, errors=field_errors(exc))
    except NotFound:
        raise
    except DomainError as exc:
        again = data.email if exc.code == "already-registered" else None
        return await _form_again(
            request, event, form, message=CONFLICTS.get(exc.code), resend_email=again
        )
    return redirect(request, ticket_path)


async def _register(
    request: Request, event: EventOut, data: RegistrationIn, form_id: str | None
) -> str:
    settings = request.app.state.settings
    async with connection(request, write=True) as conn:
        scope = f"web register {event.id}"
        digest = hashlib.sha256(msgspec.json.encode(data)).digest()
        replay = await idempotency.begin(conn, scope, form_id, digest) if form_id else None
        if replay is not None:
            return replay.body.decode()
        created: RegistrationOut = await registration.register(
            conn, event.id, data, now=now(request), base_url=settings.base_url
        )
        parts = urlsplit(created.ticket_url)
        path = f"{parts.path}?{parts.query}"
        if form_id:
            await idempotency.finish(
                conn, scope, form_id, digest, idempotency.Replay(303, path.encode())
            )
    return path


async def _form_again(
    request: Request,
    event: EventOut,
    form: FormData,
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    resend_email: str | None = None,
) -> Response:
    async with connection(request) as conn:
        context = await _event_context(request, conn, event)
    context.update(
        resend_email=resend_email,
        values={k: form.getlist(k) if k == "sessions" else form.get(k) for k in form},
        errors=errors or {},
        message=message or (N_("Please correct the fields marked below.") if errors else None),
    )
    return render(request, "event.html", context, status=422 if errors else 409)


# --- the ticket ----------------------------------------------------------------------------


def qr_svg(text: str) -> Markup:
    """Any text (a pairing URL) as an inline QR; a ticket's comes from `_ticket_qr`."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    return Markup(svg)


async def _ticket_qr(request: Request, conn: Connection, reg: RegistrationOut) -> Markup | None:
    """The ticket's QR inline: the very SVG the API serves, made once and shared."""
    if reg.ticket is None:
        return None
    svg = await tickets.qr_image(conn, UUID(reg.id), reg.ticket.code, "svg", now=now(request))
    return Markup(svg.decode("utf-8").partition("?>")[2].lstrip())  # no XML declaration


async def _ticket(request: Request, conn: Connection) -> tuple[RegistrationOut, EventOut]:
    token = request.query_params.get("token") or ""
    found, _ = await registration.authorize(
        conn, ANONYMOUS, token or None, request.path_params["registration_id"]
    )
    privacy.refuse_erased(found)
    out = await registration.render(
        conn, found, base_url=request.app.state.settings.base_url, with_secret=True
    )
    event_row = await catalog.load(conn, found["event_id"])
    assert event_row is not None
    return out, (await catalog.render(conn, [event_row]))[0]


async def ticket_page(request: Request) -> Response:
    from events.web import selfservice_pages

    async with connection(request) as conn:
        try:
            reg, event = await _ticket(request, conn)
        except (NotFound, Unauthenticated):
            return await selfservice_pages.missing_ticket(request, conn)
        qr = await _ticket_qr(request, conn, reg)
    selfservice_pages.speak_the_registrations_language(request, reg)
    shown = content.localize(event, lang_of(request))
    context = {
        "edits_open": reg.status != "cancelled" and now(request) < event.edits_close_at,
        "reg": reg,
        "event": shown,
        "qr": qr,
        "sessions": [s for s in shown.sessions if s.id in reg.sessions],
        "links": _calendar_links(shown, reg, request.app.state.settings.base_url),
        "map_url": _map_url(shown),
        "token": request.query_params.get("token", ""),
        "confirm_cancel": request.url.path.endswith("/cancel"),
        "confirm_erase": request.url.path.endswith("/erase"),
    }
    return render(request, "ticket.html", context, private=True)


async def cancel(request: Request) -> Response:
    form = await form_of(request)
    token = str(form.get("token") or "")
    rid = request.path_params["registration_id"]
    async with connection(request) as conn:
        found, _ = await registration.authorize(conn, ANONYMOUS, token or None, rid)
        await registration.cancel(conn, found, by="attendee", now=now(request))
    return redirect(request, f"/tickets/{rid}?token={token}")


async def erase(request: Request) -> Response:
    """The attendee erases their own registration (after the confirmation step): its page
    then answers 410 and says why."""
    form = await form_of(request)
    token = str(form.get("token") or "")
    rid = request.path_params["registration_id"]
    async with connection(request, write=True) as conn:
        found, _ = await registration.authorize(conn, ANONYMOUS, token or None, rid)
        await privacy.erase(conn, found, audit.attendee(found), now(request))
    return redirect(request, f"/tickets/{rid}?token={token}")
