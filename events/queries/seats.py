"""SQL of seats.py: taking and giving back a seat of an event's shards for a registration."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row


async def free_shards(conn: Connection, event_id: UUID, *, online: bool = False) -> list[int]:
    """The shards with a free seat now (in the room, or a hybrid event's online places), in
    random order (spreads concurrent takers)."""
    return [
        r["shard"]
        for r in await conn.fetch(
            "SELECT shard FROM seat_shards WHERE event_id = $1 AND confirmed < capacity"
            " AND (shard >= 16) = $2 ORDER BY random()",
            event_id,
            online,
        )
    ]


async def seat_registration(
    conn: Connection,
    registration_id: UUID,
    event_id: UUID,
    shard: int,
    *,
    status: str,
    now: datetime,
) -> Row | None:
    """Take a seat of `shard` (if it still has one) for a registration and give it `status`
    (confirmed, or pending while held), in one statement; None when the shard is full."""
    return row(
        await conn.fetchrow(
            "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
            "   WHERE event_id = $2 AND shard = $3 AND confirmed < capacity RETURNING shard)"
            " UPDATE registrations r SET status = $4, shard = seat.shard, waitlist_order = NULL,"
            " confirmed_at = CASE WHEN $4 = 'confirmed' THEN $5::timestamptz END, updated_at = $5"
            " FROM seat WHERE r.id = $1 RETURNING r.id, r.status, r.shard",
            registration_id,
            event_id,
            shard,
            status,
            now,
        )
    )


async def seat_waitlisted(
    conn: Connection, registration_id: UUID, event_id: UUID, shard: int, now: datetime
) -> str:
    """Give a waitlisted registration a seat of `shard` (whose row the caller has locked):
    confirmed, or pending (holding it) while it still needs a host's approval."""
    status: str = await conn.fetchval(
        "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
        "   WHERE event_id = $2 AND shard = $3 RETURNING shard)"
        " UPDATE registrations SET"
        " status = CASE WHEN approval_needed THEN 'pending' ELSE 'confirmed' END,"
        " shard = (SELECT shard FROM seat), waitlist_order = NULL,"
        " confirmed_at = CASE WHEN approval_needed THEN NULL ELSE $4::timestamptz END,"
        " updated_at = $4 WHERE id = $1 RETURNING status",
        registration_id,
        event_id,
        shard,
        now,
    )
    return status
