"""SQL of desk.py: the console's attendee table and the moves it makes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from events.queries import Connection, Row, rows

_DESK = (
    "SELECT r.id, r.seq, r.name, r.email, r.status, r.answers, r.created_at, r.locale,"
    " r.calendar_reply, r.calendar_replied_at, r.attendance, r.joined_at,"
    " CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registrations w"
    "   WHERE w.event_id = r.event_id AND w.status = 'waitlisted'"
    "   AND w.online_place = r.online_place"
    "   AND w.waitlist_order <= r.waitlist_order) END AS waitlist_position,"
    " coalesce((SELECT array_agg(rs.session_id ORDER BY s.seq) FROM registration_sessions rs"
    "   JOIN sessions s ON s.id = rs.session_id WHERE rs.registration_id = r.id), '{}')"
    "   AS session_ids,"
    " c.checked_in_at, coalesce(nullif(t.label, ''), nullif(c.device, ''), '') AS door"
    " FROM registrations r"
    " LEFT JOIN checkins c ON c.registration_id = r.id AND c.scope = r.event_id"
    "   AND c.undone_at IS NULL"
    " LEFT JOIN api_tokens t ON t.id = c.token_id"
)


async def attendees(
    conn: Connection, event_id: UUID, filters: dict[str, Any], *, after_seq: int, limit: int
) -> list[Row]:
    """Registrations of the event matching every filter given (None: any):
    status, q (name or email), session_id (holds it), checked_in (bool),
    question + answer (the answer to that question contains the text, or equals true)."""
    return rows(
        await conn.fetch(
            _DESK + " WHERE r.event_id = $1 AND r.seq > $2"
            " AND ($3::text IS NULL OR r.status = $3)"
            " AND ($4::text IS NULL OR strpos(lower(r.name), lower($4)) > 0"
            "      OR strpos(lower(r.email), lower($4)) > 0)"
            " AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM registration_sessions rs"
            "      WHERE rs.registration_id = r.id AND rs.session_id = $5))"
            " AND ($6::boolean IS NULL OR (c.id IS NOT NULL) = $6)"
            " AND ($7::text IS NULL OR strpos(lower(CASE jsonb_typeof(r.answers -> $7)"
            "      WHEN 'string' THEN r.answers ->> $7"
            "      WHEN 'array' THEN (SELECT string_agg(a, ' ') FROM"
            "        jsonb_array_elements_text(r.answers -> $7) a)"
            "      ELSE r.answers ->> $7 END), lower($8)) > 0)"
            " ORDER BY r.seq LIMIT $9",
            event_id,
            after_seq,
            filters.get("status"),
            filters.get("q"),
            filters.get("session_id"),
            filters.get("checked_in"),
            filters.get("question"),
            filters.get("answer") or "",
            limit,
        )
    )


async def of_event(conn: Connection, event_id: UUID, ids: list[UUID]) -> list[Row]:
    """The registrations among `ids` that belong to the event, in the order of `ids`."""
    found = {
        r["id"]: dict(r)
        for r in await conn.fetch(
            "SELECT r.id, r.seq, r.event_id, r.name, r.status, r.ticket_version, r.attendance"
            " FROM registrations r WHERE r.event_id = $1 AND r.id = ANY($2)",
            event_id,
            ids,
        )
    }
    return [found[i] for i in ids if i in found]


async def holds(conn: Connection, registration_id: UUID, session_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM registration_sessions"
            " WHERE registration_id = $1 AND session_id = $2)",
            registration_id,
            session_id,
        )
    )


async def swap_session(
    conn: Connection, registration_id: UUID, from_id: UUID, to_id: UUID, *, seated: bool
) -> bool:
    """Move a registration from one session to another in one statement: with `seated`
    (a confirmed registration) it takes a seat of `to_id` if one is free and gives back its
    seat of `from_id`. False (nothing changed) when `to_id` has no seat free."""
    done = await conn.fetchval(
        "WITH seat AS (UPDATE sessions SET confirmed = confirmed + 1"
        "   WHERE id = $3 AND $4 AND (capacity IS NULL OR confirmed < capacity) RETURNING id),"
        " ok AS (SELECT 1 WHERE NOT $4 OR EXISTS (SELECT 1 FROM seat)),"
        " freed AS (UPDATE sessions SET confirmed = confirmed - 1"
        "   WHERE id = $2 AND $4 AND EXISTS (SELECT 1 FROM ok) RETURNING id),"
        " moved AS (UPDATE registration_sessions SET session_id = $3"
        "   WHERE registration_id = $1 AND session_id = $2 AND EXISTS (SELECT 1 FROM ok)"
        "   RETURNING 1)"
        " SELECT count(*) FROM moved",
        registration_id,
        from_id,
        to_id,
        seated,
    )
    return bool(done)
