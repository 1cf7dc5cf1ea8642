"""What a door device works from: the check-in kit (offline), door search, live counts.

The kit is per door: a session door's kit carries that session's check-ins. It lists every
registration that ever had a ticket, with its state, so a device offline shows the right
name and state for every ticket it knows (a cancelled ticket by name, as cancelled), and
the ticket codes of confirmed ones, so it can check people in by name offline.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import msgspec

from events import registration, tickets
from events import translations as tr
from events.checkin import Door
from events.names import fold_map_for
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import checkin as q
from events.queries import door as door_q

KIT_FORMAT = 2


class DoorInfo(msgspec.Struct):
    label: str
    session_id: str | None
    session_title: str | None
    reentry: bool


class KitCheckin(msgspec.Struct):
    at: datetime
    door: str
    inside: bool


class CheckinKit(msgspec.Struct):
    """What a door device needs to verify and show tickets offline (docs/ticket-format.md)."""

    format: int
    event_id: str
    event_seq: int
    title: str
    titles: dict[str, str]  # the title in each language (events/translations.py resolves)
    timezone: str
    status: str
    algorithm: str
    public_key: str
    public_key_jwk: dict[str, str]
    door: DoorInfo
    names: dict[str, str]
    #: by seq, the Chinese name beside the Latin one (only those who gave one)
    chinese_names: dict[str, str]
    #: by seq, what the door's offline search matches (events/names.py: search_key), and the
    #: characters a query folds to reach those keys (Traditional → Simplified, variants)
    search: dict[str, str]
    fold: dict[str, str]
    #: by seq, those without a ticket to admit: `waitlisted`, `pending`, `cancelled`, ... by
    #: status, and `online` for confirmed attendees of a hybrid event who join online
    states: dict[str, str]
    codes: dict[str, str]
    sessions: dict[str, list[str]]
    checked_in: dict[str, datetime]
    checkins: dict[str, KitCheckin]
    revoked: dict[str, str]


class AttendeeOut(msgspec.Struct):
    id: str
    seq: int
    name: str
    chinese_name: str | None
    email: str
    status: str
    checked_in_at: datetime | None
    ticket_code: str | None
    #: `online` attendees have no ticket (nothing to admit at the door): they join online
    attendance: str = "in_person"
    joined_at: datetime | None = None


class SessionCounts(msgspec.Struct):
    id: str
    title: str
    registered: int
    checked_in: int
    inside: int


class StatsOut(msgspec.Struct, omit_defaults=True):
    capacity: int
    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int
    expected: int
    inside: int
    pending: int
    rejected: int
    #: online attendees who used their join link (their online check-in)
    joined: int
    #: of `confirmed` and `waitlisted`, those attending online (online events: all of them)
    online_confirmed: int
    online_waitlisted: int
    #: a hybrid event's online places (null: no limit; `capacity` is the seats in the room)
    online_capacity: int | None
    session: SessionCounts | None = None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


async def kit(conn: Connection, event: Row, at: Door) -> tuple[bytes, str]:
    """The check-in kit as JSON, and its strong ETag (a hash of exactly these bytes)."""
    key = await tickets.event_key(conn, event["id"])
    zone = _zone(event["timezone"])
    names: dict[str, str] = {}
    chinese_names: dict[str, str] = {}
    search: dict[str, str] = {}
    states: dict[str, str] = {}
    codes: dict[str, str] = {}
    sessions: dict[str, list[str]] = {}
    checked_in: dict[str, datetime] = {}
    checkins: dict[str, KitCheckin] = {}
    revoked: dict[str, str] = {}
    scope = at.session_id or event["id"]
    for r in await door_q.kit_registrations(conn, event["id"], scope):
        seq, version = int(r["seq"]), int(r["ticket_version"])
        names[str(seq)] = r["name"]
        if r["chinese_name"]:
            chinese_names[str(seq)] = r["chinese_name"]
        if r["status"] == "confirmed" and r["attendance"] == "online":  # no ticket to admit
            states[str(seq)], search[str(seq)] = "online", r["search_key"]  # found, as online
            revoked.update((tickets.code_of(key, seq, v), "online") for v in range(1, version + 1))
            continue
        if r["status"] == "confirmed":
            search[str(seq)] = r["search_key"]
            codes[str(seq)] = tickets.code_of(key, seq, version)
            if r["session_ids"]:
                sessions[str(seq)] = [str(s) for s in r["session_ids"]]
            if r["checked_in_at"] is not None:
                when = r["checked_in_at"].astimezone(zone)
                checked_in[str(seq)] = when
                checkins[str(seq)] = KitCheckin(when, r["door"], r["inside"])
            old = range(1, version)
        else:
            states[str(seq)] = r["status"]
            old = range(1, version + 1)
        reason = "reissued" if r["status"] == "confirmed" else "cancelled"
        revoked.update((tickets.code_of(key, seq, v), reason) for v in old)
    body = msgspec.json.encode(
        CheckinKit(
            format=KIT_FORMAT,
            event_id=str(event["id"]),
            event_seq=key.event_seq,
            title=event["title"],
            titles={
                lang: str(tr.resolve(event["title"], event["translations"], "title", lang))
                for lang in tr.LANGS
            },
            timezone=event["timezone"],
            status=event["status"],
            algorithm="Ed25519",
            public_key=base64.b64encode(key.public_raw).decode(),
            public_key_jwk=_jwk(key.public_raw),
            door=await door_info(conn, event, at),
            names=names,
            chinese_names=chinese_names,
            search=search,
            fold=fold_map_for(list(search.values())),
            states=states,
            codes=codes,
            sessions=sessions,
            checked_in=checked_in,
            checkins=checkins,
            revoked=revoked,
        )
    )
    return body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


async def door_info(conn: Connection, event: Row, at: Door) -> DoorInfo:
    title = None
    if at.session_id is not None:
        title = await door_q.session_title(conn, at.session_id)
    session_id = str(at.session_id) if at.session_id else None
    return DoorInfo(at.label, session_id, title, bool(event["reentry"]))


def _jwk(public_raw: bytes) -> dict[str, str]:
    x = base64.urlsafe_b64encode(public_raw).decode().rstrip("=")
    return {"kty": "OKP", "crv": "Ed25519", "x": x}


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match: a list of ETags (weak ones compared weakly), or `*`."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


async def attendees(
    conn: Connection, event: Row, q_text: str | None, page: PageRequest
) -> Page[AttendeeOut]:
    """Search at the door: registrations by a piece of name or email, with ticket codes."""
    found = await q.attendees(
        conn, event["id"], q=q_text or None, after_seq=page.after_seq, limit=page.limit + 1
    )
    key = await tickets.event_key(conn, event["id"])
    zone = _zone(event["timezone"])
    items = [_attendee(r, key, zone) for r in found]
    return page_of(items, [r["seq"] for r in found], page.limit)


def _attendee(r: Row, key: tickets.EventKey, zone: ZoneInfo) -> AttendeeOut:
    confirmed = r["status"] == "confirmed" and r["attendance"] != "online"
    return AttendeeOut(
        id=str(r["id"]),
        seq=int(r["seq"]),
        name=r["name"],
        chinese_name=r["chinese_name"],
        email=r["email"],
        status=r["status"],
        checked_in_at=r["checked_in_at"].astimezone(zone) if r["checked_in_at"] else None,
        ticket_code=tickets.code_of(key, int(r["seq"]), int(r["ticket_version"]))
        if confirmed
        else None,
        attendance=r["attendance"],
        joined_at=r["joined_at"].astimezone(zone) if r["joined_at"] else None,
    )


async def stats(conn: Connection, event: Row, at: Door) -> StatsOut:
    counts = await registration.counts(conn, event)
    checked_in, inside = await door_q.scope_counts(conn, event["id"], event["id"])
    session = None
    if at.session_id is not None:
        s_in, s_inside = await door_q.scope_counts(conn, event["id"], at.session_id)
        title = await door_q.session_title(conn, at.session_id) or ""
        registered = await door_q.session_registered(conn, at.session_id)
        session = SessionCounts(str(at.session_id), title, registered, s_in, s_inside)
    return StatsOut(
        capacity=int(event["capacity"]),
        confirmed=counts["confirmed"],
        waitlisted=counts["waitlisted"],
        cancelled=counts["cancelled"],
        checked_in=checked_in,
        expected=max(counts["confirmed"] - checked_in, 0),
        inside=inside,
        pending=counts["pending"],
        rejected=counts["rejected"],
        joined=counts["joined"],
        online_confirmed=counts["online_confirmed"],
        online_waitlisted=counts["online_waitlisted"],
        online_capacity=event["online_capacity"] if event["format"] == "hybrid" else None,
        session=session,
    )
