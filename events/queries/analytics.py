"""SQL of analytics.py: the numbers of an event's dashboard, each one statement."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from events.queries import Connection, Row, rows


async def status_counts(conn: Connection, event_id: UUID) -> dict[str, int]:
    """Registrations by status (every status there is, so new ones appear by themselves)."""
    return {
        r["status"]: int(r["n"])
        for r in await conn.fetch(
            "SELECT status, count(*) AS n FROM registrations WHERE event_id = $1 GROUP BY status",
            event_id,
        )
    }


async def registrations_over_time(
    conn: Connection, event_id: UUID, *, step: timedelta, origin: datetime
) -> list[Row]:
    """Registrations made in each bucket of `step` (an interval) from `origin`, by the
    status they have now."""
    return rows(
        await conn.fetch(
            "SELECT date_bin($2::interval, created_at, $3) AS bucket, status, count(*) AS n"
            " FROM registrations WHERE event_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
            event_id,
            step,
            origin,
        )
    )


async def registration_span(conn: Connection, event_id: UUID) -> Row:
    record = await conn.fetchrow(
        "SELECT min(created_at) AS first, max(created_at) AS last FROM registrations"
        " WHERE event_id = $1",
        event_id,
    )
    assert record is not None
    return dict(record)


async def arrivals(conn: Connection, event_id: UUID, *, origin: datetime) -> list[Row]:
    """Live check-ins at the event's door (of confirmed registrations, as stats counts them)
    per five minutes, by door: the door token's label, else the device, else ''."""
    return rows(
        await conn.fetch(
            "SELECT date_bin('5 minutes', c.checked_in_at, $2) AS bucket,"
            " coalesce(nullif(t.label, ''), nullif(c.device, ''), '') AS door, count(*) AS n"
            " FROM checkins c JOIN registrations r ON r.id = c.registration_id"
            " LEFT JOIN api_tokens t ON t.id = c.token_id"
            " WHERE c.event_id = $1 AND c.scope = $1 AND c.undone_at IS NULL"
            " AND r.status = 'confirmed'"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            event_id,
            origin,
        )
    )


async def session_fill(conn: Connection, event_id: UUID) -> list[Row]:
    """Each session with its seats and how many live registrations hold it."""
    return rows(
        await conn.fetch(
            "SELECT s.id, s.title, s.starts_at, s.ends_at, s.room, s.capacity,"
            " (SELECT count(*) FROM registration_sessions rs JOIN registrations r"
            "   ON r.id = rs.registration_id WHERE rs.session_id = s.id"
            "   AND r.status = 'confirmed') AS confirmed,"
            " (SELECT count(*) FROM registration_sessions rs JOIN registrations r"
            "   ON r.id = rs.registration_id WHERE rs.session_id = s.id"
            "   AND r.status = 'waitlisted') AS waitlisted"
            " FROM sessions s WHERE s.event_id = $1 ORDER BY s.seq",
            event_id,
        )
    )


async def waitlist_flow(conn: Connection, event_id: UUID) -> Row:
    """Who ever waited: promoted (confirmed later than made), still waiting, and those who
    left the waitlist cancelled without ever having a seat."""
    record = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE confirmed_at > created_at) AS promoted,"
        " count(*) FILTER (WHERE status = 'waitlisted') AS waiting,"
        " count(*) FILTER (WHERE status = 'cancelled' AND confirmed_at IS NULL) AS left_queue"
        " FROM registrations WHERE event_id = $1",
        event_id,
    )
    assert record is not None
    return {k: int(v) for k, v in dict(record).items()}
