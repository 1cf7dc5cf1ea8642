"""Reminders before an event: each live registration gets each of the event's reminders once.

The event's `reminders` are ISO 8601 durations before its start (default one day). The
periodic job below (run by jobs.py every minute) queues the due ones through the outbox, in
one statement; the mail is composed when it is sent, in the registration's language, and is
superseded if the event has begun or the registration was cancelled by then.
"""

from __future__ import annotations

from datetime import datetime

from events.queries import Connection
from events.queries import reminders as q
from events.settings import Settings


async def send_due_reminders(conn: Connection, now: datetime, settings: Settings) -> int:
    """Queue every reminder that is due; how many mails were queued."""
    async with conn.transaction():
        return await q.queue_due(conn, now)
