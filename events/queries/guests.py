"""SQL of guests.py: an event's guest list; each new guest's invitation mail is queued in
the statement that adds the guest (mail_outbox, kind guest-invitation)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row, rows

_GUEST = "id, seq, event_id, name, email, locale, token, status, registration_id, created_at"


async def insert_guests(
    conn: Connection,
    event_id: UUID,
    columns: tuple[list[str], list[str], list[str], list[str]],
    now: datetime,
) -> list[Row]:
    """Add guests (names, emails, locales, tokens) and queue each one's invitation; returns
    the ones added, in order (an email the event has already is skipped)."""
    return rows(
        await conn.fetch(
            "WITH added AS (INSERT INTO guests (event_id, name, email, locale, token,"
            "   created_at, updated_at)"
            " SELECT $1, t.name, t.email, t.locale, t.token, $6, $6"
            "   FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])"
            "   WITH ORDINALITY AS t(name, email, locale, token, n) ORDER BY t.n"
            " ON CONFLICT (event_id, lower(email)) DO NOTHING RETURNING " + _GUEST + "),"
            " mail AS (INSERT INTO mail_outbox (kind, guest_id, revision, created_at,"
            "   next_attempt_at) SELECT 'guest-invitation', id, 0, $6, $6 FROM added)"
            " SELECT * FROM added ORDER BY seq",
            event_id,
            *columns,
            now,
        )
    )


async def guests_of(
    conn: Connection, event_id: UUID, *, status: str | None, after_seq: int, limit: int
) -> list[Row]:
    return rows(
        await conn.fetch(
            f"SELECT {_GUEST} FROM guests WHERE event_id = $1"
            " AND ($2::text IS NULL OR status = $2) AND seq > $3 ORDER BY seq LIMIT $4",
            event_id,
            status,
            after_seq,
            limit,
        )
    )


async def known_emails(conn: Connection, event_id: UUID, emails: list[str]) -> set[str]:
    """Which of `emails` (lower case) are guests of the event already."""
    return {
        r["email"]
        for r in await conn.fetch(
            "SELECT lower(email) AS email FROM guests WHERE event_id = $1"
            " AND lower(email) = ANY($2::text[])",
            event_id,
            emails,
        )
    }


async def guest_by_token(conn: Connection, event_id: UUID, token: str) -> Row | None:
    """The guest of this event with this invitation token, locked for the registration."""
    return row(
        await conn.fetchrow(
            f"SELECT {_GUEST} FROM guests WHERE token = $2 AND event_id = $1 FOR UPDATE",
            event_id,
            token,
        )
    )


async def guest_for_page(conn: Connection, token: str) -> Row | None:
    return row(await conn.fetchrow(f"SELECT {_GUEST} FROM guests WHERE token = $1", token))


async def mark_registered(
    conn: Connection, guest_id: UUID, registration_id: UUID, now: datetime
) -> None:
    await conn.execute(
        "UPDATE guests SET status = 'registered', registration_id = $2, updated_at = $3"
        " WHERE id = $1",
        guest_id,
        registration_id,
        now,
    )


async def revoke(conn: Connection, guest_id: UUID, event_id: UUID, now: datetime) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE guests SET status = 'revoked', updated_at = $3"
            f" WHERE id = $1 AND event_id = $2 AND status = 'invited' RETURNING {_GUEST}",
            guest_id,
            event_id,
            now,
        )
    )


async def set_declined(conn: Connection, guest_id: UUID, now: datetime) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE guests SET status = 'declined', updated_at = $2"
            f" WHERE id = $1 AND status = 'invited' RETURNING {_GUEST}",
            guest_id,
            now,
        )
    )


async def event_of(conn: Connection, event_id: UUID) -> Row:
    """What a guest's link needs of the event."""
    found = await conn.fetchrow("SELECT slug, timezone FROM events WHERE id = $1", event_id)
    assert found is not None
    return dict(found)


async def guest(conn: Connection, guest_id: UUID, event_id: UUID) -> Row | None:
    return row(
        await conn.fetchrow(
            f"SELECT {_GUEST} FROM guests WHERE id = $1 AND event_id = $2", guest_id, event_id
        )
    )


async def invitation_mail(conn: Connection, guest_id: UUID) -> Row | None:
    """What a guest's invitation mail says: the guest and the event."""
    return row(
        await conn.fetchrow(
            "SELECT g.id, g.name, g.email, g.locale, g.token, g.status, e.slug, e.title,"
            " e.timezone, e.starts_at, e.ends_at, e.venue_name, e.venue_address,"
            " e.status AS event_status, p.email AS organizer_email"
            " FROM guests g JOIN events e ON e.id = g.event_id"
            " JOIN partners p ON p.id = e.owner_id WHERE g.id = $1",
            guest_id,
        )
    )
