"""SQL of selfservice.py: an attendee changes their registration, or asks for their link."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def edit_target(conn: Connection, event_id: UUID) -> Row | None:
    """What changing a registration needs to know of its event."""
    return row(
        await conn.fetchrow(
            "SELECT e.id, e.status, e.starts_at, e.edits_close_at, e.questions, e.timezone,"
            " coalesce(array(SELECT s.id FROM sessions s WHERE s.event_id = e.id), '{}')"
            "   AS session_ids"
            " FROM events e WHERE e.id = $1",
            event_id,
        )
    )


async def session_spans(conn: Connection, session_ids: list[UUID]) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, title, starts_at, ends_at FROM sessions WHERE id = ANY($1) ORDER BY seq",
            session_ids,
        )
    )


async def move_session_seats(
    conn: Connection, added: list[UUID], removed: list[UUID]
) -> list[UUID]:
    """Give back a seat in each of `removed` and take one in each of `added` that has one, in
    one statement; returns the `added` sessions that had a seat.

    The rows are locked in id order first, so two attendees swapping sessions in opposite
    directions queue instead of deadlocking; the guard is then checked on the locked rows.
    """
    return [
        r["id"]
        for r in await conn.fetch(
            "UPDATE sessions SET confirmed = confirmed"
            "   + CASE WHEN id = ANY($1::uuid[]) THEN 1 ELSE -1 END"
            " WHERE id IN (SELECT id FROM sessions WHERE id = ANY($1::uuid[] || $2::uuid[])"
            "   ORDER BY id FOR UPDATE)"
            " AND (id = ANY($2::uuid[]) OR capacity IS NULL OR confirmed < capacity)"
            " RETURNING id, id = ANY($1::uuid[]) AS taken",
            added,
            removed,
        )
        if r["taken"]
    ]


async def update_registration(
    conn: Connection, registration_id: UUID, changes: dict[str, Any], *, now: datetime
) -> None:
    allowed = ("name", "answers", "locale", "edits")
    assert all(c in allowed for c in changes)
    sets = [f"{c} = ${i}" for i, c in enumerate(changes, start=3)]
    await conn.execute(
        f"UPDATE registrations SET {', '.join([*sets, 'updated_at = $2'])} WHERE id = $1",
        registration_id,
        now,
        *changes.values(),
    )


async def queue_mail(
    conn: Connection, kind: str, registration_id: UUID, revision: int, now: datetime
) -> bool:
    """One outbox row; False when that (kind, registration, revision) is queued already."""
    done = await conn.execute(
        "INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)"
        " VALUES ($1, $2, $3, $4, $4) ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING",
        kind,
        registration_id,
        revision,
        now,
    )
    return bool(done == "INSERT 0 1")


async def live_registration_by_email(conn: Connection, event_id: UUID, email: str) -> UUID | None:
    found: UUID | None = await conn.fetchval(
        "SELECT id FROM registrations WHERE event_id = $1 AND lower(email) = lower($2)"
        " AND status <> 'cancelled' ORDER BY seq DESC LIMIT 1",
        event_id,
        email,
    )
    return found


async def queue_resend(conn: Connection, registration_id: UUID, now: datetime) -> None:
    """A `resend` mail, numbered after the ones before it (each request its own mail)."""
    await conn.execute(
        "INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)"
        " SELECT 'resend', $1, coalesce(max(revision), 0) + 1, $2, $2 FROM mail_outbox"
        " WHERE kind = 'resend' AND registration_id = $1"
        " ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING",
        registration_id,
        now,
    )


async def edits(conn: Connection, registration_id: UUID) -> int:
    return int(
        await conn.fetchval("SELECT edits FROM registrations WHERE id = $1", registration_id)
    )


async def session_seats(conn: Connection, event_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, capacity, confirmed FROM sessions WHERE event_id = $1", event_id
        )
    )
