"""Small pieces the console's pages share: what a refused change says, how many attendees a
change will tell, the partner named in a form, and cancelling with a reason."""

from __future__ import annotations

from datetime import datetime

from events import catalog, directory, lifecycle
from events.hosting import Actor
from events.queries import Connection
from events.web.i18n import N_

#: What the event page says when the domain refuses a change, by error code.
CONFLICTS = {
    "invalid-state": N_("Not possible in the event's current state."),
    "already-exists": N_("This exists already."),
    "capacity-below-confirmed": N_("Capacity cannot go below the confirmed registrations."),
    "forbidden": N_("Only the event's owner may do this."),
    "session-has-registrations": N_(
        "People are registered for this session: tick “Also take it off their registrations”"
        " to delete it."
    ),
    "event-has-registrations": N_("People are registered: cancel the event instead."),
    "session-full": N_("That session is full."),
}


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
