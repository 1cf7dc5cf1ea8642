"""Events and their sessions: create, read, list, change, publish, cancel.

Every time an event's time, place or title changes its `revision` goes up; calendar
invites carry it as SEQUENCE, so calendars replace the old copy.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET

from events import audit, online, privacy, seats, tickets
from events import translations as tr
from events.catalog_rules import EARLIEST as EARLIEST  # re-exported: callers use catalog.X
from events.catalog_rules import LATEST as LATEST
from events.catalog_rules import TIME_FIELDS as TIME_FIELDS
from events.catalog_rules import _check_times
from events.catalog_rules import slugify as slugify
from events.catalog_rules import valid_timezone as valid_timezone
from events.catalog_types import (
    Approval as Approval,
)
from events.catalog_types import (
    AwareDatetime as AwareDatetime,
)
from events.catalog_types import (
    CalendarReplies as CalendarReplies,
)
from events.catalog_types import (
    Capacity as Capacity,
)
from events.catalog_types import (
    EventIn as EventIn,
)
from events.catalog_types import (
    EventOut as EventOut,
)
from events.catalog_types import (
    EventPatch as EventPatch,
)
from events.catalog_types import (
    Host as Host,
)
from events.catalog_types import (
    Question as Question,
)
from events.catalog_types import (
    QuestionId as QuestionId,
)
from events.catalog_types import (
    SessionIn as SessionIn,
)
from events.catalog_types import (
    SessionOut as SessionOut,
)
from events.catalog_types import (
    SessionPatch as SessionPatch,
)
from events.catalog_types import (
    Text as Text,
)
from events.catalog_types import (
    Title as Title,
)
from events.catalog_types import (
    Venue as Venue,
)
from events.durations import reminder_errors
from events.errors import FieldError, InvalidInput, InvalidState, NotFound
from events.hosting import Actor, may, require
from events.ids import parse_uuid
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import catalog as q
from events.slugs import unguessable

# --- reading -------------------------------------------------------------------------------


async def load(conn: Connection, event_id: UUID | str, *, lock: bool = False) -> Row | None:
    """The event row (with its hosts), or None; a malformed id is simply not found."""
    parsed = parse_id(event_id)
    return None if parsed is None else await q.event(conn, parsed, lock=lock)


async def load_for(
    conn: Connection, actor: Actor, event_id: UUID | str, action: Any, *, lock: bool = False
) -> Row:
    return require(actor, action, await load(conn, event_id, lock=lock))


async def get_event(conn: Connection, actor: Actor, event_id: str) -> EventOut:
    event = await load_for(conn, actor, event_id, "read")
    return (await render(conn, [event], actor=actor))[0]


async def get_event_by_slug(conn: Connection, actor: Actor, slug: str) -> EventOut:
    event = require(actor, "read", await q.event_by_slug(conn, slug))
    return (await render(conn, [event]))[0]


async def list_events(
    conn: Connection, actor: Actor, *, hosted: bool, page: PageRequest
) -> Page[EventOut]:
    if hosted:
        from events.hosting import require_partner

        partner = require_partner(actor)
        assert partner.partner_id is not None
        found = await q.hosted_events(
            conn, partner.partner_id, after_seq=page.after_seq, limit=page.limit + 1
        )
    else:
        found = await q.public_events(conn, after_seq=page.after_seq, limit=page.limit + 1)
    items = await render(conn, found, actor=actor)
    return page_of(items, [e["seq"] for e in found], page.limit)


async def upcoming_events(conn: Connection, now: datetime, *, limit: int = 200) -> list[EventOut]:
    """What the home page lists: published public events not yet over, soonest first."""
    return await render(conn, await q.upcoming_events(conn, now, limit))


async def render(
    conn: Connection, events: list[Row], *, actor: Actor | None = None
) -> list[EventOut]:
    """Events as the API gives them; the host's meeting link only to `actor` if it hosts."""
    by_event: dict[UUID, list[SessionOut]] = {e["id"]: [] for e in events}
    zones = {e["id"]: ZoneInfo(e["timezone"]) for e in events}
    if events:
        for s in await q.sessions_of(conn, list(by_event)):
            by_event[s["event_id"]].append(session_out(s, zones[s["event_id"]]))
    return [
        event_out(e, by_event[e["id"]], host=actor is not None and may(actor, "manage", e))
        for e in events
    ]


def event_out(e: Row, sessions: list[SessionOut], *, host: bool = False) -> EventOut:
    zone = ZoneInfo(e["timezone"])

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(zone)

    has_venue = e["venue_name"] or e["venue_address"]
    return EventOut(
        id=str(e["id"]),
        slug=e["slug"],
        status=e["status"],
        title=e["title"],
        description=e["description"],
        timezone=e["timezone"],
        starts_at=e["starts_at"].astimezone(zone),
        ends_at=e["ends_at"].astimezone(zone),
        venue=Venue(e["venue_name"], e["venue_address"]) if has_venue else None,
        capacity=e["capacity"],
        waitlist=e["waitlist"],
        reentry=e["reentry"],
        visibility=e["visibility"],
        registration_opens_at=local(e["registration_opens_at"]),
        registration_closes_at=local(e["registration_closes_at"]),
        questions=msgspec.convert(e["questions"], list[Question]),
        approval=e["approval"],
        invite_only=e["invite_only"],
        edits_close_at=(e["edits_close_at"] or e["starts_at"]).astimezone(zone),
        reminders=list(e["reminders"]),
        cancel_reason=e["cancel_reason"],
        translations=msgspec.convert(e["translations"], tr.EventTranslations),
        calendar_replies=e["calendar_replies"],
        format=e["format"],
        online=online.out(e, host=host),
        online_capacity=e["online_capacity"],
        hosts=[
            Host(s, r) for s, r in zip(e["host_slugs"] or (), e["host_roles"] or (), strict=True)
        ],
        sessions=sessions,
        revision=e["revision"],
        created_at=e["created_at"].astimezone(zone),
        updated_at=e["updated_at"].astimezone(zone),
        **privacy.event_fields_out(e),
    )


def session_out(s: Row, zone: ZoneInfo) -> SessionOut:
    return SessionOut(
        id=str(s["id"]),
        event_id=str(s["event_id"]),
        title=s["title"],
        starts_at=s["starts_at"].astimezone(zone),
        ends_at=s["ends_at"].astimezone(zone),
        room=s["room"],
        capacity=s["capacity"],
        translations=msgspec.convert(s["translations"], tr.SessionTranslations),
    )


# --- writing -------------------------------------------------------------------------------


async def create_event(conn: Connection, actor: Actor, data: EventIn, now: datetime) -> EventOut:
    from events.hosting import require_partner

    owner = require_partner(actor)
    assert owner.partner_id is not None
    fields = _columns(msgspec.structs.asdict(data))
    _check_event(fields)
    base = slugify(data.title)
    if data.visibility == "unlisted":
        base = unguessable(base)
    for attempt in range(8):
        slug = base if attempt == 0 else f"{base}-{secrets.token_hex(2)}"
        event_id = await q.insert_event(conn, owner.partner_id, slug, fields)
        if event_id is not None:
            break
    else:  # pragma: no cover - eight random suffixes all taken
        raise InvalidState("Could not find a free slug for this title")
    from events.queries.hosting import insert_host

    await insert_host(conn, event_id, owner.partner_id, "owner")
    await seats.open_capacity(conn, event_id, data.capacity)
    if data.format == "hybrid":
        await online.set_online_capacity(conn, event_id, data.online_capacity, now)
    created = {"title": data.title, "status": "draft", "slug": slug, "capacity": data.capacity}
    await audit.about_event(conn, actor, "event.created", event_id, audit.diff({}, created), now)
    return await get_event(conn, actor, str(event_id))


async def patch_event(
    conn: Connection, actor: Actor, event_id: str, patch: EventPatch, now: datetime
) -> EventOut:
    event = await load_for(conn, actor, event_id, "manage", lock=True)
    if event["status"] == "cancelled":
        raise InvalidState("A cancelled event cannot be changed")
    changes = _columns({k: v for k, v in msgspec.structs.asdict(patch).items() if v is not UNSET})
    _check_event({**event, **changes})
    changes = {k: v for k, v in changes.items() if event[k] != v}
    if "capacity" in changes:
        await seats.change_capacity(conn, event, changes["capacity"], now)
    await online.event_changed(conn, event, changes, now)
    if changes.keys() & {"starts_at", "ends_at"}:
        from events.lifecycle import follow_event

        await follow_event(conn, event, changes)  # sessions move with the event's start
    if changes:
        moved = bool(
            changes.keys()
            & {"title", "timezone", "starts_at", "ends_at", "venue_name", "venue_address"}
        )
        await q.update_event(conn, event["id"], changes, bump_revision=moved, now=now)
        await audit.about_event(
            conn,
            actor,
            "event.updated",
            event["id"],
            audit.diff(event, changes, objects=("venue",)),
            now,
        )
    if changes.get("visibility") == "unlisted":  # the old, guessable URL stops working
        title = str(changes.get("title") or event["title"])
        await q.set_slug(conn, event["id"], unguessable(slugify(title)))
    return await get_event(conn, actor, event_id)


async def publish_event(conn: Connection, actor: Actor, event_id: str, now: datetime) -> EventOut:
    event = await load_for(conn, actor, event_id, "manage", lock=True)
    if event["status"] == "cancelled":
        raise InvalidState("A cancelled event cannot be published")
    if event["status"] == "draft":
        await q.set_status(conn, event["id"], "published", now)
        changes = {"status": ["draft", "published"]}
        await audit.about_event(conn, actor, "event.published", event["id"], changes, now)
        # the signing key now, not by the first of a surge of registrations all at once
        await tickets.event_key(conn, event["id"])
    return await get_event(conn, actor, event_id)


async def cancel_event(
    conn: Connection, actor: Actor, event_id: str, now: datetime, reason: str | None = None
) -> EventOut:
    event = await load_for(conn, actor, event_id, "cancel", lock=True)
    if event["status"] != "cancelled":
        await q.set_cancel_reason(conn, event["id"], (reason or "").strip() or None)
        await q.set_status(conn, event["id"], "cancelled", now)
        changes = {"status": [event["status"], "cancelled"]}
        await audit.about_event(conn, actor, "event.cancelled", event["id"], changes, now)
    return await get_event(conn, actor, event_id)


async def create_session(
    conn: Connection, actor: Actor, event_id: str, data: SessionIn, now: datetime
) -> SessionOut:
    event = await load_for(conn, actor, event_id, "manage", lock=True)
    if event["status"] == "cancelled":
        raise InvalidState("A cancelled event cannot be changed")
    fields = msgspec.structs.asdict(data)
    fields["translations"] = tr.stored(data.translations)
    _check_session(fields, event)
    created = await q.insert_session(conn, event["id"], fields)
    await q.bump_revision(conn, event["id"], now)
    session = ("session", created["id"])
    await audit.about_event(
        conn, actor, "session.created", event["id"], audit.diff({}, fields), now, session
    )
    return session_out(created, ZoneInfo(event["timezone"]))


async def patch_session(
    conn: Connection,
    actor: Actor,
    event_id: str,
    session_id: str,
    patch: SessionPatch,
    now: datetime,
) -> SessionOut:
    event = await load_for(conn, actor, event_id, "manage", lock=True)
    parsed = parse_id(session_id)
    current = None if parsed is None else await q.session(conn, parsed, event["id"])
    if current is None:
        raise NotFound("No such session")
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not UNSET}
    if "translations" in changes:
        changes["translations"] = tr.stored(changes["translations"])
    _check_session({**current, **changes}, event)
    if "capacity" in changes:
        await seats.change_session_capacity(conn, current, changes["capacity"])
    updated = await q.update_session(conn, current["id"], changes) if changes else current
    assert updated is not None
    await q.bump_revision(conn, event["id"], now)
    if diff := audit.diff(current, changes):
        session = ("session", current["id"])
        await audit.about_event(conn, actor, "session.updated", event["id"], diff, now, session)
    return session_out(updated, ZoneInfo(event["timezone"]))


# --- rules ---------------------------------------------------------------------------------


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Request fields → table columns (the venue object is two columns)."""
    out = dict(fields)
    if "venue" in out:
        venue = out.pop("venue")
        out["venue_name"] = venue.name if venue else ""
        out["venue_address"] = venue.address if venue else ""
    if "questions" in out:
        out["questions"] = [tr.question_stored(q) for q in msgspec.to_builtins(out["questions"])]
    if "translations" in out:
        out["translations"] = tr.stored(out["translations"])
    return online.columns(out)


def _check_event(e: dict[str, Any]) -> None:
    errors = _check_times(e)
    if errors:
        raise InvalidInput(errors)
    errors += privacy.check_event_fields(e)
    errors += online.check(e)
    if not valid_timezone(e["timezone"]):
        errors.append(FieldError("timezone", "must be an IANA time zone, e.g. Asia/Hong_Kong"))
    if e["ends_at"] <= e["starts_at"]:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    opens, closes = e.get("registration_opens_at"), e.get("registration_closes_at")
    if opens is not None and closes is not None and closes <= opens:
        errors.append(FieldError("registration_closes_at", "must be after registration_opens_at"))
    errors += [FieldError(f"reminders.{i}", m) for i, m in reminder_errors(e["reminders"])]
    questions = msgspec.convert(e.get("questions") or [], list[Question])
    seen: set[str] = set()
    for i, question in enumerate(questions):
        if question.id in seen:
            errors.append(FieldError(f"questions.{i}.id", "is used twice"))
        seen.add(question.id)
        if question.kind == "choice" and not question.options:
            errors.append(FieldError(f"questions.{i}.options", "a choice needs options"))
        errors += tr.option_errors(question, f"questions.{i}")
    if errors:
        raise InvalidInput(errors)


def _check_session(s: dict[str, Any], event: Row) -> None:
    errors = _check_times(s)
    if errors:
        raise InvalidInput(errors)
    if s["ends_at"] <= s["starts_at"]:
        raise InvalidInput.one("ends_at", "must be after starts_at")
    from events.lifecycle import session_errors

    errors = session_errors(s, event)
    if errors:
        raise InvalidInput(errors)


def parse_id(value: UUID | str) -> UUID | None:
    return parse_uuid(value)
