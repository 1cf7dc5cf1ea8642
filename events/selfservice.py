"""Attendees help themselves: change a registration until edits close, get their link again.

Changing sessions takes and gives back session seats in one transaction with the
registration's row locked: a seat is taken by the same guarded counter update as at
registration (`confirmed < capacity` in the statement, a CHECK behind it), so any number of
attendees moving into one session at once never overfill it. A change of sessions raises the
registration's `edits`, which the invite adds to its SEQUENCE, and queues an `edited` mail
carrying the new invite.

"Send me my link again" answers the same whether or not the address is registered (no one
learns who registered); if it is, a `resend` mail goes to that address only. Hosts send the
same mail from the console's attendee desk (`resend_ticket`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from events import audit, registration, switching
from events.answers import answer_errors
from events.errors import (
    FieldError,
    InvalidInput,
    InvalidState,
    NotFound,
    RegistrationClosed,
    SessionFull,
)
from events.hosting import Actor
from events.overlaps import check_no_overlap
from events.queries import Connection, Row
from events.queries import registration as registration_q
from events.queries import selfservice as q
from events.queries import withdrawn as withdrawn_q
from events.registration import Answer, Locale, RegistrationOut


class RegistrationPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What an attendee (or a host) may change; anything else is a 422."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    answers: dict[str, Answer] | UnsetType = UNSET
    sessions: Annotated[list[str], Meta(max_length=100)] | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    #: switch between the room and online (hybrid events), when the other kind has room:
    #: otherwise 409 event-full and nothing changes
    attendance: Literal["in_person", "online"] | UnsetType = UNSET


class ResendIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(min_length=3, max_length=254)]


class ResendOut(msgspec.Struct):
    status: str = "accepted"
    detail: str = "If this address is registered for the event, its link is on its way."


def edits_close(event: Row) -> datetime:
    closes: datetime = event["edits_close_at"] or event["starts_at"]
    return closes


async def edit(
    conn: Connection,
    actor: Actor,
    secret: str | None,
    registration_id: str,
    patch: RegistrationPatch,
    *,
    now: datetime,
    base_url: str,
) -> RegistrationOut:
    found, mine = await registration.authorize(conn, actor, secret, registration_id)
    target = await q.edit_target(conn, found["event_id"])
    assert target is not None
    if target["status"] == "cancelled":
        raise RegistrationClosed("The event is cancelled")
    if mine and now >= edits_close(target):
        raise RegistrationClosed(
            "Changes closed at " + edits_close(target).isoformat(),
            closed_at=edits_close(target).isoformat(),
        )
    changes, sessions = _validated(patch, target)
    if sessions is not None:
        await check_no_overlap(conn, sessions)
    async with conn.transaction():
        current = await registration_q.registration(conn, found["id"], lock=True)
        assert current is not None
        if current["status"] == "cancelled":
            raise InvalidState("A cancelled registration cannot be changed")
        switched = patch.attendance is not UNSET and patch.attendance != current["attendance"]
        status = current["status"]
        if switched:  # first: when the other kind has no room, nothing changes
            who: dict[str, Actor] = {} if mine else {"by": actor}
            status = await switching.switch(conn, current, str(patch.attendance), now, **who)
        moved = sessions is not None and set(sessions) != set(current["session_ids"])
        if moved or switched:  # the invite changes (its SEQUENCE adds `edits`)
            changes["edits"] = await q.edits(conn, current["id"]) + 1
        if changes:
            await q.update_registration(conn, current["id"], changes, now=now)
        if moved:  # after `edits`: the cancel of a session taken off carries the new SEQUENCE
            assert sessions is not None
            await _move_sessions(conn, current, sessions, now)
        if "edits" in changes and status == "confirmed":
            await q.queue_mail(conn, "edited", current["id"], changes["edits"], now)
        by = audit.attendee(current) if mine else actor
        logged = {**changes, "sessions": sessions if moved else None}
        if switched:
            logged["attendance"] = patch.attendance
        await _log(conn, by, current, logged, now)
    done = await registration_q.registration(conn, found["id"])
    assert done is not None
    return await registration.render(conn, done, base_url=base_url, with_secret=mine)


async def _log(
    conn: Connection, by: Actor | audit.Who, current: Row, changes: dict[str, Any], now: datetime
) -> None:
    after = {k: v for k, v in changes.items() if k not in ("edits", "sessions")}
    before = dict(current)
    if changes["sessions"] is not None:
        before["sessions"] = [str(s) for s in current["session_ids"]]
        after["sessions"] = [str(s) for s in changes["sessions"]]
    diff = audit.diff(before, after)
    if diff:
        subject = ("registration", current["id"])
        await audit.record(
            conn, by, "registration.updated", subject, diff, event_id=current["event_id"], now=now
        )


def _validated(patch: RegistrationPatch, target: Row) -> tuple[dict[str, Any], list[UUID] | None]:
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    if patch.name is not UNSET:
        name = " ".join(patch.name.split())
        if not name or registration.CONTROL.search(patch.name):
            errors.append(FieldError("name", "must be a name without control characters"))
        changes["name"] = name
    if patch.answers is not UNSET:
        errors += answer_errors(patch.answers, target["questions"])
        changes["answers"] = patch.answers
    if patch.locale is not UNSET:
        changes["locale"] = patch.locale
    sessions: list[UUID] | None = None
    if patch.sessions is not UNSET:
        sessions = []
        known = set(target["session_ids"])
        for i, raw in enumerate(patch.sessions):
            sid = registration._uuid(raw)
            if sid is None or sid not in known:
                errors.append(FieldError(f"sessions.{i}", "is not a session of this event"))
            elif sid not in sessions:
                sessions.append(sid)
    if errors:
        raise InvalidInput(errors)
    return changes, sessions


async def _move_sessions(conn: Connection, current: Row, wanted: list[UUID], now: datetime) -> None:
    """From the sessions held to `wanted`: seats given back and taken (when confirmed); the
    invite's VEVENTs of those given back are cancelled by a mail of their own (withdrawn)."""
    held = list(current["session_ids"])
    removed = [s for s in held if s not in wanted]
    added = [s for s in wanted if s not in held]
    if current["status"] == "confirmed":
        claimed = await take_session_seats(conn, added, removed)
        if len(claimed) != len(added):  # the transaction rolls back: nothing given back either
            full = [str(s) for s in added if s not in claimed]
            raise SessionFull(f"No seat left in {len(full)} chosen session(s)", full=full)
    if removed:
        await withdrawn_q.keep_for_registration(conn, current["id"], removed, now)
        await registration_q.drop_sessions(conn, current["id"], removed)
    if added:
        await registration_q.insert_sessions(conn, current["id"], added)


async def take_session_seats(
    conn: Connection, added: list[UUID], removed: list[UUID]
) -> list[UUID]:
    """Seats of `removed` given back, one taken in each of `added` that has one left (the
    guarded counter, in one statement); the `added` sessions taken."""
    return await q.move_session_seats(conn, added, removed)


# --- "send me my link again" ----------------------------------------------------------------


def resendable(event: Row | None) -> Row:
    if event is None or event["status"] == "draft":
        raise NotFound("No such event")
    return event


async def resend(conn: Connection, event: Row, email: str, *, now: datetime) -> bool:
    """Queue the ticket link for `email` if it is registered (live) for `event`; whether it was.

    The caller answers the same either way."""
    found = await q.live_registration_by_email(conn, event["id"], email.strip())
    if found is None:
        return False
    await q.queue_resend(conn, found, now)
    return True


async def resend_ticket(conn: Connection, registration: Row, by: Actor, *, now: datetime) -> bool:
    """A host sends a live registration its ticket link again (the same `resend` mail), and
    the log says who did (`registration.ticket_resent`); False for a cancelled or rejected
    one, which has no ticket to send."""
    if registration["status"] in ("cancelled", "rejected"):
        return False
    await q.queue_resend(conn, registration["id"], now)
    subject = ("registration", registration["id"])
    event_id = registration["event_id"]
    await audit.record(conn, by, "registration.ticket_resent", subject, event_id=event_id, now=now)
    return True


async def session_seats_left(conn: Connection, event_id: UUID) -> dict[str, int | None]:
    """Seats left in each session of the event, by id (None: no limit)."""
    return {
        str(s["id"]): None if s["capacity"] is None else max(s["capacity"] - s["confirmed"], 0)
        for s in await q.session_seats(conn, event_id)
    }
