"""SQL of messages.py: hosts' messages to an audience of their event's registrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows

#: The audience: statuses, checked in or not (a check-in not undone), holding a session.
_AUDIENCE = (
    " FROM registrations r WHERE r.event_id = $1 AND r.status = ANY($2::text[])"
    " AND ($3::boolean IS NULL OR $3 = EXISTS (SELECT 1 FROM checkins c"
    "   WHERE c.registration_id = r.id AND c.undone_at IS NULL))"
    " AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM registration_sessions rs"
    "   WHERE rs.registration_id = r.id AND rs.session_id = $4))"
)


async def count_audience(
    conn: Connection, event_id: UUID, statuses: list[str], checked_in: bool | None, session: Any
) -> int:
    return int(
        await conn.fetchval("SELECT count(*)" + _AUDIENCE, event_id, statuses, checked_in, session)
    )


async def insert_message(
    conn: Connection,
    event_id: UUID,
    partner_id: UUID | None,
    fields: dict[str, Any],
    now: datetime,
) -> Row:
    """The message and one `message` outbox row per recipient, in one statement."""
    record = await conn.fetchrow(
        "WITH m AS (INSERT INTO messages (event_id, partner_id, subject, body, audience,"
        "   recipients, created_at)"
        "   VALUES ($1, $5, $6, $7, $8, (SELECT count(*)" + _AUDIENCE + "), $9)"
        "   RETURNING id, public_id, recipients),"
        " queued AS (INSERT INTO mail_outbox (kind, registration_id, revision, created_at,"
        "   next_attempt_at) SELECT 'message', r.id, (SELECT id FROM m), $9, $9"
        + _AUDIENCE
        + "   ORDER BY r.seq ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING RETURNING 1)"
        " SELECT m.id, m.public_id, m.recipients, (SELECT count(*) FROM queued) AS queued FROM m",
        event_id,
        fields["statuses"],
        fields["checked_in"],
        fields["session"],
        partner_id,
        fields["subject"],
        fields["body"],
        fields["audience"],
        now,
    )
    assert record is not None
    return dict(record)


async def messages_of(conn: Connection, event_id: UUID, *, after_seq: int, limit: int) -> list[Row]:
    """The event's messages with their mails counted by outcome, oldest first."""
    return rows(
        await conn.fetch(
            "SELECT m.id, m.public_id, m.subject, m.body, m.audience, m.recipients, m.created_at,"
            " count(o.id) FILTER (WHERE o.status IN ('sent', 'logged')) AS sent,"
            " count(o.id) FILTER (WHERE o.status = 'pending') AS pending,"
            " count(o.id) FILTER (WHERE o.status IN ('failed', 'superseded')) AS failed"
            " FROM messages m LEFT JOIN mail_outbox o ON o.kind = 'message'"
            "   AND o.revision = m.id AND o.registration_id IN"
            "   (SELECT id FROM registrations WHERE event_id = m.event_id)"
            " WHERE m.event_id = $1 AND m.id > $2 GROUP BY m.id ORDER BY m.id LIMIT $3",
            event_id,
            after_seq,
            limit,
        )
    )


async def message(conn: Connection, message_id: int) -> Row | None:
    return row(
        await conn.fetchrow(
            "SELECT id, public_id, event_id, subject, body, created_at FROM messages WHERE id = $1",
            message_id,
        )
    )
