"""Check-in at the door: scans (in and out), offline batches, undo, history.

A scan is verified in Python first (format, event, Ed25519 signature: no database for a
forgery), then decided by ONE statement that reads the registration and inserts the
check-in together; a unique index on live check-ins (one per registration and door) admits a
ticket exactly once however many devices scan it at the same moment. With a door token a
scan costs two statements in all: the token lookup and that one.

Offline devices upload their scans in batches, each scan with a nonce: the first upload's
result is stored with the nonce and returned for every later upload, so retrying changes
nothing. A batch is one transaction whose check-ins are applied in ticket order (results
in the order sent), so two doors uploading overlapping batches never deadlock.

A scan goes `in` (default) or `out`. The check-in row is the first admission (its time and
door answer every later `already_checked_in`); `out` marks its holder outside, and a later
`in` lets them back only when the event allows `reentry`. A scan that moved a ticket stores
its own proposed id in the row (`last_move`), so of concurrent scans exactly one moves it.
A session door (a token with `session_id`) checks in to that session only; a ticket not
registered for the session is refused as `wrong_session`. The kit, door search and stats
are in door_kit.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from events import audit, catalog, tickets
from events.checkin_types import (
    BatchIn,
    BatchOut,
    BatchScanIn,
    CheckinOut,
    Direction,
    RegistrationRef,
    ScanIn,
    ScanResult,
    UndoIn,
)
from events.errors import (
    AlreadyCheckedIn,
    CheckinRefused,
    Forbidden,
    InvalidInput,
    InvalidTicket,
    NotConfirmed,
    NotFound,
    NotInside,
    TicketCancelled,
    WrongEvent,
    WrongSession,
)
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import checkin as q


@dataclass(frozen=True, slots=True)
class Door:
    """Where scans are checked in: the event, who scans, and the event row when loaded."""

    event_id: UUID
    token_id: UUID | None
    event: Row | None = None
    actor: Actor | None = None  # who scans, for the audit log
    label: str = ""  # recorded on each check-in: the door token's label, or the host
    session_id: UUID | None = None  # a session door's session

    def __post_init__(self) -> None:
        if not self.label and self.actor is not None and self.actor.kind == "partner":
            # a host scanning (the API, the console's desk): its console user, else its slug
            object.__setattr__(self, "label", self.actor.label or self.actor.partner_slug or "")


async def door(conn: Connection, actor: Actor, event_id: str, *, load: bool = True) -> Door:
    """The event's check-in door for `actor`: its door token, or a host (else 401/403/404).

    A door token is bound to its event, so a scan need not read the event (`load=False`).
    """
    if actor.kind == "door" and not load:
        parsed = catalog.parse_id(event_id)
        if parsed is None or parsed != actor.event_id:
            raise Forbidden("A door token may only do check-in work for its own event")
        return Door(parsed, actor.token_id, None, actor, actor.label, actor.session_id)
    event = await catalog.load_for(conn, actor, event_id, "checkin")
    if actor.kind == "door":
        return Door(event["id"], actor.token_id, event, actor, actor.label, actor.session_id)
    return Door(event["id"], None, event, actor)


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


def _scope(at: Door, value: str | None, field: str) -> UUID | None:
    """The session a scan checks in to: a session door's own, else the one asked for."""
    asked = _session(value, field)
    if at.session_id is None:
        return asked
    if asked is not None and asked != at.session_id:
        raise InvalidInput.one(field, "this door checks in to its own session only")
    return at.session_id


async def scan(conn: Connection, at: Door, data: ScanIn, now: datetime) -> ScanResult:
    """Check one scanned code in (or out); a refusal is raised as its CheckinRefused error."""
    outcome = await _scan(
        conn,
        at,
        data.code,
        session_id=_scope(at, data.session_id, "session_id"),
        scanned_at=data.scanned_at or now,
        now=now,
        device=data.device,
        direction=data.direction,
    )
    return _raise_refusal(outcome)


def _raise_refusal(outcome: ScanResult) -> ScanResult:
    errors: dict[str, type[CheckinRefused]] = {
        "already_checked_in": AlreadyCheckedIn,
        "cancelled": TicketCancelled,
        "wrong_event": WrongEvent,
        "wrong_session": WrongSession,
        "not_confirmed": NotConfirmed,
        "not_inside": NotInside,
        "invalid": InvalidTicket,
    }
    if outcome.result == "accepted":
        return outcome
    extra = {
        k: v
        for k, v in (
            ("registration", outcome.registration),
            ("checked_in_at", outcome.checked_in_at),
            ("door", outcome.door),
            ("direction", outcome.direction),
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
    direction: Direction = "in",
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
    move = {
        "id": proposed,
        "checked_in_at": min(scanned_at, now),
        "recorded_at": now,
        "device": device,
        "token_id": at.token_id,
        "nonce": nonce,
        "door": at.label,
        "actor": _audit_actor(at),
    }
    found = await (q.scan if direction == "in" else q.scan_out)(
        conn,
        at.event_id,
        ticket.registration_seq,
        ticket_version=ticket.ticket_version,
        session_id=session_id,
        checkin=move,
    )
    return _decide(found, ticket.ticket_version, proposed, direction)


def _audit_actor(at: Door) -> tuple[str, str | None, str]:
    by = audit.who(at.actor) if at.actor else audit.Who("door", str(at.token_id), "")
    return by.type, by.id, by.label


def _decide(
    found: Row | None, ticket_version: int, proposed: UUID, direction: Direction = "in"
) -> ScanResult:
    if found is None:
        return ScanResult("invalid", detail="No such ticket")
    ref = RegistrationRef(str(found["id"]), found["name"])
    if found["ticket_version"] != ticket_version:
        return ScanResult(
            "invalid", detail="This ticket was re-issued; the old code no longer works"
        )
    zone = _zone(found["timezone"])
    if found["last_move"] == proposed:  # this scan moved the ticket in (or out)
        moved = found["moved_at"].astimezone(zone)
        return ScanResult(
            "accepted", ref, moved, found["door"], direction, str(found["checkin_id"])
        )
    refused = _refusal(found, ref)
    if refused is not None:
        return refused
    when = found["checked_in_at"].astimezone(zone) if found["checked_in_at"] else None
    if direction == "out":
        return ScanResult("not_inside", ref, when, found["door"], "out", detail="Not inside")
    detail = "Checked in already" + (f" at {found['door']}" if found["door"] else "")
    return ScanResult("already_checked_in", ref, when, found["door"], "in", detail=detail)


def _refusal(found: Row, ref: RegistrationRef) -> ScanResult | None:
    if found["status"] == "cancelled":
        return ScanResult("cancelled", ref, detail="The registration is cancelled")
    if found["event_status"] == "cancelled":
        return ScanResult("cancelled", ref, detail="The event is cancelled")
    if found["status"] != "confirmed":
        detail = f"The registration is {found['status']}, not confirmed"
        return ScanResult("not_confirmed", ref, detail=detail)
    if not found["holds_session"]:
        return ScanResult("wrong_session", ref, detail="Not registered for this session")
    return None


async def batch(conn: Connection, at: Door, data: BatchIn, now: datetime) -> BatchOut:
    """Apply offline scans in one transaction; results in the order sent."""
    sessions = [_scope(at, s.session_id, f"scans.{i}.session_id") for i, s in enumerate(data.scans)]
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
            direction=s.direction,
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
        door=r["door"],
        inside=r["inside"],
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
    await audit.record(
        conn,
        actor,
        "checkin.undone",
        ("registration", registration_id),
        {"undone_at": [None, now.isoformat()]},
        event_id=event["id"],
        now=now,
    )
    return checkin_out(found, _zone(event["timezone"]))


async def history(conn: Connection, event: Row, page: PageRequest) -> Page[CheckinOut]:
    found = await q.checkins(conn, event["id"], after_seq=page.after_seq, limit=page.limit + 1)
    zone = _zone(event["timezone"])
    return page_of([checkin_out(r, zone) for r in found], [r["seq"] for r in found], page.limit)
