"""SQL of letters.py: what a mail needs beyond the registration and its event."""

from __future__ import annotations

from uuid import UUID

from events.queries import Connection, Row, row, rows


async def last_heard(conn: Connection, registration_id: UUID, before: int) -> int | None:
    """The event revision of the last mail about the event this attendee got before `before`."""
    found: int | None = await conn.fetchval(
        "SELECT max(revision) FROM mail_outbox WHERE registration_id = $1 AND id < $2"
        " AND kind IN ('confirmation', 'waitlisted', 'promotion', 'update')"
        " AND status IN ('sent', 'logged')",
        registration_id,
        before,
    )
    return found


async def event_revision(conn: Connection, event_id: UUID, revision: int) -> Row | None:
    """Time, place and title of an event as they were at `revision` (or the latest before)."""
    return row(
        await conn.fetchrow(
            "SELECT title, timezone, starts_at, ends_at, venue_name, venue_address"
            " FROM event_revisions WHERE event_id = $1 AND revision <= $2"
            " ORDER BY revision DESC LIMIT 1",
            event_id,
            revision,
        )
    )


async def message(conn: Connection, message_id: int) -> Row | None:
    return row(await conn.fetchrow("SELECT subject, body FROM messages WHERE id = $1", message_id))


async def outbox_row(conn: Connection, mail_id: int) -> Row | None:
    return row(
        await conn.fetchrow(
            "SELECT id, kind, registration_id, revision, status, attempts, created_at, sent_at,"
            " last_error FROM mail_outbox WHERE id = $1",
            mail_id,
        )
    )


async def outbox_rows(conn: Connection, *, status: str | None, limit: int) -> list[Row]:
    """The newest outbox rows (optionally of one status), with whom each is to."""
    return rows(
        await conn.fetch(
            "SELECT o.id, o.kind, o.registration_id, o.revision, o.status, o.attempts,"
            " o.created_at, o.sent_at, o.last_error, r.email"
            " FROM mail_outbox o JOIN registrations r ON r.id = o.registration_id"
            " WHERE $1::text IS NULL OR o.status = $1 ORDER BY o.id DESC LIMIT $2",
            status,
            limit,
        )
    )
