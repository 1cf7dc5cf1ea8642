"""Seats of an event for one registration: take one, give one back (to the waitlist).

Every way of holding a seat (registering, a held pending application, approving, moving up
from the waitlist) goes through the same shard counters (registration.py explains them), so
`CHECK (confirmed <= capacity)` on every shard keeps each kind exact together. A seat is
taken by one conditional statement per shard, re-checked under the shard's row lock, so
concurrent takers never overbook and never miss a seat that was free when they looked.
"""

from __future__ import annotations

import time
from datetime import datetime
from uuid import UUID

from events import audit
from events.errors import CapacityBelowConfirmed, SessionFull
from events.hosting import Actor
from events.lru import LruCache
from events.queries import Connection, Row
from events.queries import registration as registration_q
from events.queries import seats as q
from events.queries.online import ONLINE_SHARD

#: How long a refusal may rest on this process's last look at a full event (one with no
#: waitlist): a surge's refusals past the last seat then read nothing. A seat given back in
#: this process is seen at once (free_seat forgets); one given back by another process, within
#: this many seconds.
FULL_FOR = 0.05
_full: LruCache[tuple[UUID, bool], tuple[int, float]] = LruCache(1024)


def known_full(event_id: UUID, online: bool, version: int) -> bool:
    """Whether this process found the kind full at this version less than FULL_FOR ago."""
    seen = _full.get((event_id, online))
    return seen is not None and seen[0] == version and time.monotonic() - seen[1] < FULL_FOR


def note_full(event_id: UUID, online: bool, version: int) -> None:
    _full.put((event_id, online), (version, time.monotonic()))


async def take_seat(conn: Connection, registration: Row, *, status: str, now: datetime) -> bool:
    """Give `registration` a seat of its event with `status` (confirmed, or pending: held);
    False when every seat is taken. Run it inside the caller's transaction."""
    pool = bool(registration.get("online_place"))
    for shard in await q.free_shards(conn, registration["event_id"], online=pool):
        seated = await q.seat_registration(
            conn, registration["id"], registration["event_id"], shard, status=status, now=now
        )
        if seated is not None:
            return True
    return False


async def free_seat(
    conn: Connection, event_id: UUID, shard: int, now: datetime, by: Actor | audit.Who
) -> None:
    """Give back a seat of `shard` (its holder already left it): the head of the waitlist
    takes that very seat, in the caller's transaction (`by` made it free, for the log)."""
    await registration_q.release_seat(conn, event_id, shard)
    pool = shard >= ONLINE_SHARD  # a hybrid event's online place goes to its online waitlist
    _full.discard((event_id, pool))
    for head in await registration_q.waitlist_head(conn, event_id, 1, online=pool):
        await move_up(conn, head, event_id, shard, now, by)


async def move_up(
    conn: Connection,
    registration_id: UUID,
    event_id: UUID,
    shard: int,
    now: datetime,
    by: Actor | audit.Who,
) -> None:
    """`seat_waitlisted`, logged as registration.promoted (to confirmed, or to pending)."""
    status = await seat_waitlisted(conn, registration_id, event_id, shard, now)
    await audit.record(
        conn,
        by,
        "registration.promoted",
        ("registration", registration_id),
        {"status": ["waitlisted", status]},
        event_id=event_id,
        now=now,
    )


async def seat_waitlisted(
    conn: Connection, registration_id: UUID, event_id: UUID, shard: int, now: datetime
) -> str:
    """Move a waitlisted registration into a seat of `shard` (locked by the caller): it is
    confirmed (its sessions claimed where they have room), or pending if not yet approved."""
    status = await q.seat_waitlisted(conn, registration_id, event_id, shard, now)
    if status == "confirmed":
        await claim_sessions(conn, registration_id)
    return status


async def claim_sessions(conn: Connection, registration_id: UUID) -> None:
    """A registration just confirmed takes a seat in each session it chose that has one;
    sessions full by now are dropped from it."""
    found = await registration_q.registration(conn, registration_id)
    assert found is not None
    wanted = list(found["session_ids"])
    if wanted:
        claimed = await registration_q.claim_session_seats(conn, wanted)
        await registration_q.drop_sessions(
            conn, registration_id, [s for s in wanted if s not in claimed]
        )


async def attach_sessions(conn: Connection, created: Row, sessions: list[UUID]) -> None:
    """Record the sessions a new registration chose; a confirmed one takes their seats now
    (all or nothing: SessionFull rolls the registration back)."""
    await registration_q.insert_sessions(conn, created["id"], sessions)
    if created["status"] == "confirmed":
        claimed = await registration_q.claim_session_seats(conn, sessions)
        if len(claimed) != len(sessions):
            raise SessionFull(full=[str(s) for s in sessions if s not in claimed])


async def fill_free_seats(
    conn: Connection, event_id: UUID, now: datetime, *, online: bool = False
) -> int:
    """Give every free seat (in the room, or a hybrid event's online places) to its waitlist,
    in order; returns how many were promoted."""
    async with conn.transaction():
        shards = await registration_q.lock_shards(conn, event_id, online=online)
        room = min(sum(s["capacity"] - s["confirmed"] for s in shards), 1_000_000)
        heads = (
            await registration_q.waitlist_head(conn, event_id, room, online=online) if room else []
        )
        free = (s["shard"] for s in shards for _ in range(s["capacity"] - s["confirmed"]))
        for head, shard in zip(heads, free, strict=False):
            await move_up(conn, head, event_id, shard, now, audit.system("waitlist"))
    return len(heads)


# --- capacity ------------------------------------------------------------------------------


def split(capacity: int, shards: int = registration_q.SHARDS) -> list[int]:
    base, extra = divmod(capacity, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


async def open_capacity(conn: Connection, event_id: UUID, capacity: int) -> None:
    await registration_q.insert_shards(conn, event_id, split(capacity))


async def change_capacity(conn: Connection, event: Row, capacity: int, now: datetime) -> None:
    shards = await registration_q.lock_shards(conn, event["id"])
    confirmed = [s["confirmed"] for s in shards]
    if capacity < sum(confirmed):
        raise CapacityBelowConfirmed(
            f"{sum(confirmed)} registrations are confirmed", confirmed=sum(confirmed)
        )
    free = split(capacity - sum(confirmed), len(shards))
    await registration_q.set_shard_capacities(
        conn, event["id"], [c + f for c, f in zip(confirmed, free, strict=True)]
    )
    await fill_free_seats(conn, event["id"], now)


async def change_session_capacity(conn: Connection, session: Row, capacity: int | None) -> None:
    confirmed = await registration_q.session_confirmed(conn, session["id"])
    if capacity is not None and capacity < confirmed:
        raise CapacityBelowConfirmed(
            f"{confirmed} registrations hold this session", confirmed=confirmed
        )
