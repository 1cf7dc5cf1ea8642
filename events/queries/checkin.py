"""SQL of checkin.py: scans in and out, offline-scan nonces, undo, history, door search."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.names import fold
from events.queries import Connection, Row, row, rows
from events.queries.audit import AUDIT_COLUMNS
from events.queries.registration import NAME_MATCH

_REGISTRATION = (
    "WITH r AS ("
    " SELECT r.id, r.name, r.status, r.ticket_version, e.status AS event_status,"
    "  e.timezone, ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM registration_sessions rs"
    "   WHERE rs.registration_id = r.id AND rs.session_id = $4)) AS holds_session"
    " FROM registrations r JOIN events e ON e.id = r.event_id"
    " WHERE r.seq = $2 AND r.event_id = $1"
    ")"
)
_OUTCOME = (
    " SELECT r.*, c.id AS checkin_id, c.checked_in_at, c.door, c.last_move, c.moved_at"
    " FROM r LEFT JOIN c ON true"
)


async def scan(
    conn: Connection,
    event_id: UUID,
    registration_seq: int,
    *,
    ticket_version: int,
    session_id: UUID | None,
    checkin: dict[str, Any],
) -> Row | None:
    """The whole check-in (direction `in`) of one verified ticket, in one statement.

    Reads the registration, and when it may enter (confirmed, this ticket version, holding
    `session_id` if given, event not cancelled) inserts the check-in proposed in `checkin`
    (id, checked_in_at, recorded_at, device, token_id, nonce, door, and the audit log's actor
    as (type, id, label)). The unique index on live check-ins decides between concurrent
    scans: the loser's update returns the first check-in. A ticket that went out comes back in
    when the event allows re-entry; the scan that moved it finds its own id in `last_move`,
    every other one the first check-in. The move is logged in the same statement
    (`checkin.created`, or `checkin.reentered`).
    None: no such registration in this event.
    """
    return row(
        await conn.fetchrow(
            _REGISTRATION + ", c AS ("
            " INSERT INTO checkins (id, event_id, registration_id, session_id, scope,"
            "  checked_in_at, recorded_at, device, token_id, nonce, door, inside, last_move,"
            "  moved_at)"
            " SELECT $5, $1, r.id, $4, coalesce($4, $1), $6, $7, $8, $9, $10, $11, true, $5, $6"
            " FROM r WHERE r.status = 'confirmed' AND r.event_status <> 'cancelled'"
            "  AND r.ticket_version = $3 AND r.holds_session"
            " ON CONFLICT (registration_id, scope) WHERE undone_at IS NULL"
            " DO UPDATE SET"
            "  last_move = CASE WHEN NOT checkins.inside"
            "   AND (SELECT reentry FROM events WHERE id = $1) THEN $5 ELSE checkins.last_move END,"
            "  moved_at = CASE WHEN NOT checkins.inside"
            "   AND (SELECT reentry FROM events WHERE id = $1) THEN $6 ELSE checkins.moved_at END,"
            "  inside = checkins.inside OR (SELECT reentry FROM events WHERE id = $1)"
            " RETURNING id, checked_in_at, door, last_move, moved_at, registration_id, session_id,"
            "  device"
            "), m AS ("
            " INSERT INTO checkin_moves (id, checkin_id, direction, at, door, device)"
            " SELECT $5, c.id, 'in', $6, $11, $8 FROM c WHERE c.last_move = $5"
            "), logged AS (INSERT INTO audit_log" + AUDIT_COLUMNS + " SELECT $7, $1, $12, $13, $14,"
            "  CASE WHEN c.id = $5 THEN 'checkin.created' ELSE 'checkin.reentered' END,"
            "  'registration', c.registration_id::text,"
            "  jsonb_build_object('checked_in_at', jsonb_build_array(NULL, c.moved_at),"
            "   'session_id', jsonb_build_array(NULL, c.session_id),"
            "   'device', jsonb_build_array(NULL, $8::text), 'door', jsonb_build_array(NULL, $11::text))"
            " FROM c WHERE c.last_move = $5"
            ")" + _OUTCOME,
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
            checkin["door"],
            *checkin["actor"],
        )
    )


async def scan_out(
    conn: Connection,
    event_id: UUID,
    registration_seq: int,
    *,
    ticket_version: int,
    session_id: UUID | None,
    checkin: dict[str, Any],
) -> Row | None:
    """A scan going `out`: marks the live check-in's holder outside, in one statement, when
    they are inside (the row lock makes concurrent scans move it once)."""
    return row(
        await conn.fetchrow(
            _REGISTRATION + ", c AS ("
            " UPDATE checkins SET inside = false, last_move = $5, moved_at = $6 FROM r"
            " WHERE checkins.registration_id = r.id AND checkins.scope = coalesce($4, $1)"
            "  AND checkins.undone_at IS NULL AND checkins.inside AND r.ticket_version = $3"
            " RETURNING checkins.id, checkins.checked_in_at, checkins.door, checkins.last_move,"
            "  checkins.moved_at, checkins.registration_id"
            "), m AS ("
            " INSERT INTO checkin_moves (id, checkin_id, direction, at, door, device)"
            " SELECT $5, c.id, 'out', $6, $7, $8 FROM c"
            "), logged AS (INSERT INTO audit_log" + AUDIT_COLUMNS + " SELECT $9, $1, $10, $11, $12,"
            "  'checkin.exited', 'registration', c.registration_id::text,"
            "  jsonb_build_object('inside', jsonb_build_array(true, false),"
            "   'door', jsonb_build_array(NULL, $7::text))"
            " FROM c"
            ")" + _OUTCOME,
            event_id,
            registration_seq,
            ticket_version,
            session_id,
            checkin["id"],
            checkin["checked_in_at"],
            checkin["door"],
            checkin["device"],
            checkin["recorded_at"],
            *checkin["actor"],
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
    " c.recorded_at, c.device, c.door, c.inside, c.undone_at, p.slug AS undone_by"
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


async def attendees(
    conn: Connection, event_id: UUID, *, q: str | None, after_seq: int, limit: int
) -> list[Row]:
    """Registrations matching `q` (a case-insensitive substring of name or email)."""
    return rows(
        await conn.fetch(
            "SELECT r.id, r.seq, r.event_id, r.name, r.chinese_name, r.email, r.status,"
            " r.ticket_version, r.attendance, r.joined_at,"
            " (SELECT c.checked_in_at FROM checkins c WHERE c.registration_id = r.id"
            "   AND c.scope = r.event_id AND c.undone_at IS NULL) AS checked_in_at"
            " FROM registrations r WHERE r.event_id = $1"
            f" AND {NAME_MATCH.format(q='$2', key='$5')}"
            " AND r.seq > $3 ORDER BY r.seq LIMIT $4",
            event_id,
            q,
            after_seq,
            limit,
            None if q is None else fold(q),
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
