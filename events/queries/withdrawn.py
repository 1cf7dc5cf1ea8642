"""SQL of withdrawn sessions (ical.py's METHOD:CANCEL for a session a registration no longer
holds): kept when taken off, and read back for the mail that cancels them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, rows

#: Keep the sessions (their VEVENT's fields) at the invite's SEQUENCE as it is now, for
#: registrations that were sent an invite and still hold a place, and queue one
#: `sessions-withdrawn` mail each. $1: now; `where` filters `rs` with $2 (and $3).
_KEEP = (
    "WITH kept AS (INSERT INTO withdrawn_sessions (registration_id, session_id, sequence, title,"
    "   translations, room, starts_at, ends_at, withdrawn_at)"
    " SELECT r.id, s.id, e.revision + r.edits, s.title, s.translations, s.room, s.starts_at,"
    "   s.ends_at, $1"
    " FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id"
    " JOIN sessions s ON s.id = rs.session_id JOIN events e ON e.id = r.event_id"
    " WHERE {where} AND r.confirmed_at IS NOT NULL AND r.status NOT IN ('cancelled', 'rejected')"
    " ON CONFLICT DO NOTHING RETURNING registration_id, sequence)"
    " INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)"
    " SELECT DISTINCT 'sessions-withdrawn', registration_id, sequence, $1::timestamptz,"
    "   $1::timestamptz FROM kept"
    " ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING"
)


async def keep_for_registration(
    conn: Connection, registration_id: UUID, session_ids: list[UUID], now: datetime
) -> None:
    """Before `session_ids` are taken off one registration (its `edits` already raised)."""
    sql = _KEEP.format(where="rs.registration_id = $2 AND rs.session_id = ANY($3)")
    await conn.execute(sql, now, registration_id, session_ids)


async def keep_for_session(conn: Connection, session_id: UUID, now: datetime) -> None:
    """Before a session is deleted (the event's `revision` already raised): every holder's."""
    await conn.execute(_KEEP.format(where="rs.session_id = $2"), now, session_id)


async def sessions(conn: Connection, registration_id: UUID, sequence: int) -> list[Row]:
    """The sessions one `sessions-withdrawn` mail cancels, in the shape of queries.ical's
    `sessions` JSON (times as ISO strings), in time order."""
    found = await conn.fetch(
        "SELECT session_id AS id, title, translations, room,"
        " to_json(starts_at) #>> '{}' AS starts_at, to_json(ends_at) #>> '{}' AS ends_at"
        " FROM withdrawn_sessions WHERE registration_id = $1 AND sequence = $2"
        " ORDER BY starts_at, title",
        registration_id,
        sequence,
    )
    return [{**r, "id": str(r["id"])} for r in rows(found)]
