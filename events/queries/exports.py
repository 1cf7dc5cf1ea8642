"""SQL of the registration exports (attendees.py): one statement read through a server-side
cursor, so an export of 200,000 registrations starts at once and holds a batch at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from events.queries import Connection, Row

#: Every registration of an event in creation order, with what a host's spreadsheet shows:
#: the waitlist position (numbered once, not counted per row), its sessions, and the first
#: live check-in at the event's door with the label of the door token that made it. Each of
#: these is gathered once for the whole event and hash-joined (a subquery per row cost ~40 µs
#: a row); the registrations stream in `seq` order from their index.
_EXPORT = (
    "SELECT r.id, r.status, w.position AS waitlist_position, r.name, r.chinese_name, r.email,"
    " r.locale, r.answers, r.created_at, coalesce(rs.ids, '{}') AS session_ids,"
    " c.checked_in_at, coalesce(t.label, '') AS door, r.attendance, r.joined_at"
    " FROM registrations r"
    " LEFT JOIN (SELECT id, row_number() OVER (ORDER BY waitlist_order) AS position"
    "   FROM registrations WHERE event_id = $1 AND status = 'waitlisted') w ON w.id = r.id"
    " LEFT JOIN (SELECT x.registration_id, array_agg(s.id ORDER BY s.seq) AS ids"
    "   FROM registration_sessions x JOIN sessions s ON s.id = x.session_id"
    "   WHERE s.event_id = $1 GROUP BY x.registration_id) rs ON rs.registration_id = r.id"
    " LEFT JOIN (SELECT DISTINCT ON (registration_id) registration_id, checked_in_at, token_id"
    "   FROM checkins WHERE event_id = $1 AND session_id IS NULL AND undone_at IS NULL"
    "   ORDER BY registration_id, checked_in_at) c ON c.registration_id = r.id"
    " LEFT JOIN api_tokens t ON t.id = c.token_id"
    " WHERE r.event_id = $1 ORDER BY r.seq"
)


async def registrations_for_export(
    conn: Connection, event_id: UUID, *, prefetch: int = 1000
) -> AsyncIterator[Row]:
    """Rows one at a time from a server-side cursor (the caller holds a transaction)."""
    async for record in conn.cursor(_EXPORT, event_id, prefetch=prefetch):
        yield dict(record)
