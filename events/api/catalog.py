"""Events and sessions."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from events import catalog
from events.api import params
from events.api.routing import Call, Router
from events.catalog import (
    EventIn,
    EventOut,
    EventPatch,
    SessionIn,
    SessionOut,
    SessionPatch,
)
from events.paging import Page, PageRequest

api = Router("events")


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    """Cancelling takes an optional reason, shown in the cancellation mail and on the pages."""

    reason: Annotated[str, Meta(max_length=2000)] | None = None


@api.post(
    "/api/v1/events",
    "Create an event (draft)",
    body=EventIn,
    response=EventOut,
    status=201,
    idempotent=True,
)
async def create_event(call: Call) -> EventOut:
    return await catalog.create_event(call.conn, call.actor, call.body, call.now)


@api.get(
    "/api/v1/events",
    "List published public events, or with ?hosted=1 your own",
    response=Page[EventOut],
    auth="optional",
    rate_limit="public",
    query=(params.HOSTED, *params.PAGE),
)
async def list_events(call: Call) -> Page[EventOut]:
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    hosted = call.query("hosted") in ("1", "true")
    return await catalog.list_events(call.conn, call.actor, hosted=hosted, page=page)


@api.get(
    "/api/v1/events/{event_id}",
    "Read an event (drafts only to hosts)",
    response=EventOut,
    auth="optional",
    rate_limit="public",
)
async def get_event(call: Call) -> EventOut:
    return await catalog.get_event(call.conn, call.actor, call.path("event_id"))


@api.patch(
    "/api/v1/events/{event_id}",
    "Change an event (hosts); moving its start moves every session by the same amount",
    body=EventPatch,
    response=EventOut,
    errors=(409,),
)
async def patch_event(call: Call) -> EventOut:
    return await catalog.patch_event(
        call.conn, call.actor, call.path("event_id"), call.body, call.now
    )


@api.post(
    "/api/v1/events/{event_id}/publish",
    "Publish: registration opens (hosts)",
    response=EventOut,
    errors=(409,),
)
async def publish_event(call: Call) -> EventOut:
    return await catalog.publish_event(call.conn, call.actor, call.path("event_id"), call.now)


@api.post(
    "/api/v1/events/{event_id}/cancel",
    "Cancel the event (owner); an optional reason goes into the mail and onto the pages",
    body=CancelIn,
    response=EventOut,
)
async def cancel_event(call: Call) -> EventOut:
    return await catalog.cancel_event(
        call.conn, call.actor, call.path("event_id"), call.now, reason=call.body.reason
    )


@api.post(
    "/api/v1/events/{event_id}/sessions",
    "Add a session (hosts); it must lie inside the event (else 422)",
    body=SessionIn,
    response=SessionOut,
    status=201,
    idempotent=True,
    errors=(409,),
)
async def create_session(call: Call) -> SessionOut:
    return await catalog.create_session(
        call.conn, call.actor, call.path("event_id"), call.body, call.now
    )


@api.patch(
    "/api/v1/events/{event_id}/sessions/{session_id}",
    "Change a session (hosts)",
    body=SessionPatch,
    response=SessionOut,
    errors=(409,),
)
async def patch_session(call: Call) -> SessionOut:
    return await catalog.patch_session(
        call.conn, call.actor, call.path("event_id"), call.path("session_id"), call.body, call.now
    )
