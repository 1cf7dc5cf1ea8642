"""SQL of checkin.py: scans, offline-scan nonces, undo, the kit, door search, stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def scan(
    conn: Connection,
    event_id: UUID,
    registration_seq: int,
    *,
    ticket_version: int,
    session_id: UUID | None,
    checkin: dict[str, Any],
) -> Row | None:
    """The whole check-in of one verified ticket, in one statement.

    Reads the registration, and when it may enter (confirmed, this ticket version, holding
    `session_id` if given, event not cancelled) inserts the check-in proposed in `checkin`
    (id, checked_in_at, recorded_at, device, token_id, nonce). The unique index on live
    check-ins decides between concurrent scans: the loser's no-op update returns the first
    check-in, so `checkin_id` equals the proposed id only for the scan that got in.
    None: no such registration in this event.
    """
    return row(
        await conn.fetchrow(
            "WITH r AS ("
            " SELECT r.id, r.name, r.status, r.ticket_version, e.status AS event_status,"
            "  e.timezone, ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM registration_sessions rs"
            "   WHERE rs.registration_id = r.id AND rs.session_id = $4)) AS holds_session"
            " FROM registrations r JOIN events e ON e.id = r.event_id"
            " WHERE r.seq = $2 AND r.event_id = $1"
            "), c AS ("
            " INSERT INTO checkins (id, event_id, registration_id, session_id, scope,"
            "  checked_in_at, recorded_at, device, token_id, nonce)"
            " SELECT $5, $1, r.id, $4, coalesce($4, $1), $6, $7, $8, $9, $10 FROM r"
            " WHERE r.status = 'confirmed' AND r.event_status <> 'cancelled'"
            "  AND r.ticket_version = $3 AND r.holds_session"
            " ON CONFLICT (registration_id, scope) WHERE undone_at IS NULL"
            " DO UPDATE SET checked_in_at = checkins.checked_in_at"
            " RETURNING id, checked_in_at"
            ")"
            " SELECT r.*, c.id AS checkin_id, c.checked_in_at FROM r LEFT JOIN c ON true",
            event_id,
            registration_seq,
            ticket_version,
            session_id,
            checkin["id"],
            checkin["checked_in_at"],
            checkin["recorded_at"],
            checkin["device"],
            checkin["token_id"],
            checkin["nonce"],
        )
    )


async def claim_nonces(
    conn: Connection, event_id: UUID, nonces: list[str], now: datetime
) -> list[str]:
    """Record new nonces (in sorted order, so concurrent uploads never deadlock); returns
    the ones that were new. A nonce being recorded by another upload waits for it."""
    return [
        r["nonce"]
        for r in await conn.fetch(
            "INSERT INTO checkin_nonces (event_id, nonce, created_at)"
            " SELECT $1, n, $3 FROM unnest($2::text[]) AS n ORDER BY n"
            " ON CONFLICT (event_id, nonce) DO NOTHING RETURNING nonce",
            event_id,
            sorted(nonces),
            now,
        )
    ]


async def nonce_results(conn: Connection, event_id: UUID, nonces: list[str]) -> dict[str, Any]:
    return {
        r["nonce"]: r["result"]
        for r in await conn.fetch(
            "SELECT nonce, result FROM checkin_nonces WHERE event_id = $1 AND nonce = ANY($2)",
            event_id,
            nonces,
        )
    }


async def store_nonce_results(conn: Connection, event_id: UUID, results: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE checkin_nonces SET result = $2::jsonb -> nonce"
        " WHERE event_id = $1 AND nonce = ANY($3)",
        event_id,
        results,
        list(results),
    )


_CHECKIN = (
    "SELECT c.id, c.seq, c.registration_id, r.name, c.session_id, c.checked_in_at,"
    " c.recorded_at, c.device, c.undone_at, p.slug AS undone_by"
    " FROM checkins c JOIN registrations r ON r.id = c.registration_id"
    " LEFT JOIN partners p ON p.id = c.undone_by"
)


async def undo(
    conn: Connection,
    event_id: UUID,
    registration_id: UUID,
    *,
    session_id: UUID | None,
    partner_id: UUID,
    now: datetime,
) -> UUID | None:
    """Mark the live check-in undone (it stays, recorded); None if there is none."""
    value: UUID | None = await conn.fetchval(
        "UPDATE checkins SET undone_at = $4, undone_by = $5"
        " WHERE event_id = $1 AND registration_id = $2 AND scope = coalesce($3, $1)"
        " AND undone_at IS NULL RETURNING id",
        event_id,
        registration_id,
        session_id,
        now,
        partner_id,
    )
    return value


async def checkin(conn: Connection, checkin_id: UUID) -> Row | None:
    return row(await conn.fetchrow(_CHECKIN + " WHERE c.id = $1", checkin_id))


async def checkins(conn: Connection, event_id: UUID, *, after_seq: int, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            _CHECKIN + " WHERE c.event_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3",
            event_id,
            after_seq,
            limit,
        )
    )


async def kit_registrations(conn: Connection, event_id: UUID) -> list[Row]:
    """Every registration of the event that ever had a ticket, with what a door shows."""
    return rows(
        await conn.fetch(
            "SELECT r.seq, r.name, r.status, r.ticket_version, r.attendance,"
            " coalesce((SELECT array_agg(rs.session_id ORDER BY rs.session_id)"
            "   FROM registration_sessions rs WHERE rs.registration_id = r.id), '{}')"
            "   AS session_ids,"
            " (SELECT c.checked_in_at FROM checkins c WHERE c.registration_id = r.id"
            "   AND c.scope = r.event_id AND c.undone_at IS NULL) AS checked_in_at"
            " FROM registrations r WHERE r.event_id = $1 AND r.confirmed_at IS NOT NULL"
            " ORDER BY r.seq",
            event_id,
        )
    )


async def attendees(
    conn: Connection, event_id: UUID, *, q: str | None, after_seq: int, limit: int
) -> list[Row]:
    """Registrations matching `q` (a case-insensitive substring of name or email)."""
    return rows(
        await conn.fetch(
            "SELECT r.id, r.seq, r.event_id, r.name, r.email, r.status, r.ticket_version,"
            " r.attendance, r.joined_at,"
            " (SELECT c.checked_in_at FROM checkins c WHERE c.registration_id = r.id"
            "   AND c.scope = r.event_id AND c.undone_at IS NULL) AS checked_in_at"
            " FROM registrations r WHERE r.event_id = $1"
            " AND ($2::text IS NULL OR strpos(lower(r.name), lower($2)) > 0"
            "      OR strpos(lower(r.email), lower($2)) > 0)"
            " AND r.seq > $3 ORDER BY r.seq LIMIT $4",
            event_id,
            q,
            after_seq,
            limit,
        )
    )


async def checked_in_count(conn: Connection, event_id: UUID) -> int:
    """Confirmed registrations checked in at the event's door."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM checkins c JOIN registrations r ON r.id = c.registration_id"
            " WHERE c.event_id = $1 AND c.scope = $1 AND c.undone_at IS NULL"
            " AND r.status = 'confirmed'",
            event_id,
        )
    )
