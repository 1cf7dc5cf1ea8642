"""SQL of tickets.py: per-event signing keys, ticket versions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row

_KEY = (
    "SELECT e.id AS event_id, e.seq AS event_seq, k.private_key, k.public_key"
    " FROM events e LEFT JOIN event_keys k ON k.event_id = e.id"
)


async def event_key(conn: Connection, event_id: UUID) -> Row | None:
    """The event (its number) with its key pair, which is NULL until made."""
    return row(await conn.fetchrow(_KEY + " WHERE e.id = $1", event_id))


async def event_key_by_seq(conn: Connection, event_seq: int) -> Row | None:
    return row(
        await conn.fetchrow(_KEY + " WHERE e.seq = $1 AND k.private_key IS NOT NULL", event_seq)
    )


async def insert_event_key(
    conn: Connection, event_id: UUID, private_key: bytes, public_key: bytes
) -> Row | None:
    """Store a new key pair; None if another process stored one first (then read that)."""
    return row(
        await conn.fetchrow(
            "WITH k AS (INSERT INTO event_keys (event_id, private_key, public_key)"
            "   VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING"
            "   RETURNING event_id, private_key, public_key)"
            " SELECT k.event_id, e.seq AS event_seq, k.private_key, k.public_key"
            " FROM k JOIN events e ON e.id = k.event_id",
            event_id,
            private_key,
            public_key,
        )
    )


async def bump_ticket_version(conn: Connection, registration_id: UUID, now: datetime) -> int:
    return int(
        await conn.fetchval(
            "UPDATE registrations SET ticket_version = ticket_version + 1, updated_at = $2"
            " WHERE id = $1 RETURNING ticket_version",
            registration_id,
            now,
        )
    )
