"""SQL of privacy.py: what is stored about a registration, erasing it, retention."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, rows

#: What a registration's personal values become (the row stays: counts and check-in times).
ERASED_NAME = ""
ERASED_EMAIL = ""


async def event_of(conn: Connection, event_id: UUID) -> Row | None:
    found = await conn.fetchrow(
        "SELECT id, slug, title, timezone, starts_at, ends_at, status, retention_days,"
        " consent_text, privacy_url FROM events WHERE id = $1",
        event_id,
    )
    return None if found is None else dict(found)


async def sessions_of(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT s.id, s.title, s.starts_at, s.ends_at, s.room FROM registration_sessions rs"
            " JOIN sessions s ON s.id = rs.session_id WHERE rs.registration_id = $1"
            " ORDER BY s.seq",
            registration_id,
        )
    )


async def checkins_of(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT c.id, c.session_id, c.checked_in_at, c.recorded_at, c.device,"
            " t.label AS door, c.undone_at FROM checkins c"
            " LEFT JOIN api_tokens t ON t.id = c.token_id"
            " WHERE c.registration_id = $1 ORDER BY c.seq",
            registration_id,
        )
    )


async def mails_of(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT kind, status, created_at, sent_at, attempts FROM mail_outbox"
            " WHERE registration_id = $1 ORDER BY id",
            registration_id,
        )
    )


async def inbound_of(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT received_at, via, mail_from, subject, partstat, outcome, detail"
            " FROM inbound_messages WHERE registration_id = $1 ORDER BY id",
            registration_id,
        )
    )


async def registrations_of_email(conn: Connection, email: str) -> list[UUID]:
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM registrations WHERE lower(email) = lower($1) ORDER BY seq", email
        )
    ]


async def lock(conn: Connection, registration_id: UUID) -> Row | None:
    found = await conn.fetchrow(
        "SELECT id, event_id, name, email, status, created_at, erased_at FROM registrations"
        " WHERE id = $1 FOR UPDATE",
        registration_id,
    )
    return None if found is None else dict(found)


async def erase_registration(conn: Connection, registration_id: UUID, now: datetime) -> None:
    """Overwrite the personal values of a (cancelled) registration in place (the Chinese
    name and the search key folded from the names too)."""
    await conn.execute(
        "UPDATE registrations SET name = $2, email = $3, answers = '{}', chinese_name = NULL,"
        " search_key = '', erased_at = $4, updated_at = $4 WHERE id = $1",
        registration_id,
        ERASED_NAME,
        ERASED_EMAIL,
        now,
    )


async def erase_traces(conn: Connection, r: Row) -> None:
    """Everything else stored about it: rendered files, mail, calendar replies, replays."""
    registration_id, email = r["id"], r["email"]
    await conn.execute("DELETE FROM rendered_files WHERE subject = $1", registration_id)
    # nothing more is sent to an address that is gone; errors may quote the address
    await conn.execute(
        "UPDATE mail_outbox SET status = CASE WHEN status = 'pending' THEN 'superseded'"
        " ELSE status END, last_error = NULL, claim = NULL WHERE registration_id = $1",
        registration_id,
    )
    await conn.execute(
        "UPDATE inbound_messages SET raw = ''::bytea, mail_from = '', subject = '',"
        " recipient = '', detail = '' WHERE registration_id = $1"
        " OR ($2 <> '' AND strpos(lower(mail_from), lower($2)) > 0)",
        registration_id,
        email,
    )
    await conn.execute(
        "UPDATE checkin_nonces SET result = jsonb_set(result, '{registration,name}', '\"\"')"
        " WHERE event_id = $2 AND result -> 'registration' ->> 'id' = $1::text",
        str(registration_id),
        r["event_id"],
    )
    # an Idempotency-Key replay of the registering request would show the data again (keys
    # are younger than the registration: the range is read by its index, not the whole table)
    await conn.execute(
        "UPDATE idempotency_keys SET status = 410, body = $2::bytea"
        " WHERE created_at >= $3::timestamptz - interval '1 hour'"
        " AND position(convert_to($1::text, 'UTF8') IN body) > 0",
        str(registration_id),
        b'{"type":"https://events.example.org/errors/registration-erased",'
        b'"title":"The registration was erased","status":410,'
        b'"detail":"Its personal data was erased"}',
        r["created_at"],
    )


async def due_for_retention(conn: Connection, now: datetime, limit: int) -> list[UUID]:
    """Registrations whose event ended more than its retention_days ago, not yet erased."""
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT r.id FROM events e JOIN registrations r ON r.event_id = e.id"
            " WHERE r.erased_at IS NULL"
            " AND e.ends_at + make_interval(days => e.retention_days) <= $1"
            " ORDER BY e.ends_at, r.seq LIMIT $2",
            now,
            limit,
        )
    ]
