"""SQL of online.py: a hybrid event's online shards, join links, joins."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row, rows

#: A hybrid event's online places are shards ONLINE_SHARD .. ONLINE_SHARD + 15.
ONLINE_SHARD = 16


async def insert_online_shards(conn: Connection, event_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO seat_shards (event_id, shard, capacity)"
        " SELECT $1, n::smallint, 0 FROM generate_series(16, 31) AS n ON CONFLICT DO NOTHING",
        event_id,
    )


async def lock_online_shards(conn: Connection, event_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT shard, capacity, confirmed FROM seat_shards WHERE event_id = $1"
            " AND shard >= 16 ORDER BY shard FOR UPDATE",
            event_id,
        )
    )


async def set_online_capacities(conn: Connection, event_id: UUID, capacities: list[int]) -> None:
    await conn.execute(
        "UPDATE seat_shards s SET capacity = t.c FROM unnest($2::int[]) WITH ORDINALITY AS t(c, n)"
        " WHERE s.event_id = $1 AND s.shard = t.n + 15",
        event_id,
        capacities,
    )


async def live_registrations(conn: Connection, event_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM registrations WHERE event_id = $1"
            " AND status NOT IN ('cancelled', 'rejected'))",
            event_id,
        )
    )


async def join_target(conn: Connection, registration_id: UUID) -> Row | None:
    """A registration with what its join link needs of its event."""
    return row(
        await conn.fetchrow(
            "SELECT r.id, r.status, r.attendance, r.locale, r.joined_at, e.id AS event_id,"
            " e.status AS event_status, e.title, e.slug, e.timezone, e.starts_at, e.ends_at,"
            " e.online_url, e.online_reveal_before, e.online_instructions"
            " FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.id = $1",
            registration_id,
        )
    )


async def record_join(conn: Connection, registration_id: UUID, now: datetime) -> None:
    """The first join only: later ones change nothing."""
    await conn.execute(
        "UPDATE registrations SET joined_at = $2 WHERE id = $1 AND joined_at IS NULL",
        registration_id,
        now,
    )


async def move_place(
    conn: Connection,
    registration_id: UUID,
    event_id: UUID,
    shard: int,
    *,
    attendance: str,
    now: datetime,
) -> Row | None:
    """Take a place of `shard` (the other kind's, if it still has one) for a registration and
    make it attend that way, in one statement; None when the shard is full. A waitlisted
    registration moves up (pending if it still needs approval); going online revokes its QR
    ticket (a new ticket version)."""
    return row(
        await conn.fetchrow(
            "WITH seat AS (UPDATE seat_shards SET confirmed = confirmed + 1"
            "   WHERE event_id = $2 AND shard = $3 AND confirmed < capacity RETURNING shard)"
            " UPDATE registrations r SET shard = seat.shard, attendance = $4,"
            " online_place = seat.shard >= 16,"
            " ticket_version = r.ticket_version + CASE WHEN $4 = 'online' THEN 1 ELSE 0 END,"
            " status = CASE WHEN r.status <> 'waitlisted' THEN r.status"
            "   WHEN r.approval_needed THEN 'pending' ELSE 'confirmed' END,"
            " confirmed_at = CASE WHEN r.status = 'waitlisted' AND NOT r.approval_needed"
            "   THEN $5::timestamptz ELSE r.confirmed_at END,"
            " waitlist_order = NULL, updated_at = $5"
            " FROM seat WHERE r.id = $1 RETURNING r.id, r.status",
            registration_id,
            event_id,
            shard,
            attendance,
            now,
        )
    )


async def set_attendance(
    conn: Connection, registration_id: UUID, attendance: str, online_place: bool, now: datetime
) -> None:
    """A registration that holds no place (a screened application) changes how it attends."""
    await conn.execute(
        "UPDATE registrations SET attendance = $2, online_place = $3, updated_at = $4"
        " WHERE id = $1",
        registration_id,
        attendance,
        online_place,
        now,
    )
