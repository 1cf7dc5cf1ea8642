"""Small pieces the console's pages share: how many attendees a change will tell, the
partner named in a form, and cancelling with a reason."""

from __future__ import annotations

from datetime import datetime

from events import catalog, directory, lifecycle
from events.hosting import Actor
from events.queries import Connection


async def attendee_count(conn: Connection, event_id: str) -> int:
    """Live registrations: the people a change to the event is mailed to."""
    return await lifecycle.live_count(conn, event_id)


async def partner_slug(conn: Connection, text: str) -> str:
    return await directory.resolve(conn, text)


async def cancel_with_reason(
    conn: Connection, actor: Actor, event_id: str, reason: str, now: datetime
) -> None:
    """Cancel with the reason as typed (spaces tidied; none: no reason), API.md's optional
    reason for the mail and the pages."""
    tidy = " ".join(reason.split())[:2000]
    await catalog.cancel_event(conn, actor, event_id, now, reason=tidy or None)
