"""The door beyond scanning: walk-ins, badges and the printable check-in list (PDF)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from events import badges, catalog, checkin, registration, tickets, walkins
from events.api import params
from events.api.routing import Call, Router
from events.errors import Forbidden, InvalidInput
from events.http.files import PDF, pdf_response
from events.queries import Connection, Row
from events.walkins import WalkInIn, WalkInOut

api = Router("door")


@api.post(
    "/api/v1/events/{event_id}/walk-ins",
    "Register a walk-in at the door while seats are left, checked in at once (door token, host)",
    body=WalkInIn,
    response=WalkInOut,
    status=201,
    auth="door",
    idempotent=True,
    errors=(404, 409),
)
async def walk_in(call: Call) -> WalkInOut:
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    return await walkins.walk_in(
        call.conn, door, call.body, now=call.now, base_url=call.settings.base_url
    )


async def _registration_for_badge(call: Call) -> tuple[Row, Row]:
    """The registration and its event, for its hosts, a door token of its event, or the
    attendee (its access token)."""
    conn: Connection = call.conn
    rid = catalog.parse_id(call.path("registration_id"))
    if call.actor.kind == "door" and rid is not None:
        found = await registration.load(conn, rid)
        if found is None or found["event_id"] != call.actor.event_id:
            raise Forbidden("A door token may only do check-in work for its own event")
    else:
        found, _ = await registration.authorize(
            conn, call.actor, call.secret, call.path("registration_id")
        )
    event = await catalog.load(conn, found["event_id"])
    assert event is not None
    return found, event


@api.get(
    "/api/v1/registrations/{registration_id}/badge.pdf",
    "The attendee's badge as PDF, ?size=a6|label (hosts, door tokens of the event, attendee)",
    auth="attendee",
    media_type=PDF,
    query=(params.SIZE,),
)
async def badge(call: Call) -> Response:
    size = badges.parse_size(call.query("size"))
    found, event = await _registration_for_badge(call)
    key = await tickets.event_key(call.conn, event["id"])
    row = await badges.registration_row(call.conn, found["id"])
    drawn = await badges.render_badges([await badges.badge_of(call.conn, row, event, key)], size)
    return pdf_response(drawn, f"badge-{found['seq']}.pdf")


@api.get(
    "/api/v1/events/{event_id}/badges.pdf",
    "The event's badges as one PDF, ?status=confirmed (default), ?size=a6|label; 500 at"
    " most, `Link: rel=next` (?after=) for the rest (hosts, door)",
    auth="door",
    media_type=PDF,
    query=(params.BADGE_STATUSES, params.SIZE, params.AFTER),
)
async def event_badges(call: Call) -> Response:
    size = badges.parse_size(call.query("size"))
    statuses = badges.parse_statuses(call.query("status"))
    after = _after(call.query("after"))
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    assert door.event is not None
    drawn, more = await badges.badges_document(call.conn, door.event, statuses, size, after=after)
    link = None
    if more is not None:
        query = {k: v for k, v in call.request.query_params.items() if k != "after"}
        link = f"{call.request.url.path}?{urlencode({**query, 'after': more})}"
    return pdf_response(drawn, f"badges-{door.event['slug']}.pdf", link)


@api.get(
    "/api/v1/events/{event_id}/checkin-list.pdf",
    "A printable check-in list (A4, by name), ?status=confirmed (default) (hosts, door)",
    auth="door",
    media_type=PDF,
    query=(params.BADGE_STATUSES,),
)
async def checkin_list(call: Call) -> Response:
    statuses = badges.parse_statuses(call.query("status"))
    door = await checkin.door(call.conn, call.actor, call.path("event_id"))
    event = door.event
    assert event is not None
    drawn = await badges.checkin_list_document(call.conn, event, statuses, call.now)
    return pdf_response(drawn, f"checkin-list-{event['slug']}.pdf")


def _after(value: str | None) -> int:
    if value is None:
        return 0
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput.one("after", "must be a registration number")
    return int(value)
