"""SQL of door_kit.py, walkins.py and badges.py: the kit per door, counts per scope,
walk-ins, and the registrations a badge run prints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def kit_registrations(conn: Connection, event_id: UUID, scope: UUID) -> list[Row]:
    """Every registration of the event that ever had a ticket, with its check-in at `scope`
    (the event, or a session door's session)."""
    return rows(
        await conn.fetch(
            "SELECT r.seq, r.name, r.chinese_name, r.search_key, r.status, r.ticket_version,"
            " r.attendance,"
            " coalesce((SELECT array_agg(rs.session_id ORDER BY rs.session_id)"
            "   FROM registration_sessions rs WHERE rs.registration_id = r.id), '{}')"
            "   AS session_ids, c.checked_in_at, c.door, c.inside"
            " FROM registrations r LEFT JOIN checkins c ON c.registration_id = r.id"
            "  AND c.scope = $2 AND c.undone_at IS NULL"
            " WHERE r.event_id = $1 AND r.confirmed_at IS NOT NULL ORDER BY r.seq",
            event_id,
            scope,
        )
    )


async def scope_counts(conn: Connection, event_id: UUID, scope: UUID) -> tuple[int, int]:
    """Confirmed registrations checked in at `scope`, and how many of them are inside."""
    record = await conn.fetchrow(
        "SELECT count(*) AS checked_in, count(*) FILTER (WHERE c.inside) AS inside"
        " FROM checkins c JOIN registrations r ON r.id = c.registration_id"
        " WHERE c.event_id = $1 AND c.scope = $2 AND c.undone_at IS NULL"
        " AND r.status = 'confirmed'",
        event_id,
        scope,
    )
    assert record is not None
    return int(record["checked_in"]), int(record["inside"])


async def session_title(conn: Connection, session_id: UUID) -> str | None:
    value: str | None = await conn.fetchval("SELECT title FROM sessions WHERE id = $1", session_id)
    return value


async def session_registered(conn: Connection, session_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM registration_sessions rs"
            " JOIN registrations r ON r.id = rs.registration_id"
            " WHERE rs.session_id = $1 AND r.status = 'confirmed'",
            session_id,
        )
    )


async def mark_walk_in(conn: Connection, registration_id: UUID) -> None:
    await conn.execute("UPDATE registrations SET walk_in = true WHERE id = $1", registration_id)


async def skip_mail(conn: Connection, registration_id: UUID) -> None:
    """A walk-in without an email: its queued confirmation is not sent."""
    await conn.execute(
        "UPDATE mail_outbox SET status = 'superseded'"
        " WHERE registration_id = $1 AND status = 'pending'",
        registration_id,
    )


_BADGE = (
    "SELECT r.id, r.seq, r.event_id, r.name, r.email, r.status, r.ticket_version,"
    " r.answers, r.walk_in, to_jsonb(r) AS everything,"
    " (SELECT c.checked_in_at FROM checkins c WHERE c.registration_id = r.id"
    "   AND c.scope = r.event_id AND c.undone_at IS NULL) AS checked_in_at"
    " FROM registrations r"
)


async def badge_registration(conn: Connection, registration_id: UUID) -> Row | None:
    return row(await conn.fetchrow(_BADGE + " WHERE r.id = $1", registration_id))


async def badge_registrations(
    conn: Connection, event_id: UUID, statuses: list[str], *, after: int = 0, batch: int = 200
) -> AsyncIterator[list[Row]]:
    """The event's registrations in `statuses`, in creation order, `batch` at a time (so a
    whole event's badges never hold every row at once)."""
    while True:
        found = rows(
            await conn.fetch(
                _BADGE + " WHERE r.event_id = $1 AND r.status = ANY($2)"
                " AND r.seq > $3 ORDER BY r.seq LIMIT $4",
                event_id,
                statuses,
                after,
                batch,
            )
        )
        if not found:
            return
        yield found
        after = int(found[-1]["seq"])


async def badge_part_starts(
    conn: Connection, event_id: UUID, statuses: list[str], part: int
) -> list[int]:
    """Where each document of `part` badges starts (badge_registrations' `after`): 0, then
    the registration number of every `part`-th registration in `statuses` but the last."""
    found = await conn.fetch(
        "SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n,"
        "   count(*) OVER () AS total FROM registrations"
        "   WHERE event_id = $1 AND status = ANY($2)) numbered"
        " WHERE n % $3 = 0 AND n < total ORDER BY seq",
        event_id,
        statuses,
        part,
    )
    return [0, *(int(r["seq"]) for r in found)]
