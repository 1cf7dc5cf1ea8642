"""Check-in at the door: scans, offline batches, undo, the check-in kit, search and stats.

A scan is verified in Python first (format, event, Ed25519 signature: no database for a
forgery), then decided by ONE statement that reads the registration and inserts the
check-in together; a unique index on live check-ins (one per registration and door) admits a
ticket exactly once however many devices scan it at the same moment. With a door token a
scan costs two statements in all: the token lookup and that one.

Offline devices upload their scans in batches, each scan with a nonce: the first upload's
result is stored with the nonce and returned for every later upload, so retrying changes
nothing. A batch is one transaction whose check-ins are applied in ticket order (results
in the order sent), so two doors uploading overlapping batches never deadlock.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from events import catalog, registration, tickets
from events.errors import (
    AlreadyCheckedIn,
    CheckinRefused,
    Forbidden,
    InvalidInput,
    InvalidTicket,
    NotConfirmed,
    NotFound,
    TicketCancelled,
    WrongEvent,
)
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import checkin as q

AwareDatetime = Annotated[datetime, Meta(tz=True)]
Code = Annotated[str, Meta(max_length=1000)]
Device = Annotated[str, Meta(max_length=200)]
ResultName = Literal[
    "accepted", "already_checked_in", "cancelled", "wrong_event", "not_confirmed", "invalid"
]
KIT_FORMAT = 1
MAX_BATCH = 1000


class ScanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    session_id: str | None = None
    scanned_at: AwareDatetime | None = None
    device: Device = ""


class BatchScanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    scanned_at: AwareDatetime
    nonce: Annotated[str, Meta(min_length=1, max_length=100)]
    device: Device = ""
    session_id: str | None = None


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[BatchScanIn], Meta(max_length=MAX_BATCH)]


class RegistrationRef(msgspec.Struct):
    id: str
    name: str


class ScanResult(msgspec.Struct, omit_defaults=True):
    """One scan's answer; `result` says what the door shows."""

    result: ResultName
    registration: RegistrationRef | None = None
    checked_in_at: datetime | None = None
    checkin_id: str | None = None
    detail: str | None = None
    nonce: str | None = None


class BatchOut(msgspec.Struct):
    results: list[ScanResult]


class UndoIn(msgspec.Struct, forbid_unknown_fields=True):
    registration_id: str
    session_id: str | None = None


class CheckinOut(msgspec.Struct):
    id: str
    registration: RegistrationRef
    session_id: str | None
    checked_in_at: datetime
    recorded_at: datetime
    device: str
    undone_at: datetime | None
    undone_by: str | None


class AttendeeOut(msgspec.Struct):
    id: str
    seq: int
    name: str
    email: str
    status: str
    checked_in_at: datetime | None
    ticket_code: str | None
    #: `online` attendees have no ticket (nothing to admit at the door): they join online
    attendance: str = "in_person"
    joined_at: datetime | None = None


class StatsOut(msgspec.Struct):
    capacity: int
    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int
    expected: int
    pending: int = 0
    rejected: int = 0
    #: online attendees who used their join link (their online check-in)
    joined: int = 0
    #: of `confirmed` and `waitlisted`, those attending online (online events: all of them)
    online_confirmed: int = 0
    online_waitlisted: int = 0
    #: a hybrid event's online places (null: no limit; `capacity` is the seats in the room)
    online_capacity: int | None = None


class CheckinKit(msgspec.Struct):
    """What a door device needs to verify and show tickets offline (docs/ticket-format.md)."""

    format: int
    event_id: str
    event_seq: int
    title: str
    timezone: str
    status: str
    algorithm: str
    public_key: str
    public_key_jwk: dict[str, str]
    names: dict[str, str]
    sessions: dict[str, list[str]]
    checked_in: dict[str, datetime]
    revoked: dict[str, str]


@dataclass(frozen=True, slots=True)
class Door:
    """Where scans are checked in: the event, who scans, and the event row when loaded."""

    event_id: UUID
    token_id: UUID | None
    event: Row | None = None


async def door(conn: Connection, actor: Actor, event_id: str, *, load: bool = True) -> Door:
    """The event's check-in door for `actor`: its door token, or a host (else 401/403/404).

    A door token is bound to its event, so a scan need not read the event (`load=False`).
    """
    if actor.kind == "door" and not load:
        parsed = catalog.parse_id(event_id)
        if parsed is None or parsed != actor.event_id:
            raise Forbidden("A door token may only do check-in work for its own event")
        return Door(parsed, actor.token_id)
    event = await catalog.load_for(conn, actor, event_id, "checkin")
    return Door(event["id"], actor.token_id if actor.kind == "door" else None, event)


# --- scanning ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _session(value: str | None, field: str) -> UUID | None:
    if value is None:
        return None
    parsed = catalog.parse_id(value)
    if parsed is None:
        raise InvalidInput.one(field, "is not a session id")
    return parsed


async def scan(conn: Connection, at: Door, data: ScanIn, now: datetime) -> ScanResult:
    """Check one scanned code in; a refusal is raised as its CheckinRefused error."""
    session_id = _session(data.session_id, "session_id")
    outcome = await _scan(
        conn,
        at,
        data.code,
        session_id=session_id,
        scanned_at=data.scanned_at or now,
        now=now,
        device=data.device,
    )
    return _raise_refusal(outcome)


def _raise_refusal(outcome: ScanResult) -> ScanResult:
    errors: dict[str, type[CheckinRefused]] = {
        "already_checked_in": AlreadyCheckedIn,
        "cancelled": TicketCancelled,
        "wrong_event": WrongEvent,
        "not_confirmed": NotConfirmed,
        "invalid": InvalidTicket,
    }
    if outcome.result == "accepted":
        return outcome
    extra = {
        k: v
        for k, v in (
            ("registration", outcome.registration),
            ("checked_in_at", outcome.checked_in_at),
        )
        if v is not None
    }
    raise errors[outcome.result](outcome.detail, **extra)


async def _scan(
    conn: Connection,
    at: Door,
    code: str,
    *,
    session_id: UUID | None,
    scanned_at: datetime,
    now: datetime,
    device: str = "",
    nonce: str | None = None,
) -> ScanResult:
    key = await tickets.event_key(conn, at.event_id)
    ticket = tickets.parse(code)
    if ticket is None:
        return ScanResult("invalid", detail="Not a ticket code of this service")
    if ticket.event_seq != key.event_seq:
        other = await tickets.event_key_by_seq(conn, ticket.event_seq)
        if other is not None and ticket.signed_by(other.public_key):
            return ScanResult("wrong_event", detail="This ticket is for another event")
        return ScanResult("invalid", detail="The ticket's signature does not verify")
    if not ticket.signed_by(key.public_key):
        return ScanResult("invalid", detail="The ticket's signature does not verify")
    proposed = uuid.uuid4()
    found = await q.scan(
        conn,
        at.event_id,
        ticket.registration_seq,
        ticket_version=ticket.ticket_version,
        session_id=session_id,
        checkin={
            "id": proposed,
            "checked_in_at": min(scanned_at, now),
            "recorded_at": now,
            "device": device,
            "token_id": at.token_id,
            "nonce": nonce,
        },
    )
    return _decide(found, ticket.ticket_version, proposed)


def _decide(found: Row | None, ticket_version: int, proposed: UUID) -> ScanResult:
    if found is None:
        return ScanResult("invalid", detail="No such ticket")
    ref = RegistrationRef(str(found["id"]), found["name"])
    if found["ticket_version"] != ticket_version:
        return ScanResult(
            "invalid", detail="This ticket was re-issued; the old code no longer works"
        )
    if found["status"] == "cancelled":
        return ScanResult("cancelled", ref, detail="The registration is cancelled")
    if found["event_status"] == "cancelled":
        return ScanResult("cancelled", ref, detail="The event is cancelled")
    if found["status"] != "confirmed":
        return ScanResult("not_confirmed", ref, detail="The registration is on the waitlist")
    if not found["holds_session"]:
        return ScanResult("not_confirmed", ref, detail="Not registered for this session")
    when = found["checked_in_at"].astimezone(_zone(found["timezone"]))
    if found["checkin_id"] == proposed:
        return ScanResult("accepted", ref, when, str(proposed))
    return ScanResult("already_checked_in", ref, when, detail="Checked in already")


async def batch(conn: Connection, at: Door, data: BatchIn, now: datetime) -> BatchOut:
    """Apply offline scans in one transaction; results in the order sent."""
    sessions = [_session(s.session_id, f"scans.{i}.session_id") for i, s in enumerate(data.scans)]
    nonces = list(dict.fromkeys(s.nonce for s in data.scans))
    new = set(await q.claim_nonces(conn, at.event_id, nonces, now)) if nonces else set()
    seen = await q.nonce_results(conn, at.event_id, [n for n in nonces if n not in new])
    done: dict[str, ScanResult] = {
        n: msgspec.convert(r, ScanResult) for n, r in seen.items() if r is not None
    }
    for i in _in_ticket_order(data.scans):
        s = data.scans[i]
        if s.nonce in done:
            continue
        outcome = await _scan(
            conn,
            at,
            s.code,
            session_id=sessions[i],
            scanned_at=s.scanned_at,
            now=now,
            device=s.device,
            nonce=s.nonce,
        )
        outcome.nonce = s.nonce
        done[s.nonce] = outcome
    fresh = {n: msgspec.to_builtins(done[n]) for n in nonces if n in new}
    if fresh:
        await q.store_nonce_results(conn, at.event_id, fresh)
    return BatchOut([done[s.nonce] for s in data.scans])


def _in_ticket_order(scans: list[BatchScanIn]) -> list[int]:
    """Indexes of `scans` sorted by ticket (stable: one ticket's scans stay in order), so
    concurrent batches take their check-in locks in the same order."""

    def ticket_of(i: int) -> int:
        parsed = tickets.parse(scans[i].code)
        return -1 if parsed is None else parsed.registration_seq

    return sorted(range(len(scans)), key=ticket_of)


# --- undo, history -------------------------------------------------------------------------


def checkin_out(r: Row, zone: ZoneInfo) -> CheckinOut:
    return CheckinOut(
        id=str(r["id"]),
        registration=RegistrationRef(str(r["registration_id"]), r["name"]),
        session_id=str(r["session_id"]) if r["session_id"] else None,
        checked_in_at=r["checked_in_at"].astimezone(zone),
        recorded_at=r["recorded_at"].astimezone(zone),
        device=r["device"],
        undone_at=r["undone_at"].astimezone(zone) if r["undone_at"] else None,
        undone_by=r["undone_by"],
    )


async def undo(
    conn: Connection, event: Row, actor: Actor, data: UndoIn, now: datetime
) -> CheckinOut:
    """Undo a registration's live check-in (hosts); it stays recorded as undone, by whom."""
    registration_id = catalog.parse_id(data.registration_id)
    if registration_id is None:
        raise InvalidInput.one("registration_id", "is not a registration id")
    assert actor.partner_id is not None
    undone = await q.undo(
        conn,
        event["id"],
        registration_id,
        session_id=_session(data.session_id, "session_id"),
        partner_id=actor.partner_id,
        now=now,
    )
    if undone is None:
        raise NotFound("This registration is not checked in")
    found = await q.checkin(conn, undone)
    assert found is not None
    return checkin_out(found, _zone(event["timezone"]))


async def history(conn: Connection, event: Row, page: PageRequest) -> Page[CheckinOut]:
    found = await q.checkins(conn, event["id"], after_seq=page.after_seq, limit=page.limit + 1)
    zone = _zone(event["timezone"])
    return page_of([checkin_out(r, zone) for r in found], [r["seq"] for r in found], page.limit)


# --- the kit, search, stats ----------------------------------------------------------------


async def kit(conn: Connection, event: Row) -> tuple[bytes, str]:
    """The check-in kit as JSON, and its strong ETag (a hash of exactly these bytes)."""
    key = await tickets.event_key(conn, event["id"])
    zone = _zone(event["timezone"])
    names: dict[str, str] = {}
    sessions: dict[str, list[str]] = {}
    checked_in: dict[str, datetime] = {}
    revoked: dict[str, str] = {}
    for r in await q.kit_registrations(conn, event["id"]):
        seq, version = int(r["seq"]), int(r["ticket_version"])
        if r["status"] == "confirmed" and r["attendance"] == "online":  # no ticket to admit
            revoked.update((tickets.code_of(key, seq, v), "online") for v in range(1, version + 1))
            continue
        if r["status"] == "confirmed":
            names[str(seq)] = r["name"]
            if r["session_ids"]:
                sessions[str(seq)] = [str(s) for s in r["session_ids"]]
            if r["checked_in_at"] is not None:
                checked_in[str(seq)] = r["checked_in_at"].astimezone(zone)
            old = range(1, version)
        else:
            old = range(1, version + 1)
        reason = "reissued" if r["status"] == "confirmed" else "cancelled"
        revoked.update((tickets.code_of(key, seq, v), reason) for v in old)
    body = msgspec.json.encode(
        CheckinKit(
            format=KIT_FORMAT,
            event_id=str(event["id"]),
            event_seq=key.event_seq,
            title=event["title"],
            timezone=event["timezone"],
            status=event["status"],
            algorithm="Ed25519",
            public_key=base64.b64encode(key.public_raw).decode(),
            public_key_jwk=_jwk(key.public_raw),
            names=names,
            sessions=sessions,
            checked_in=checked_in,
            revoked=revoked,
        )
    )
    return body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


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
        email=r["email"],
        status=r["status"],
        checked_in_at=r["checked_in_at"].astimezone(zone) if r["checked_in_at"] else None,
        ticket_code=tickets.code_of(key, int(r["seq"]), int(r["ticket_version"]))
        if confirmed
        else None,
        attendance=r["attendance"],
        joined_at=r["joined_at"].astimezone(zone) if r["joined_at"] else None,
    )


async def stats(conn: Connection, event: Row) -> StatsOut:
    counts = await registration.counts(conn, event)
    checked_in = await q.checked_in_count(conn, event["id"])
    return StatsOut(
        capacity=int(event["capacity"]),
        confirmed=counts["confirmed"],
        waitlisted=counts["waitlisted"],
        cancelled=counts["cancelled"],
        checked_in=checked_in,
        expected=max(counts["confirmed"] - checked_in, 0),
        pending=counts["pending"],
        rejected=counts["rejected"],
        joined=counts["joined"],
        online_confirmed=counts["online_confirmed"],
        online_waitlisted=counts["online_waitlisted"],
        online_capacity=event["online_capacity"] if event["format"] == "hybrid" else None,
    )
