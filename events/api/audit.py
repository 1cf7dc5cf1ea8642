"""The audit log of an event (hosts)."""

from __future__ import annotations

from events import audit, catalog
from events.api import params
from events.api.routing import Call, Router
from events.audit import EntryOut
from events.paging import Page

api = Router("audit")


@api.get(
    "/api/v1/events/{event_id}/audit",
    "The event's audit log, newest first (hosts); ?action= (exact, or a prefix ending in '.'),"
    " ?actor= (type, id or label), ?since=, ?until= (RFC 3339)",
    response=Page[EntryOut],
    query=params.AUDIT,
)
async def event_audit(call: Call) -> Page[EntryOut]:
    event = await catalog.load_for(call.conn, call.actor, call.path("event_id"), "manage")
    return await audit.event_log(
        call.conn, event, {p.name: call.query(p.name) for p in params.AUDIT}
    )
