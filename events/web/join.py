"""/join/<secret>: an online attendee's personal link to the host's meeting.

Inside its window (from the event's `reveal_before` before the start until the end) it
redirects to the host's url and records the first join; otherwise it says, in the reader's
language, when it opens, that the event is over, or that the registration is cancelled.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from events import online
from events.http.middleware import SECURITY_HEADERS
from events.web.render import connection, finish, now, render

STATUS = {"not_yet": 200, "over": 410, "cancelled": 410, "not_confirmed": 403, "unknown": 404}


async def join(request: Request) -> Response:
    async with connection(request, write=True) as conn:
        found = await online.join(conn, request.path_params["secret"], now(request))
    if found.state == "open":
        assert found.url is not None
        response = RedirectResponse(found.url, status_code=303, headers=SECURITY_HEADERS)
        return finish(request, response, private=True)
    context = {"state": found.state, "event": found.event, "opens_at": found.opens_at}
    return render(request, "join.html", context, status=STATUS[found.state], private=True)
