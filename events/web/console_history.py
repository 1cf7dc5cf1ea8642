"""The console's history page of an event: its audit log, newest first, filtered."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import audit, catalog
from events.web.console import _page, _who
from events.web.i18n import N_
from events.web.render import connection

ACTOR_TYPES = {
    "partner": N_("Partner"),
    "door": N_("Door"),
    "attendee": N_("Attendee"),
    "operator": N_("Operator"),
    "system": N_("System"),
}


def routes() -> list[BaseRoute]:
    return [Route("/console/events/{event_id}/history", history)]


async def history(request: Request) -> Response:
    names = ("action", "actor", "cursor")
    params = {n: (request.query_params.get(n) or "").strip()[:200] or None for n in names}
    async with connection(request) as conn:
        who = await _who(request, conn)
        event_id = request.path_params["event_id"]
        row = await catalog.load_for(conn, who.actor, event_id, "manage")
        event = await catalog.get_event(conn, who.actor, event_id)
        page = await audit.event_log(conn, row, {**params, "limit": "100"})
    return _page(
        request,
        "console/history.html",
        who,
        event=event,
        page=page,
        filters=params,
        actor_types=ACTOR_TYPES,
    )
