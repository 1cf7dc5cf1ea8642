"""Approval: hosts approve or reject pending registrations, one at a time or many at once.

An event's `approval` is "none", "hold" or "screen" (access.py stores the applications):
- hold: a pending registration holds a seat, so approving it only confirms it;
- screen: it holds nothing, so approving takes a seat at that moment (seats.py); with none
  left it joins the waitlist if the event has one, else the approve is refused (event-full)
  and the registration stays pending.
Rejecting frees a held seat for the head of the waitlist. Each decision is one transaction
with the registration's row locked, so concurrent decisions on one registration are
serialised and the seat counters keep capacity exact under any number of approvers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from events import audit, seats
from events.errors import DomainError, EventFull, InvalidInput, InvalidState, NotFound
from events.hosting import Actor
from events.queries import Connection, Row
from events.queries import approval as q
from events.queries import registration as registration_q

Reason = Annotated[str, Meta(max_length=2000)]
MAX_DECISIONS = 500


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class DecideIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: list[str] = []
    reject: list[str] = []
    reason: Reason | None = None


class Decision(msgspec.Struct, omit_defaults=True):
    id: str
    status: str | None = None
    error: str | None = None


class DecideOut(msgspec.Struct):
    results: list[Decision]


async def approve(
    conn: Connection, registration_id: UUID, now: datetime, actor: Actor | audit.Who
) -> Row:
    async with conn.transaction():
        current = await _pending(conn, registration_id, "approved")
        await q.mark_approved(conn, registration_id, now)
        if current["shard"] is not None:
            await q.confirm_held(conn, registration_id, now)
            await seats.claim_sessions(conn, registration_id)
        elif await seats.take_seat(conn, current, status="confirmed", now=now):
            await seats.claim_sessions(conn, registration_id)
        elif await q.has_waitlist(conn, current["event_id"]):
            await q.to_waitlist(conn, registration_id, now)
        else:
            raise EventFull("No seat is left for this registration; it stays pending")
        done = await _read(conn, registration_id)
        await _log(conn, actor, "registration.approved", done, now)
    return done


async def reject(
    conn: Connection,
    registration_id: UUID,
    reason: str | None,
    now: datetime,
    actor: Actor | audit.Who,
) -> Row:
    async with conn.transaction():
        current = await _pending(conn, registration_id, "rejected")
        await q.set_rejected(conn, registration_id, (reason or "").strip() or None, now)
        done = await _read(conn, registration_id)
        await _log(conn, actor, "registration.rejected", done, now)
        if current["shard"] is not None:  # a held seat goes to the head of the waitlist
            await seats.free_seat(conn, current["event_id"], current["shard"], now, actor)
    return done


async def _log(
    conn: Connection, actor: Actor | audit.Who, action: str, r: Row, now: datetime
) -> None:
    changes: dict[str, list[str | None]] = {"status": ["pending", r["status"]]}
    if r["rejection_reason"]:
        changes["rejection_reason"] = [None, r["rejection_reason"]]
    await audit.record(
        conn, actor, action, ("registration", r["id"]), changes, event_id=r["event_id"], now=now
    )


async def decide(
    conn: Connection, event: Row, data: DecideIn, now: datetime, actor: Actor | audit.Who
) -> DecideOut:
    """Every decision on its own (one failing does not undo the others), in the order given:
    the approvals, then the rejections."""
    if len(data.approve) + len(data.reject) > MAX_DECISIONS:
        raise InvalidInput.one("approve", f"at most {MAX_DECISIONS} ids in all")
    results = []
    for action, ids in (("approve", data.approve), ("reject", data.reject)):
        for raw in ids:
            decision = await _decide_one(conn, event, raw, (action, data.reason), now, actor)
            results.append(decision)
    return DecideOut(results)


async def _decide_one(
    conn: Connection,
    event: Row,
    raw: str,
    what: tuple[str, str | None],
    now: datetime,
    actor: Actor | audit.Who,
) -> Decision:
    action, reason = what
    try:
        registration_id = UUID(raw)
    except ValueError:
        return Decision(raw, error=NotFound.code)
    found = await registration_q.registration(conn, registration_id)
    if found is None or found["event_id"] != event["id"]:
        return Decision(raw, error=NotFound.code)
    try:
        if action == "approve":
            done = await approve(conn, registration_id, now, actor)
        else:
            done = await reject(conn, registration_id, reason, now, actor)
    except DomainError as exc:
        return Decision(raw, error=exc.code)
    return Decision(raw, status=done["status"])


async def _pending(conn: Connection, registration_id: UUID, verb: str) -> Row:
    current = await registration_q.registration(conn, registration_id, lock=True)
    if current is None:
        raise NotFound("No such registration")
    if current["status"] != "pending":
        raise InvalidState(
            f"Only a pending registration can be {verb}; this one is {current['status']}"
        )
    return current


async def _read(conn: Connection, registration_id: UUID) -> Row:
    found = await registration_q.registration(conn, registration_id)
    assert found is not None
    return found
