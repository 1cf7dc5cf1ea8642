"""Personal data: a registration's export and its erasure (privacy.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from events import audit, privacy, registration
from events.api.routing import Call, Router

api = Router("personal data")


class PersonalDataOut(msgspec.Struct):
    """Every stored fact about one registration."""

    registration: dict[str, Any]
    event: dict[str, Any]
    sessions: list[dict[str, Any]]
    checkins: list[dict[str, Any]]
    mails: list[dict[str, Any]]
    calendar_replies: list[dict[str, Any]]
    audit: list[dict[str, Any]]


class ErasedOut(msgspec.Struct):
    id: str
    event_id: str
    status: Literal["cancelled"]
    erased: bool
    erased_at: datetime | None


@api.get(
    "/api/v1/registrations/{registration_id}/export",
    "Every stored fact about a registration, as JSON (its access token, or a host);"
    " the reading is logged in the audit log",
    response=PersonalDataOut,
    auth="attendee",
)
async def export(call: Call) -> PersonalDataOut:
    found, mine = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    who = audit.attendee(found) if mine else call.actor
    facts = await privacy.export_logged(
        call.conn, found, who, call.now, base_url=call.settings.base_url
    )
    return msgspec.convert(facts, PersonalDataOut)


@api.post(
    "/api/v1/registrations/{registration_id}/erase",
    "Cancel a registration (its seat goes to the waitlist) and erase its personal data"
    " (its access token, or the event's owner; a co-host is 403). Again: 200, nothing more",
    response=ErasedOut,
    auth="attendee",
)
async def erase(call: Call) -> ErasedOut:
    found, mine = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    await privacy.may_erase(call.conn, call.actor, found, mine)
    who = audit.attendee(found) if mine else call.actor
    await privacy.erase(call.conn, found, who, call.now)
    done = await registration.load(call.conn, found["id"])
    assert done is not None
    return ErasedOut(
        id=str(done["id"]),
        event_id=str(done["event_id"]),
        status="cancelled",
        erased=done["erased_at"] is not None,
        erased_at=done["erased_at"],
    )
