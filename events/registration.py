"""Register, cancel, and the waitlist, with capacity exact under any concurrency.

Seats: an event's capacity is split over `SHARDS` counter rows. A registration takes a seat
from a random shard with one statement (claim + insert together, no transaction held across
round trips); only when that shard is full does it look for another, and only when every
shard is full is it waitlisted (or refused). A cancellation frees its seat and, in the same
transaction, gives that very seat to the head of the waitlist. Capacity changes (seats.py)
lock all shards of the event and redistribute. Database CHECKs on every counter back the
invariant.

Access tokens are derived (HMAC of the registration id under a server secret), not stored,
so every link to a registration can be rebuilt for later mails.
"""

from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from events import access, audit, keys, names, online, seats, surge, tickets
from events.addresses import NotAnAddress, canonical
from events.answers import Answer as Answer  # re-exported: callers use registration.Answer
from events.answers import answer_errors as _answer_errors
from events.answers import consent_errors
from events.errors import (
    AlreadyRegistered,
    DomainError,
    EventFull,
    FieldError,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
    RegistrationClosed,
    Unauthenticated,
)
from events.hosting import Actor, may
from events.ids import parse_uuid
from events.lru import LruCache
from events.overlaps import check_no_overlap
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import registration as q
from events.registration_types import Locale as Locale
from events.registration_types import RegistrationIn as RegistrationIn
from events.registration_types import RegistrationOut as RegistrationOut

SHARDS = q.SHARDS
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# --- registering ---------------------------------------------------------------------------


async def register(
    conn: Connection, event_id: str, data: RegistrationIn, *, now: datetime, base_url: str
) -> RegistrationOut:
    parsed = _uuid(event_id)
    if parsed is None:
        raise NotFound("No such event")
    target = _targets.get(parsed)
    try:
        return await _register(
            conn, target or await _read_target(conn, parsed), data, now, base_url
        )
    except AlreadyRegistered:
        raise  # true whatever the event is now (and the failed insert ended any transaction)
    except _Decided as decided:
        raise decided.error from None
    except (DomainError, _Changed):
        if target is None:
            raise
    # what this process knew of the event was out of date, or said no: decide on a fresh read
    return await _register(conn, await _read_target(conn, parsed), data, now, base_url)


class _Changed(Exception):
    """The event changed since this process read it (its version moved on)."""


class _Decided(Exception):
    """A refusal decided on the seats as they are now: no need to read the event again."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


#: What registering needs to know of recently used events, by id, as last read (a version
#: each): the hot path reads nothing, and its seat claim holds only at that version.
_targets: LruCache[UUID, Row] = LruCache(1024)


async def _read_target(conn: Connection, event_id: UUID) -> Row:
    target = await q.registration_target(conn, event_id)
    if target is None:
        raise NotFound("No such event")
    _targets.put(event_id, {**target, "fresh": False})
    return {**target, "fresh": True}


async def _register(
    conn: Connection, target: Row, data: RegistrationIn, now: datetime, base_url: str
) -> RegistrationOut:
    _check_open(target, now)
    fields = _validated(data, target)
    sessions = fields.pop("session_ids")
    await check_no_overlap(conn, sessions)
    try:
        if _admission(target, data):  # approval, invitations, codes: not the hot path
            if not target["fresh"]:
                raise _Changed()  # decided on a fresh read only
            created = await access.admit(conn, target, data, fields, sessions, now)
        elif sessions:
            async with conn.transaction():
                created = await _insert(conn, target, fields, now)
                await seats.attach_sessions(conn, created, sessions)
        else:
            created = await _insert(conn, target, fields, now)
    except asyncpg.UniqueViolationError:
        raise AlreadyRegistered() from None
    if created["status"] == "confirmed" and not sessions:
        # the hot path: the insert returned every column, and the rest is known
        found: Row | None = {**created, "waitlist_position": None, "session_ids": []}
    else:
        pool = bool(created["online_place"])
        if created["status"] == "waitlisted" and await q.has_free_seat(
            conn, target["id"], online=pool
        ):
            await seats.fill_free_seats(
                conn, target["id"], now, online=pool
            )  # a seat freed meanwhile
        found = await q.registration(conn, created["id"])  # the live position, sessions in order
    assert found is not None
    return await render(conn, found, base_url=base_url, with_secret=True)


def _admission(target: Row, data: RegistrationIn) -> bool:
    return bool(
        target["approval"] != "none"
        or target["invite_only"]
        or data.access_code is not None
        or data.invitation is not None
    )


def _check_open(target: Row, now: datetime) -> None:
    if target["status"] == "draft" or target["visibility"] == "private":
        raise NotFound("No such event")
    if target["status"] == "cancelled":
        raise RegistrationClosed("The event is cancelled")
    opens, closes = target["registration_opens_at"], target["registration_closes_at"]
    if opens is not None and now < opens:
        raise RegistrationClosed(
            "Registration opens at " + opens.isoformat(), opens_at=opens.isoformat()
        )
    if now >= (closes or target["starts_at"]):
        raise RegistrationClosed("Registration has closed")


async def _insert(conn: Connection, target: Row, fields: dict[str, Any], now: datetime) -> Row:
    """A seat from a shard with one free, else the waitlist (or EventFull). From a remembered
    target (not `fresh`), only a seat at its version, else _Changed: the caller reads again."""
    event_id = target["id"]
    pool = "free_online_shards" if fields["online_place"] else "free_shards"
    free = target[pool]
    online = bool(fields["online_place"])
    if not target["fresh"] and not free:  # full when last read: its seats now, at its version
        if not target["waitlist"] and seats.known_full(event_id, online, target["version"]):
            raise _Decided(EventFull())  # this process looked a moment ago
        seats_left = await q.seats_now(conn, event_id)
        if seats_left is None or seats_left["version"] != target["version"]:
            raise _Changed()
        _targets.put(event_id, {**target, **seats_left})
        if not seats_left[pool] and not target["waitlist"]:
            seats.note_full(event_id, online, target["version"])
            raise _Decided(EventFull())
        target, free = {**target, **seats_left, "fresh": True}, seats_left[pool]
    if not target["fresh"]:
        batched = surge.ALONE  # inside a transaction (sessions), never with others' rows
        if not conn.is_in_transaction():
            batched = await surge.register(conn, target, fields, now)  # with others alike
        if batched is surge.CHANGED:
            raise _Changed()
        if batched is not surge.ALONE:
            return dict(batched)
        shard, version = random.choice(free), target["version"]
        created = await q.insert_confirmed(conn, event_id, shard, fields, now, version=version)
        if created is None:  # that shard has filled up, or the event changed
            raise _Changed()
        return created
    for shard in free:
        created = await q.insert_confirmed(conn, event_id, shard, fields, now)
        if created is not None:
            return created
    if not target["waitlist"]:
        raise EventFull()
    return await q.insert_waitlisted(conn, event_id, fields, now)


def _validated(data: RegistrationIn, target: Row) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = " ".join(data.name.split())
    if not name or CONTROL.search(data.name):
        errors.append(FieldError("name", "must be a name without control characters"))
    chinese_name = names.clean_chinese_name(data.chinese_name) if data.chinese_name else None
    if data.chinese_name and chinese_name is None:
        errors.append(FieldError("chinese_name", "must be a name in Chinese characters"))
    email = data.email.strip()
    try:
        email = canonical(email)
    except NotAnAddress as exc:
        errors.append(FieldError("email", str(exc)))
    session_ids: list[UUID] = []
    known = set(target["session_ids"])
    for i, raw in enumerate(data.sessions):
        sid = _uuid(raw)
        if sid is None or sid not in known:
            errors.append(FieldError(f"sessions.{i}", "is not a session of this event"))
        elif sid not in session_ids:
            session_ids.append(sid)
    errors += _answer_errors(data.answers, target["questions"])
    consent = target.get("consent_text") or None
    errors += consent_errors(consent, data.consent)
    attendance = online.attendance_for(target, data.attendance)
    if isinstance(attendance, FieldError):
        errors.append(attendance)
    if errors:
        raise InvalidInput(errors)
    assert not isinstance(attendance, FieldError)
    return {
        "name": name,
        "chinese_name": chinese_name,
        "search_key": names.search_key(name, chinese_name),
        "email": email,
        "locale": data.locale,
        "answers": data.answers,
        "consent": consent,
        "session_ids": session_ids,
        "attendance": attendance[0],
        "online_place": attendance[1],
    }


# --- reading -------------------------------------------------------------------------------


async def load(conn: Connection, registration_id: UUID) -> Row | None:
    """A registration as it is now (every column, its sessions and live waitlist place)."""
    return await q.registration(conn, registration_id)


async def access_token(conn: Connection, registration_id: UUID | str) -> str:
    return keys.derive(
        await keys.server_secret(conn, "access"), "registration", str(registration_id)
    )


async def authorize(
    conn: Connection, actor: Actor, secret: str | None, registration_id: str
) -> tuple[Row, bool]:
    """The registration, if `secret` is its access token or `actor` hosts its event.

    Returns (registration, is_attendee). No credentials at all: 401; a door token: 403;
    anything else that does not fit: 404, so no one learns which ids exist.
    """
    parsed = _uuid(registration_id)
    found = None if parsed is None else await q.registration(conn, parsed)
    if (
        found is not None
        and secret
        and keys.matches(
            await keys.server_secret(conn, "access"), "registration", str(found["id"]), secret
        )
    ):
        return found, True
    if actor.kind == "door":
        raise Forbidden("A door token may only do check-in work")
    if found is not None and actor.kind == "partner":
        event = await catalog_q.event(conn, found["event_id"])
        if event is not None and may(actor, "manage", event):
            return found, False
    if actor.kind == "anonymous" and not secret:
        raise Unauthenticated("Give the registration's access token, or a host's token")
    raise NotFound("No such registration")


async def render(conn: Connection, r: Row, *, base_url: str, with_secret: bool) -> RegistrationOut:
    token = await access_token(conn, r["id"])
    confirmed = r["status"] == "confirmed" and r.get("attendance") != "online"  # online: no QR
    ticket = await tickets.ticket_for(conn, r, token) if confirmed else None
    join_url = await online.join_url(conn, r, base_url)
    return RegistrationOut(
        id=str(r["id"]),
        event_id=str(r["event_id"]),
        status=r["status"],
        waitlist_position=r["waitlist_position"],
        name=r["name"],
        chinese_name=r["chinese_name"],
        email=r["email"],
        access_token=token if with_secret else None,
        ticket=ticket,
        calendar=f"/api/v1/registrations/{r['id']}/invite.ics?token={token}",
        ticket_url=f"{base_url}/tickets/{r['id']}?token={token}",
        sessions=[str(s) for s in r["session_ids"]],
        answers=r["answers"],
        locale=r["locale"],
        created_at=r["created_at"],
        cancelled_at=r["cancelled_at"],
        rejection_reason=r.get("rejection_reason"),
        accepted_at=r.get("accepted_at"),
        calendar_reply=r.get("calendar_reply"),
        consent=r.get("consent"),
        consent_at=r.get("consent_at"),
        attendance=r.get("attendance", "in_person"),
        join_url=join_url,
        joined_at=r.get("joined_at"),
    )


# --- cancelling and the waitlist -----------------------------------------------------------


async def cancel(
    conn: Connection,
    registration: Row,
    *,
    by: str,
    now: datetime,
    actor: Actor | audit.Who | None = None,
) -> Row:
    """Cancel; a confirmed seat goes, in the same transaction, to the head of the waitlist.
    `actor` is who did it, for the audit log (default: the attendee when `by` says so)."""
    async with conn.transaction():
        current = await q.registration(conn, registration["id"], lock=True)
        assert current is not None
        if current["status"] in ("cancelled", "rejected"):  # over already
            return current
        await q.set_cancelled(conn, current["id"], now, by)
        who = actor or (audit.attendee(current) if by == "attendee" else audit.system(by))
        await audit.record(
            conn,
            who,
            "registration.cancelled",
            ("registration", current["id"]),
            {"status": [current["status"], "cancelled"]},
            event_id=current["event_id"],
            now=now,
        )
        if current["status"] == "confirmed":
            await q.release_session_seats(conn, current["id"])
        if current["shard"] is not None:  # confirmed, or pending holding a seat
            await seats.free_seat(conn, current["event_id"], current["shard"], now, who)
    found = await q.registration(conn, registration["id"])
    assert found is not None
    return found


async def promote(
    conn: Connection, registration: Row, now: datetime, actor: Actor | audit.Who | None = None
) -> Row:
    """A host moves a waitlisted registration up: confirmed if a seat is free, else first in line."""
    if registration["status"] != "waitlisted":
        raise InvalidState("Only a waitlisted registration can be moved up")
    async with conn.transaction():
        shards = await q.lock_shards(
            conn, registration["event_id"], online=registration["online_place"]
        )
        free = [s["shard"] for s in shards if s["confirmed"] < s["capacity"]]
        if free:
            by = actor or audit.system("waitlist")
            await seats.move_up(
                conn, registration["id"], registration["event_id"], free[0], now, by
            )
        else:
            await q.move_to_front(conn, registration["id"], registration["event_id"])
    found = await q.registration(conn, registration["id"])
    assert found is not None
    return found


async def counts(conn: Connection, event: Row) -> dict[str, int]:
    return {k: int(v) for k, v in (await q.counts(conn, event["id"])).items()}


def _uuid(value: str) -> UUID | None:
    return parse_uuid(value)
