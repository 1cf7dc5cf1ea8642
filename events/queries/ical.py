"""SQL of ical.py: what a calendar file shows, each in one read.

Sessions come back as a JSON array (`sessions`) of {id, title, starts_at, ends_at, room},
in session order: all sessions of an event, or only the ones a registration chose.
"""

from __future__ import annotations

from uuid import UUID

from events.queries import Connection, Row, row, rows

_EVENT_COLUMNS = (
    "e.id AS event_id, e.slug, e.title, e.description, e.timezone, e.starts_at, e.ends_at,"
    " e.venue_name, e.venue_address, e.translations, e.status AS event_status, e.revision,"
    " e.updated_at AS event_updated_at, e.visibility, e.cancel_reason, e.reminders,"
    " e.format, e.online_instructions,"
    " p.name AS organizer_name, p.email AS organizer_email"
)

_SESSION_JSON = (
    "json_build_object('id', s.id, 'title', s.title, 'starts_at', s.starts_at,"
    " 'ends_at', s.ends_at, 'room', s.room, 'translations', s.translations) ORDER BY s.seq"
)

_ALL_SESSIONS = (
    f"coalesce((SELECT json_agg({_SESSION_JSON}) FROM sessions s WHERE s.event_id = e.id),"
    " '[]') AS sessions"
)

_CHOSEN_SESSIONS = (
    f"coalesce((SELECT json_agg({_SESSION_JSON}) FROM registration_sessions rs"
    " JOIN sessions s ON s.id = rs.session_id WHERE rs.registration_id = r.id), '[]') AS sessions"
)

_EVENT = (
    f"SELECT {_EVENT_COLUMNS}, {_ALL_SESSIONS} FROM events e JOIN partners p ON p.id = e.owner_id"
)

_INVITE = (
    "SELECT r.id, r.seq, r.name, r.email, r.locale, r.status, r.updated_at, r.confirmed_at, r.edits,"
    " r.rejection_reason, r.attendance,"
    " CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registrations w"
    "   WHERE w.event_id = r.event_id AND w.status = 'waitlisted'"
    "   AND w.online_place = r.online_place"
    "   AND w.waitlist_order <= r.waitlist_order) END AS waitlist_position,"
    f" {_EVENT_COLUMNS}, {_CHOSEN_SESSIONS}"
    " FROM registrations r JOIN events e ON e.id = r.event_id"
    " JOIN partners p ON p.id = e.owner_id"
)


async def event(conn: Connection, event_id: UUID) -> Row | None:
    """An event with its organizer (the owning partner) and all its sessions."""
    return row(await conn.fetchrow(_EVENT + " WHERE e.id = $1", event_id))


async def invite(conn: Connection, registration_id: UUID) -> Row | None:
    """A registration with its event, the organizer and the sessions it chose."""
    return row(await conn.fetchrow(_INVITE + " WHERE r.id = $1", registration_id))


async def registration_email(conn: Connection, registration_id: UUID) -> str | None:
    email: str | None = await conn.fetchval(
        "SELECT email FROM registrations WHERE id = $1", registration_id
    )
    return email


async def registrations_of_email(conn: Connection, email: str, limit: int) -> list[Row]:
    """Every registration of one address (any event that is not a draft), oldest first."""
    return rows(
        await conn.fetch(
            _INVITE + " WHERE lower(r.email) = lower($1) AND e.status <> 'draft'"
            " ORDER BY r.seq LIMIT $2",
            email,
            limit,
        )
    )


async def hosted_events(conn: Connection, partner_id: UUID, limit: int) -> list[Row]:
    """The published and cancelled events a partner owns or co-hosts, oldest first."""
    return rows(
        await conn.fetch(
            _EVENT + " WHERE e.id IN (SELECT event_id FROM event_hosts WHERE partner_id = $1)"
            " AND e.status <> 'draft' ORDER BY e.seq LIMIT $2",
            partner_id,
            limit,
        )
    )
