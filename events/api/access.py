"""Invite-only events: access codes and guest lists (hosts)."""

from __future__ import annotations

from events import access, catalog, guests
from events.access import AccessCodeIn, AccessCodeOut
from events.api import params
from events.api.routing import Call, Router
from events.errors import UnsupportedMediaType
from events.guests import GuestIn, GuestOut, ImportOut
from events.paging import Page, PageRequest

api = Router("access")
#: What spreadsheets and clients send a CSV file as (or nothing at all).
CSV_TYPES = ("", "text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


@api.post(
    "/api/v1/events/{event_id}/access-codes",
    "Make an access code (generated when none is given) (hosts)",
    body=AccessCodeIn,
    response=AccessCodeOut,
    status=201,
    idempotent=True,
    errors=(409,),
)
async def create_access_code(call: Call) -> AccessCodeOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await access.create_code(call.conn, event, call.body, call.now)


@api.get(
    "/api/v1/events/{event_id}/access-codes",
    "The event's access codes, with their uses (hosts)",
    response=Page[AccessCodeOut],
    query=params.PAGE,
)
async def list_access_codes(call: Call) -> Page[AccessCodeOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await access.list_codes(call.conn, event, page)


@api.post(
    "/api/v1/events/{event_id}/access-codes/{code_id}/revoke",
    "Revoke an access code: it admits no one from now on (hosts)",
    response=AccessCodeOut,
)
async def revoke_access_code(call: Call) -> AccessCodeOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await access.revoke_code(call.conn, event, call.path("code_id"), call.now)


@api.post(
    "/api/v1/events/{event_id}/guests",
    "Invite a guest: they are mailed a personal link to register (hosts)",
    body=GuestIn,
    response=GuestOut,
    status=201,
    idempotent=True,
    errors=(409,),
)
async def create_guest(call: Call) -> GuestOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await guests.add_guest(
        call.conn, event, call.body, now=call.now, base_url=call.settings.base_url
    )


@api.get(
    "/api/v1/events/{event_id}/guests",
    "The guest list, with each guest's status; ?status= (hosts)",
    response=Page[GuestOut],
    query=(params.GUEST_STATUS, *params.PAGE),
)
async def list_guests(call: Call) -> Page[GuestOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await guests.list_guests(
        call.conn, event, status=call.query("status"), page=page, base_url=call.settings.base_url
    )


@api.post(
    "/api/v1/events/{event_id}/guests/{guest_id}/revoke",
    "Revoke a guest's invitation (while not yet used) (hosts)",
    response=GuestOut,
)
async def revoke_guest(call: Call) -> GuestOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await guests.revoke_guest(
        call.conn, event, call.path("guest_id"), now=call.now, base_url=call.settings.base_url
    )


@api.post(
    "/api/v1/guest-invitations/{token}/decline",
    "Decline a personal invitation (the token of the guest's link; no other credential)",
    response=GuestOut,
    auth="none",
    rate_limit="public",
    errors=(409,),
)
async def decline_guest_invitation(call: Call) -> GuestOut:
    return await guests.decline(
        call.conn, call.path("token"), now=call.now, base_url=call.settings.base_url
    )


@api.post(
    "/api/v1/events/{event_id}/guests/import",
    "Import guests from CSV (header: name, email[, locale]); ?dry_run=1 only reports (hosts)",
    response=ImportOut,
    request_media_type="text/csv",
    query=(params.DRY_RUN,),
)
async def import_guests(call: Call) -> ImportOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    content_type = (call.request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise UnsupportedMediaType("Send the guest list as text/csv")
    raw = await call.request.body()
    dry_run = call.query("dry_run") in ("1", "true")
    return await guests.import_guests(call.conn, event, raw, dry_run=dry_run, now=call.now)
