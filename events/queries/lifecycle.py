"""SQL of lifecycle.py: deleting and shifting sessions, unpublishing, duplicating."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from events.queries import Connection


async def session_holders(conn: Connection, session_id: UUID) -> int:
    """Live (not cancelled) registrations that hold the session."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM registration_sessions rs JOIN registrations r"
            " ON r.id = rs.registration_id WHERE rs.session_id = $1 AND r.status <> 'cancelled'",
            session_id,
        )
    )


async def session_checkins(conn: Connection, session_id: UUID) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM checkins WHERE session_id = $1", session_id)
    )


async def delete_session(conn: Connection, session_id: UUID) -> None:
    """The session and every registration's hold on it (its seat counter goes with it)."""
    await conn.execute("DELETE FROM registration_sessions WHERE session_id = $1", session_id)
    await conn.execute("DELETE FROM sessions WHERE id = $1", session_id)


async def shift_sessions(conn: Connection, event_id: UUID, delta: timedelta) -> int:
    """Move every session of the event by `delta`; returns how many moved."""
    done = await conn.execute(
        "UPDATE sessions SET starts_at = starts_at + $2, ends_at = ends_at + $2"
        " WHERE event_id = $1",
        event_id,
        delta,
    )
    return int(done.split()[-1])


async def sessions_outside(
    conn: Connection, event_id: UUID, starts_at: datetime, ends_at: datetime
) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM sessions WHERE event_id = $1"
            " AND (starts_at < $2 OR ends_at > $3)",
            event_id,
            starts_at,
            ends_at,
        )
    )


async def live_registrations(conn: Connection, event_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status <> 'cancelled'",
            event_id,
        )
    )


async def unpublish(conn: Connection, event_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE events SET status = 'draft', published_at = NULL, updated_at = $2"
        " WHERE id = $1 AND status = 'published'",
        event_id,
        now,
    )
