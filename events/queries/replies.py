"""Calendar replies: the registration a reply names, what it changes, and the inbound log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def reply_target(conn: Connection, registration_id: UUID) -> Row | None:
    """The registration with what deciding on a reply needs (locked: replies race cancels)."""
    return row(
        await conn.fetchrow(
            "SELECT r.id, r.event_id, r.email, r.status, r.accepted_at, r.calendar_reply,"
            " e.calendar_replies, e.status AS event_status,"
            " coalesce(array_agg(rs.session_id) FILTER (WHERE rs.session_id IS NOT NULL),"
            " '{}') AS session_ids"
            " FROM registrations r JOIN events e ON e.id = r.event_id"
            " LEFT JOIN registration_sessions rs ON rs.registration_id = r.id"
            " WHERE r.id = $1 GROUP BY r.id, e.id",
            registration_id,
        )
    )


async def lock_registration(conn: Connection, registration_id: UUID) -> None:
    await conn.execute("SELECT 1 FROM registrations WHERE id = $1 FOR UPDATE", registration_id)


async def record_reply(
    conn: Connection, registration_id: UUID, partstat: str, now: datetime
) -> bool:
    """Store the calendar's answer; True when it changed anything."""
    done = await conn.execute(
        "UPDATE registrations SET calendar_reply = $2, calendar_replied_at = $3,"
        " accepted_at = CASE WHEN $2 = 'ACCEPTED' THEN coalesce(accepted_at, $3)"
        " ELSE accepted_at END"
        " WHERE id = $1 AND calendar_reply IS DISTINCT FROM $2",
        registration_id,
        partstat,
        now,
    )
    return done.split()[-1] != "0"


async def insert_inbound(conn: Connection, fields: dict[str, Any]) -> int:
    columns = ", ".join(fields)
    params = ", ".join(f"${i}" for i in range(1, len(fields) + 1))
    found = await conn.fetchval(
        f"INSERT INTO inbound_messages ({columns}) VALUES ({params}) RETURNING id",
        *fields.values(),
    )
    return int(found)


async def inbound_messages(conn: Connection, *, limit: int, outcome: str | None) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, received_at, via, message_id, mail_from, recipient, subject,"
            " registration_id, partstat, outcome, detail FROM inbound_messages"
            " WHERE $2::text IS NULL OR outcome = $2 ORDER BY id DESC LIMIT $1",
            limit,
            outcome,
        )
    )


async def inbound_message(conn: Connection, message_id: int) -> Row | None:
    return row(await conn.fetchrow("SELECT * FROM inbound_messages WHERE id = $1", message_id))


async def replies_of(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT received_at, partstat, outcome FROM inbound_messages"
            " WHERE registration_id = $1 ORDER BY id",
            registration_id,
        )
    )
