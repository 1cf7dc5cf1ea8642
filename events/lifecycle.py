"""An event's life beyond create/publish/cancel: sessions that stay inside their event and
move with it, deleting a session, unpublishing, duplicating.

Sessions lie inside their event (start ≥ the event's start, end ≤ its end), else 422.
When a PATCH moves the event's start, every session moves by the same amount (the event's
revision goes up once, so attendees get one updated invite); if a session would then lie
outside the event (the event was also shortened), the PATCH is a 422 on `ends_at`.

Deleting a session that live registrations hold is a 409 `session-has-registrations`
(with `registrations`: how many) unless `force` is given: then the session is taken off
those registrations (they stay registered for the event; the seat counter of the session
goes with it) and, on a published event, each of them is sent an updated invite. A session
with check-ins recorded at its door cannot be deleted (409 `invalid-state`): the check-ins
are history.

Unpublishing turns a published event back into a draft, only while no one holds a live
registration (409 `event-has-registrations` otherwise); cancelled events stay cancelled.

Duplicating makes a new draft owned by the caller's partner with the same content (every
event column the API writes), the same sessions (seat counts at zero), a new slug and no
registrations, hosts or tokens; `starts_at` moves the copy (sessions and the registration
window move with it) and `title` renames it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from events import catalog
from events.catalog import AwareDatetime, EventOut, Title
from events.errors import (
    EventHasRegistrations,
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
    SessionHasRegistrations,
)
from events.hosting import Actor, require_partner
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import lifecycle as q
from events.queries import withdrawn as withdrawn_q


class DuplicateIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    starts_at: AwareDatetime | None = None


class SessionDeleted(msgspec.Struct):
    id: str
    registrations: Annotated[int, Meta(ge=0)]


def session_errors(s: dict[str, Any], event: dict[str, Any]) -> list[FieldError]:
    """A session must lie inside its event."""
    errors = []
    if not event["starts_at"] <= s["starts_at"] < event["ends_at"]:
        errors.append(FieldError("starts_at", "must lie within the event"))
    if s["ends_at"] > event["ends_at"]:
        errors.append(FieldError("ends_at", "must not be after the event ends"))
    return errors


async def follow_event(conn: Connection, before: Row, changes: dict[str, Any]) -> int:
    """The event's times change by `changes`: move its sessions by the start's delta and
    check they still lie inside. Returns how many sessions moved."""
    starts_at: datetime = changes.get("starts_at") or before["starts_at"]
    ends_at: datetime = changes.get("ends_at") or before["ends_at"]
    moved = 0
    delta = starts_at - before["starts_at"]
    if delta:
        moved = await q.shift_sessions(conn, before["id"], delta)
    if await q.sessions_outside(conn, before["id"], starts_at, ends_at):
        raise InvalidInput.one("ends_at", "a session would lie outside the event")
    return moved


async def delete_session(
    conn: Connection, actor: Actor, event_id: str, session_id: str, *, force: bool, now: datetime
) -> SessionDeleted:
    event = await catalog.load_for(conn, actor, event_id, "manage", lock=True)
    if event["status"] == "cancelled":
        raise InvalidState("A cancelled event cannot be changed")
    parsed = catalog.parse_id(session_id)
    found = None if parsed is None else await catalog_q.session(conn, parsed, event["id"])
    if found is None:
        raise NotFound("No such session")
    holders = await q.session_holders(conn, found["id"])
    if holders and not force:
        raise SessionHasRegistrations(
            f"{holders} registrations hold this session; add ?force=1 to take it off them",
            registrations=holders,
        )
    if await q.session_checkins(conn, found["id"]):
        raise InvalidState("People were checked in at this session; it cannot be deleted")
    await catalog_q.bump_revision(conn, event["id"], now)
    await withdrawn_q.keep_for_session(conn, found["id"], now)  # its holders' calendars drop it
    await q.delete_session(conn, found["id"])
    return SessionDeleted(str(found["id"]), holders)


async def unpublish(conn: Connection, actor: Actor, event_id: str, now: datetime) -> EventOut:
    event = await catalog.load_for(conn, actor, event_id, "manage", lock=True)
    if event["status"] == "cancelled":
        raise InvalidState("A cancelled event cannot be unpublished")
    if event["status"] == "published":
        live = await q.live_registrations(conn, event["id"])
        if live:
            raise EventHasRegistrations(
                f"{live} people are registered; cancel the event instead", registrations=live
            )
        await q.unpublish(conn, event["id"], now)
    return await catalog.get_event(conn, actor, event_id)


async def duplicate(
    conn: Connection, actor: Actor, event_id: str, data: DuplicateIn, now: datetime
) -> EventOut:
    require_partner(actor)
    event = await catalog.load_for(conn, actor, event_id, "manage")
    fields: dict[str, Any] = {c: event[c] for c in catalog_q.EVENT_COLUMNS}
    delta = (data.starts_at - event["starts_at"]) if data.starts_at is not None else None
    if delta:
        for name in catalog.TIME_FIELDS:
            if fields.get(name) is not None:
                fields[name] = fields[name] + delta
    if data.title is not None:
        fields["title"] = data.title
    copy = catalog.EventIn(
        title=fields["title"],
        timezone=fields["timezone"],
        starts_at=fields["starts_at"],
        ends_at=fields["ends_at"],
        capacity=fields["capacity"],
    )
    created = await catalog.create_event(conn, actor, copy, now)
    new_id = catalog.parse_id(created.id)
    assert new_id is not None
    await catalog_q.update_event(conn, new_id, fields, bump_revision=False, now=now)
    for s in await catalog_q.sessions_of(conn, [event["id"]]):
        moved = {
            k: s[k] for k in ("title", "starts_at", "ends_at", "room", "capacity", "translations")
        }
        if delta:
            moved["starts_at"], moved["ends_at"] = s["starts_at"] + delta, s["ends_at"] + delta
        await catalog_q.insert_session(conn, new_id, moved)
    return await catalog.get_event(conn, actor, created.id)


async def live_count(conn: Connection, event_id: str) -> int:
    """Live (not cancelled) registrations of the event: whom a change is mailed to."""
    parsed = catalog.parse_id(event_id)
    return 0 if parsed is None else await q.live_registrations(conn, parsed)
