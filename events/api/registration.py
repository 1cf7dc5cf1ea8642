"""Registrations: attendees register and cancel; hosts list, export, cancel and promote."""

from __future__ import annotations

from starlette.responses import Response, StreamingResponse

from events import attendees, catalog, registration, spreadsheet
from events.api import params
from events.api.routing import Call, Router
from events.errors import InvalidInput
from events.paging import Page, PageRequest
from events.registration import RegistrationIn, RegistrationOut
from events.translations import LANGS

api = Router("registrations")


@api.post(
    "/api/v1/events/{event_id}/registrations",
    "Register for a published event",
    body=RegistrationIn,
    response=RegistrationOut,
    status=201,
    auth="none",
    idempotent=True,
    rate_limit="register",
    transaction=False,
    errors=(403, 404, 409),
)
async def register(call: Call) -> RegistrationOut:
    return await registration.register(
        call.conn, call.path("event_id"), call.body, now=call.now, base_url=call.settings.base_url
    )


@api.get(
    "/api/v1/registrations/{registration_id}",
    "Read a registration (its access token, or a host)",
    response=RegistrationOut,
    auth="attendee",
)
async def get_registration(call: Call) -> RegistrationOut:
    found, mine = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    if not mine:  # a host reads someone's personal data: logged
        await attendees.log_read(call.conn, call.actor, found, call.now)
    return await registration.render(
        call.conn, found, base_url=call.settings.base_url, with_secret=mine
    )


@api.post(
    "/api/v1/registrations/{registration_id}/cancel",
    "Cancel a registration (its access token, or a host)",
    response=RegistrationOut,
    auth="attendee",
)
async def cancel_registration(call: Call) -> RegistrationOut:
    found, mine = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    done = await registration.cancel(
        call.conn,
        found,
        by="attendee" if mine else "host",
        now=call.now,
        actor=None if mine else call.actor,
    )
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=mine
    )


@api.post(
    "/api/v1/registrations/{registration_id}/promote",
    "Move a waitlisted registration up: confirmed if a seat is free, else first in line (hosts)",
    response=RegistrationOut,
    errors=(409,),
)
async def promote_registration(call: Call) -> RegistrationOut:
    found, _ = await registration.authorize(
        call.conn, call.actor, None, call.path("registration_id")
    )
    done = await registration.promote(call.conn, found, call.now, call.actor)
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=False
    )


@api.get(
    "/api/v1/events/{event_id}/registrations",
    "The event's registrations (hosts); ?status=, ?q=",
    response=Page[RegistrationOut],
    query=(params.REGISTRATION_STATUS, params.Q, *params.PAGE),
)
async def list_registrations(call: Call) -> Page[RegistrationOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await attendees.list_registrations(
        call.conn,
        event,
        status=call.query("status"),
        q_text=call.query("q"),
        page=page,
        base_url=call.settings.base_url,
        actor=call.actor,
        now=call.now,
    )


@api.get(
    "/api/v1/events/{event_id}/registrations.csv",
    "Export the registrations as CSV (hosts); ?lang=en|zh-Hant|zh-Hans names the sessions"
    " in that language",
    media_type="text/csv",
    query=(params.LANG,),
)
async def export_registrations(call: Call) -> Response:
    """Streamed as it is read (a server-side cursor on a connection of its own)."""
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    lang = _lang(call)
    return StreamingResponse(
        attendees.csv_chunks(
            call.request.app.state.db, event, actor=call.actor, now=call.now, lang=lang
        ),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"{event['slug']}-registrations.csv"),
    )


@api.get(
    "/api/v1/events/{event_id}/registrations.xlsx",
    "Export the registrations as an Excel workbook, the CSV's columns (hosts)",
    media_type=spreadsheet.MEDIA_TYPE,
    query=(params.LANG,),
)
async def export_registrations_xlsx(call: Call) -> Response:
    """Streamed as it is read, like the CSV."""
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    lang = _lang(call)
    return StreamingResponse(
        attendees.xlsx_chunks(
            call.request.app.state.db, event, actor=call.actor, now=call.now, lang=lang
        ),
        media_type=spreadsheet.MEDIA_TYPE,
        headers=_attachment(f"{event['slug']}-registrations.xlsx"),
    )


def _lang(call: Call) -> str | None:
    """?lang= of an export: session titles in that language."""
    lang = call.query("lang") or None
    if lang is not None and lang not in LANGS:
        raise InvalidInput.one("lang", "must be en, zh-Hant or zh-Hans")
    return lang


def _attachment(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
