"""The console's attendee desk: one table of an event's registrations (filtered, searched,
with check-in time and door, answers and sessions) and the actions a person at a busy desk
takes on one attendee or on a selection.

Every action is the API's own domain call (cancel, promote, scan, undo, and the ticket mail
that "send me my link again" sends), so the rules (seats, waitlist, mails) are the same; a selection is done one attendee at a time, each in
its own transaction, and what could not be done is counted, never half-done.
Moving an attendee to another session takes a seat of that session in the same statement
that gives back the old one (queries.desk.swap_session), so session seats stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from events import audit, checkin, registration, selfservice, tickets
from events.checkin import Door
from events.checkin_types import ScanIn, UndoIn
from events.errors import DomainError, InvalidInput, SessionFull
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import desk as q
from events.queries import registration as registration_q

Action = Literal["cancel", "promote", "check_in", "undo_check_in", "move", "resend"]
ACTIONS: tuple[Action, ...] = ("cancel", "promote", "check_in", "undo_check_in", "move", "resend")
STATUSES = ("confirmed", "waitlisted", "pending", "rejected", "cancelled")
MAX_SELECTION = 500
HAND_DEVICE = "console"


@dataclass(slots=True)
class Filters:
    status: str | None = None
    q: str | None = None
    session_id: UUID | None = None
    checked_in: bool | None = None
    question: str | None = None
    answer: str | None = None

    def as_query(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "q": self.q,
            "session_id": self.session_id,
            "checked_in": self.checked_in,
            "question": self.question if self.answer else None,
            "answer": self.answer,
        }


@dataclass(slots=True)
class Outcome:
    """How many of the selection the action was done to, and why the others were not."""

    done: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, code: str) -> None:
        self.skipped[code] = self.skipped.get(code, 0) + 1


async def table(
    conn: Connection,
    event: Row,
    filters: Filters,
    page: PageRequest,
    *,
    reader: Actor | audit.Who,
    now: datetime,
) -> Page[Row]:
    """A page of the attendee table; reading it is logged (`registrations.listed`)."""
    if filters.status is not None and filters.status not in STATUSES:
        raise InvalidInput.one("status", "is not a status")
    query = filters.as_query()
    found = await q.attendees(
        conn, event["id"], query, after_seq=page.after_seq, limit=page.limit + 1
    )
    shown = {k: v for k, v in query.items() if v is not None}
    await audit.record(
        conn,
        reader,
        "registrations.listed",
        ("event", event["id"]),
        {k: [None, str(v)] for k, v in {**shown, "count": len(found[: page.limit])}.items()},
        event_id=event["id"],
        now=now,
    )
    return page_of(found, [r["seq"] for r in found], page.limit)


async def act(
    conn: Connection,
    event: Row,
    actor: Actor,
    action: Action,
    ids: list[UUID],
    *,
    now: datetime,
    move: tuple[UUID, UUID] | None = None,
) -> Outcome:
    """Do `action` to each registration of `ids` (of this event) in its own transaction."""
    if action not in ACTIONS:
        raise InvalidInput.one("action", "is not an action")
    if len(ids) > MAX_SELECTION:
        raise InvalidInput.one("ids", f"at most {MAX_SELECTION} at once")
    if action == "move":
        known = {s["id"] for s in await catalog_q.sessions_of(conn, [event["id"]])}
        if move is None or move[0] == move[1] or not set(move) <= known:
            raise InvalidInput.one("to_session", "choose two different sessions of the event")
    outcome = Outcome()
    chosen = await q.of_event(conn, event["id"], ids)
    for _ in range(len(ids) - len(chosen)):
        outcome.skip("not-found")
    for r in chosen:
        try:
            async with conn.transaction():
                done = await _one(conn, event, actor, action, r, now=now, move=move)
        except DomainError as exc:
            outcome.skip(exc.code)
            continue
        if done:
            outcome.done += 1
        else:
            outcome.skip("invalid-state")
    return outcome


async def _one(
    conn: Connection,
    event: Row,
    actor: Actor,
    action: Action,
    r: Row,
    *,
    now: datetime,
    move: tuple[UUID, UUID] | None,
) -> bool:
    if action == "cancel":
        if r["status"] == "cancelled":
            return False
        full = await registration_q.registration(conn, r["id"])
        assert full is not None
        await registration.cancel(conn, full, by="host", now=now, actor=actor)
    elif action == "promote":
        full = await registration_q.registration(conn, r["id"])
        assert full is not None
        await registration.promote(conn, full, now, actor)
    elif action == "check_in":
        if r["attendance"] == "online":  # no seat in the room: their join link checks them in
            return False
        code = await tickets.code_for(conn, r)
        at = Door(event["id"], None, event, actor)
        await checkin.scan(conn, at, ScanIn(code=code, device=HAND_DEVICE), now)
    elif action == "undo_check_in":
        await checkin.undo(conn, event, actor, UndoIn(str(r["id"])), now)
    elif action == "resend":
        return await selfservice.resend_ticket(conn, r, actor, now=now)
    else:
        assert move is not None
        return await _move(conn, r, actor, move, now=now)
    return True


async def _move(
    conn: Connection, r: Row, actor: Actor, move: tuple[UUID, UUID], *, now: datetime
) -> bool:
    from_id, to_id = move
    if r["status"] == "cancelled" or not await q.holds(conn, r["id"], from_id):
        return False
    if await q.holds(conn, r["id"], to_id):
        return False
    seated = r["status"] == "confirmed"
    if not await q.swap_session(conn, r["id"], from_id, to_id, seated=seated):
        raise SessionFull(full=[str(to_id)])
    changes = {"session": [str(from_id), str(to_id)]}
    subject = ("registration", r["id"])
    await audit.record(
        conn, actor, "registration.updated", subject, changes, event_id=r["event_id"], now=now
    )
    return True
