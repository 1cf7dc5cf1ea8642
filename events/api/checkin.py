"""Tickets and check-in: QR images, re-issue, scans, offline batches, the kit, search, stats."""

from __future__ import annotations

from starlette.responses import Response

from events import catalog, checkin, door_kit, privacy, registration, tickets
from events.api import params
from events.api.routing import Call, Router
from events.checkin_types import BatchIn, BatchOut, CheckinOut, ScanIn, ScanResult, UndoIn
from events.door_kit import AttendeeOut, CheckinKit, StatsOut
from events.errors import NotFound
from events.http import compress
from events.paging import Page, PageRequest
from events.registration import RegistrationOut

api = Router("check-in")

_SCAN_ERRORS = (401, 403, 404, 409)


async def _qr(call: Call, render: str) -> Response:
    found, _ = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    privacy.refuse_erased(found)
    if found["status"] != "confirmed":
        raise NotFound("This registration has no ticket (it is not confirmed)")
    code = await tickets.code_for(call.conn, found)
    etag = f'"{code[-24:]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if door_kit.etag_matches(call.request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = await tickets.qr_image(call.conn, found["id"], code, render, now=call.now)
    media_type = "image/png" if render == "png" else "image/svg+xml"
    return Response(body, media_type=media_type, headers=headers)


@api.get(
    "/api/v1/registrations/{registration_id}/qr.png",
    "The ticket's QR code as PNG (?token= the access token, or a host)",
    auth="attendee",
    media_type="image/png",
    errors=(410,),
)
async def qr_png(call: Call) -> Response:
    return await _qr(call, "png")


@api.get(
    "/api/v1/registrations/{registration_id}/qr.svg",
    "The ticket's QR code as SVG (?token= the access token, or a host)",
    auth="attendee",
    media_type="image/svg+xml",
    errors=(410,),
)
async def qr_svg(call: Call) -> Response:
    return await _qr(call, "svg")


@api.post(
    "/api/v1/registrations/{registration_id}/reissue-ticket",
    "Re-issue a ticket (hosts): a new code; the old one is refused from now on",
    response=RegistrationOut,
    errors=(409,),
)
async def reissue_ticket(call: Call) -> RegistrationOut:
    found, _ = await registration.authorize(
        call.conn, call.actor, None, call.path("registration_id")
    )
    done = await tickets.reissue(call.conn, found, call.now)
    return await registration.render(
        call.conn, done, base_url=call.settings.base_url, with_secret=False
    )


@api.post(
    "/api/v1/events/{event_id}/checkins",
    "Check a scanned ticket in or out (door token or host); refusals carry `result`",
    body=ScanIn,
    response=ScanResult,
    auth="door",
    transaction=False,
    errors=_SCAN_ERRORS,
)
async def scan(call: Call) -> ScanResult:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"), load=False)
    return await checkin.scan(call.conn, door, call.body, call.now)


@api.post(
    "/api/v1/events/{event_id}/checkins/batch",
    "Upload offline scans (door token or host); idempotent by each scan's nonce",
    body=BatchIn,
    response=BatchOut,
    auth="door",
)
async def scan_batch(call: Call) -> BatchOut:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"), load=False)
    return await checkin.batch(call.conn, door, call.body, call.now)


@api.post(
    "/api/v1/events/{event_id}/checkins/undo",
    "Undo a check-in (hosts); it stays in the history, marked undone",
    body=UndoIn,
    response=CheckinOut,
)
async def undo_checkin(call: Call) -> CheckinOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await checkin.undo(call.conn, event, call.actor, call.body, call.now)


@api.get(
    "/api/v1/events/{event_id}/checkins",
    "The event's check-ins, undone ones included (door token or host)",
    response=Page[CheckinOut],
    auth="door",
    query=params.PAGE,
)
async def list_checkins(call: Call) -> Page[CheckinOut]:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    assert door.event is not None
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await checkin.history(call.conn, door.event, page)


@api.get(
    "/api/v1/events/{event_id}/checkin-kit",
    "What a scanner needs offline: public key, names, revoked codes (ETag / If-None-Match)",
    response=CheckinKit,
    auth="door",
    not_modified=True,
)
async def checkin_kit(call: Call) -> Response:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    assert door.event is not None
    body, etag = await door_kit.kit(call.conn, door.event, door)
    gz = compress.accepts_gzip(call.request.headers.get("accept-encoding"))
    sent_etag = compress.gzip_etag(etag) if gz else etag
    headers = {"ETag": sent_etag, "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    asked = call.request.headers.get("if-none-match")
    if door_kit.etag_matches(asked, etag) or door_kit.etag_matches(asked, compress.gzip_etag(etag)):
        return Response(status_code=304, headers=headers)
    if gz:
        body = await compress.gzipped(body, etag)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@api.get(
    "/api/v1/events/{event_id}/attendees",
    "Find attendees at the door by a piece of name or email, ?q= (door token or host)",
    response=Page[AttendeeOut],
    auth="door",
    query=(params.Q, *params.PAGE),
)
async def attendees(call: Call) -> Page[AttendeeOut]:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    assert door.event is not None
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await door_kit.attendees(call.conn, door.event, call.query("q"), page)


@api.get(
    "/api/v1/events/{event_id}/stats",
    "Live counts: capacity, confirmed, waitlisted, cancelled, checked in, inside (door, host)",
    response=StatsOut,
    auth="door",
)
async def stats(call: Call) -> StatsOut:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    assert door.event is not None
    return await door_kit.stats(call.conn, door.event, door)
