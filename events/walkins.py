"""Walk-ins: a person without a registration who turns up at the door while seats are left.

A door token (or a host) registers them and checks them in at once, in one transaction: the
seat comes from the same seat counters (one statement takes a seat and inserts the
registration, as registration.py does), so walk-ins and online registrations together never
exceed the capacity. There is no waitlist at the door: no seat left is `event-full`. The
registration window does not apply (walk-ins come while the event runs); a draft or
cancelled event takes none. Without an email the registration gets an address under the
reserved `.invalid` domain, unique to it, and no mail is sent.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta

from events import audit, checkin, names, registration, tickets
from events.addresses import NotAnAddress, canonical
from events.checkin import Door
from events.checkin_types import ScanIn, ScanResult
from events.errors import (
    AlreadyRegistered,
    EventFull,
    FieldError,
    InvalidInput,
    NotFound,
    RegistrationClosed,
)
from events.queries import Connection, Row
from events.queries import door as q
from events.queries import registration as registration_q
from events.registration import RegistrationOut

NO_EMAIL_DOMAIN = "walk-in.invalid"


class WalkInIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(max_length=254)] | None = None
    locale: registration.Locale = "en"
    chinese_name: Annotated[str, Meta(max_length=50)] | None = None


class WalkInOut(RegistrationOut):
    """The new registration (as registering answers), with its check-in (always there)."""

    checkin: ScanResult | None = None


def _fields(data: WalkInIn) -> dict[str, object]:
    errors: list[FieldError] = []
    name = " ".join(data.name.split())
    if not name or registration.CONTROL.search(data.name):
        errors.append(FieldError("name", "must be a name without control characters"))
    email = (data.email or "").strip()
    if email:
        try:
            email = canonical(email)
        except NotAnAddress as exc:
            errors.append(FieldError("email", str(exc)))
    chinese_name = names.clean_chinese_name(data.chinese_name) if data.chinese_name else None
    if data.chinese_name and chinese_name is None:
        errors.append(FieldError("chinese_name", "must be a name in Chinese characters"))
    if errors:
        raise InvalidInput(errors)
    if not email:
        email = f"{secrets.token_hex(8)}@{NO_EMAIL_DOMAIN}"
    return {
        "name": name,
        "email": email,
        "locale": data.locale,
        "answers": {},
        "chinese_name": chinese_name,
        "search_key": names.search_key(name, chinese_name),
        "attendance": "in_person",  # a walk-in is in the room
        "online_place": False,
    }


async def _take_seat(conn: Connection, event: Row, fields: dict[str, object], now: datetime) -> Row:
    target = await registration_q.registration_target(conn, event["id"])
    assert target is not None
    for shard in target["free_shards"]:
        try:
            created = await registration_q.insert_confirmed(conn, event["id"], shard, fields, now)
        except asyncpg.UniqueViolationError:
            raise AlreadyRegistered() from None
        if created is not None:
            return created
    raise EventFull("No seat is left for a walk-in")


async def walk_in(
    conn: Connection, at: Door, data: WalkInIn, *, now: datetime, base_url: str
) -> WalkInOut:
    """Register a walk-in and check them in (in the caller's transaction)."""
    event = at.event
    assert event is not None
    fields = _fields(data)
    if event["status"] == "draft":
        raise NotFound("No such event")
    if event["status"] == "cancelled":
        raise RegistrationClosed("The event is cancelled")
    created = await _take_seat(conn, event, fields, now)
    await q.mark_walk_in(conn, created["id"])
    if at.actor is not None:
        await audit.record(
            conn,
            at.actor,
            "registration.walk_in",
            ("registration", created["id"]),
            {"walk_in": [None, True]},
            event_id=event["id"],
            now=now,
        )
    if str(fields["email"]).endswith("@" + NO_EMAIL_DOMAIN):
        await q.skip_mail(conn, created["id"])
    if at.session_id is not None:
        await registration_q.insert_sessions(conn, created["id"], [at.session_id])
        claimed = await registration_q.claim_session_seats(conn, [at.session_id])
        if not claimed:
            raise EventFull("No seat is left in this session for a walk-in")
    code = await tickets.code_for(conn, created)
    scanned = await checkin.scan(conn, at, ScanIn(code=code, device="walk-in"), now)
    found = await registration_q.registration(conn, created["id"])
    assert found is not None
    out = await registration.render(conn, found, base_url=base_url, with_secret=True)
    return WalkInOut(**msgspec.structs.asdict(out), checkin=scanned)
