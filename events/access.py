"""Who may register, and how: invite-only events, access codes, and admitting a registration
that comes with a code, a guest's invitation, or for an event with approval.

Ordinary registrations never come here (registration.py's one-statement hot path). Here one
transaction counts the code's use, marks the guest registered and stores the registration,
so a use is counted only when the registration is stored and `max_uses` holds exactly (the
code's row is locked by its UPDATE; a CHECK stands behind it). Every bad code gets the same
answer (422 access-code-invalid), so the API tells no one which codes exist.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from events import seats
from events.errors import (
    AccessCodeInvalid,
    AlreadyExists,
    AlreadyRegistered,
    EventFull,
    InvalidInput,
    InvitationRequired,
    NotFound,
)
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import access as q
from events.queries import guests as guests_q
from events.queries import registration as registration_q
from events.queries import seats as seats_q

CODE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
#: Generated codes: no 0/O or 1/I, so a code read aloud or from paper is typed right.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class AccessCodeIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{4,40}$")] | None = None
    max_uses: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None
    skip_approval: bool = False


class AccessCodeOut(msgspec.Struct):
    id: str
    code: str
    uses: int
    max_uses: int | None
    expires_at: datetime | None
    skip_approval: bool
    revoked: bool
    created_at: datetime


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def valid_code(text: str) -> bool:
    return CODE.fullmatch(text) is not None


def code_out(c: Row, zone: str) -> AccessCodeOut:
    """Times with the event's UTC offset, as every time the API gives."""
    tz = ZoneInfo(zone)
    return AccessCodeOut(
        id=str(c["id"]),
        code=c["code"],
        uses=c["uses"],
        max_uses=c["max_uses"],
        expires_at=c["expires_at"].astimezone(tz) if c["expires_at"] else None,
        skip_approval=c["skip_approval"],
        revoked=c["revoked_at"] is not None,
        created_at=c["created_at"].astimezone(tz),
    )


async def create_code(
    conn: Connection, event: Row, data: AccessCodeIn, now: datetime
) -> AccessCodeOut:
    fields = msgspec.structs.asdict(data)
    given = data.code is not None
    for _ in range(1 if given else 5):
        fields["code"] = data.code if given else generate_code()
        created = await q.insert_code(conn, event["id"], fields, now)
        if created is not None:
            return code_out(created, event["timezone"])
    raise AlreadyExists("The event has this code already")


async def list_codes(conn: Connection, event: Row, page: PageRequest) -> Page[AccessCodeOut]:
    found = await q.codes_of(conn, event["id"], after_seq=page.after_seq, limit=page.limit + 1)
    items = [code_out(c, event["timezone"]) for c in found]
    return page_of(items, [c["seq"] for c in found], page.limit)


async def revoke_code(conn: Connection, event: Row, code_id: str, now: datetime) -> AccessCodeOut:
    parsed = _uuid(code_id)
    revoked = None if parsed is None else await q.revoke_code(conn, parsed, event["id"], now)
    if revoked is None:
        raise NotFound("No such access code")
    return code_out(revoked, event["timezone"])


# --- admitting a registration --------------------------------------------------------------


async def admit(
    conn: Connection,
    target: Row,
    data: Any,
    fields: dict[str, Any],
    sessions: list[UUID],
    now: datetime,
) -> Row:
    """Store a registration that needs more than a seat: a code's use, a guest's invitation,
    an approval. Returns the stored registration (registration.py's columns)."""
    if target["invite_only"] and data.access_code is None and data.invitation is None:
        raise InvitationRequired()
    async with conn.transaction():
        code = await _use_code(conn, target["id"], data.access_code, now)
        guest = await _guest(conn, target["id"], data.invitation, fields["email"])
        needs_approval = target["approval"] != "none" and not (code and code["skip_approval"])
        extra = {
            "approval_needed": needs_approval,
            "access_code_id": code["id"] if code else None,
            "guest_id": guest["id"] if guest else None,
        }
        created = await _store(conn, target, fields, extra, now)
        if guest is not None:
            await guests_q.mark_registered(conn, guest["id"], created["id"], now)
        if sessions:
            await seats.attach_sessions(conn, created, sessions)
    return created


async def _use_code(
    conn: Connection, event_id: UUID, code: str | None, now: datetime
) -> Row | None:
    if code is None:
        return None
    used = await q.use_code(conn, event_id, code.strip(), now) if valid_code(code.strip()) else None
    if used is None:
        raise AccessCodeInvalid()
    return used


async def _guest(conn: Connection, event_id: UUID, token: str | None, email: str) -> Row | None:
    if token is None:
        return None
    guest = await guests_q.guest_by_token(conn, event_id, token.strip())
    if guest is None or guest["status"] == "revoked":
        raise InvitationRequired("This invitation is not valid for this event")
    if guest["email"].lower() != email.lower():
        raise InvalidInput.one("email", "must be the email address the invitation was sent to")
    if guest["registration_id"] is not None:  # declining first and coming after all is fine
        raise AlreadyRegistered("This invitation has been used already")
    return guest


async def _store(
    conn: Connection, target: Row, fields: dict[str, Any], extra: dict[str, Any], now: datetime
) -> Row:
    """Screened applications hold nothing; anything else takes a seat (confirmed, or pending
    and held), else joins the waitlist, else the event is full."""
    event_id = target["id"]
    if extra["approval_needed"] and target["approval"] == "screen":
        return await q.insert_unseated(
            conn, event_id, fields, extra=extra, status="pending", now=now
        )
    status = "pending" if extra["approval_needed"] else "confirmed"
    for shard in await seats_q.free_shards(conn, event_id, online=fields["online_place"]):
        created = await q.insert_seated(
            conn, event_id, shard, fields, extra=extra, status=status, now=now
        )
        if created is not None:
            return created
    if not target["waitlist"]:
        raise EventFull()
    await registration_q.lock_waitlist(conn, event_id)  # its place, true when answered
    return await q.insert_unseated(
        conn, event_id, fields, extra=extra, status="waitlisted", now=now
    )


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
