"""SQL of reminders.py: queue the reminders that are due, in one statement."""

from __future__ import annotations

from datetime import datetime

from events.queries import Connection


async def queue_due(conn: Connection, now: datetime) -> int:
    """One `reminder` outbox row per live registration and due offset, never twice.

    A reminder is due once `starts_at - offset` has passed and the event has not begun; the
    offset is read from the event's current `reminders` and its current start, so moving the
    event moves its reminders. The outbox row's revision is the offset in seconds: the unique
    (kind, registration, revision) sends each reminder once per registration. Registrations
    made after a reminder's time do not get that one (they were just told everything).
    """
    done = await conn.execute(
        "INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)"
        " SELECT 'reminder', r.id, extract(epoch FROM d.offset_)::integer, $1, $1"
        " FROM events e"
        " CROSS JOIN LATERAL (SELECT (x #>> '{}')::interval AS offset_"
        "   FROM jsonb_array_elements(e.reminders) x) d"
        " JOIN registrations r ON r.event_id = e.id AND r.status IN ('confirmed', 'waitlisted')"
        " WHERE e.status = 'published' AND e.starts_at > $1"
        "   AND e.starts_at <= $1 + interval '367 days'"
        "   AND e.starts_at - d.offset_ <= $1 AND r.created_at <= e.starts_at - d.offset_"
        " ORDER BY e.starts_at, r.seq"
        " ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING",
        now,
    )
    return int(done.split()[-1])
