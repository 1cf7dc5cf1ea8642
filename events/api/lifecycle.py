"""An event's dashboard numbers, deleting sessions, unpublishing and duplicating events."""

from __future__ import annotations

from events import analytics, catalog, lifecycle
from events.analytics import AnalyticsOut
from events.api import params
from events.api.routing import Call, Router
from events.catalog import EventOut
from events.lifecycle import DuplicateIn

api = Router("events")


@api.get(
    "/api/v1/events/{event_id}/analytics",
    "The dashboard's numbers (hosts): counts by status, checked in, show-up rate,"
    " registrations over time, arrivals per five minutes by door, session fill, waitlist",
    response=AnalyticsOut,
)
async def event_analytics(call: Call) -> AnalyticsOut:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await analytics.analytics(call.conn, event, call.now)


@api.delete(
    "/api/v1/events/{event_id}/sessions/{session_id}",
    "Delete a session (hosts). Held by live registrations: 409 session-has-registrations,"
    " unless ?force=1, which takes the session off them (they are sent an updated invite)",
    response=None,
    status=204,
    errors=(409,),
    query=(params.FORCE,),
)
async def delete_session(call: Call) -> None:
    await lifecycle.delete_session(
        call.conn,
        call.actor,
        call.path("event_id"),
        call.path("session_id"),
        force=call.query("force") in ("1", "true"),
        now=call.now,
    )


@api.post(
    "/api/v1/events/{event_id}/unpublish",
    "Back to draft (hosts), only while no one is registered (409 event-has-registrations)",
    response=EventOut,
    errors=(409,),
)
async def unpublish_event(call: Call) -> EventOut:
    return await lifecycle.unpublish(call.conn, call.actor, call.path("event_id"), call.now)


@api.post(
    "/api/v1/events/{event_id}/duplicate",
    "A new draft with the same content and sessions (hosts); optional new title and start",
    body=DuplicateIn,
    response=EventOut,
    status=201,
    idempotent=True,
)
async def duplicate_event(call: Call) -> EventOut:
    return await lifecycle.duplicate(
        call.conn, call.actor, call.path("event_id"), call.body, call.now
    )
