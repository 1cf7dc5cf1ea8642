"""The door scanner page, opened from the pairing QR: /scan?token=<door token>.

The page itself only introduces the event; the work happens in static/scan.js against the
JSON API with the door token (check-ins, batches, the check-in kit, counts, look-ups), so
the page and partners' own devices use one contract. Messages are translated here and
handed to the script in a JSON block.
"""

from __future__ import annotations

import msgspec
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from events import catalog, hosting
from events.errors import Unauthenticated
from events.web import content
from events.web.i18n import N_
from events.web.render import connection, error_page, gettext_of, lang_of, render

#: the texts scan.js shows, by key
SCRIPT_MESSAGES = {
    "accepted": N_("Admitted"),
    "already_checked_in": N_("Already checked in"),
    "cancelled": N_("Cancelled ticket"),
    "wrong_event": N_("Ticket for another event"),
    "not_confirmed": N_("Not confirmed (waitlist)"),
    "invalid": N_("Not a valid ticket"),
    "at": N_("Checked in at %s"),
    "offline_checked": N_("Checked on this device; will be uploaded"),
    "new_registration": N_("(new registration)"),
    "no_camera": N_("The camera is not available. Use the input field instead."),
    "next": N_("Next"),
    "check_in": N_("Check in"),
    "no_one": N_("No one found."),
    "online": N_("Online"),
    "offline": N_("Offline: scans are checked on this device and queued"),
    "error": N_("Could not reach the server. Try again."),
}


async def scanner(request: Request) -> Response:
    token = request.query_params.get("token") or ""
    async with connection(request) as conn:
        try:
            actor = await hosting.authenticate(conn, token or None)
        except Unauthenticated:
            actor = hosting.ANONYMOUS
        if actor.kind != "door" or actor.event_id is None:
            return error_page(
                request,
                403,
                N_("This door link is not valid"),
                N_("Ask the organiser for a new pairing code for this door."),
            )
        event = await catalog.get_event(conn, actor, str(actor.event_id))
    gettext = gettext_of(request)
    config = {
        "event_id": event.id,
        "token": token,
        "messages": {key: gettext(text) for key, text in SCRIPT_MESSAGES.items()},
        "jsqr": "/static/vendor/jsQR.js",
        "timezone": event.timezone,
    }
    # "</" cannot end the script block: msgspec escapes nothing, so "<" is written as \u003c
    blob = msgspec.json.encode(config).decode().replace("<", "\\u003c")
    shown = content.localize(event, lang_of(request))
    return render(request, "scan.html", {"event": shown, "config": Markup(blob)}, private=True)
