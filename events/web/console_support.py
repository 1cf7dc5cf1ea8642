"""Small pieces the console's pages share: how many attendees a change will tell, the
partner named in a form, and cancelling with a reason."""

from __future__ import annotations

import inspect
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
    """Cancel; the reason goes to the domain when it takes one (API.md's optional reason)."""
    reason = " ".join(reason.split())[:2000]
    if reason and "reason" in inspect.signature(catalog.cancel_event).parameters:
        await catalog.cancel_event(conn, actor, event_id, now, reason=reason)  # type: ignore[call-arg,unused-ignore]
        return
    await catalog.cancel_event(conn, actor, event_id, now)
