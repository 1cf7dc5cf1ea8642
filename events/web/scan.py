"""The door scanner page, opened from the pairing QR: /scan?token=<door token>.

It is an installable offline web app: /scan.webmanifest?token= (its start URL is the page
with the token) and a service worker (/scan-sw.js, scope /scan) that serves the page and
its files from the device's cache when there is no network. The page caches itself and its
files on every online visit, and keeps the check-in kit and the queue of offline scans in
localStorage; an unknown or revoked token is a 401 (and the worker drops its copy).

The page itself only introduces the event; the work happens in static/scan.js against the
JSON API with the door token (check-ins, batches, the check-in kit, counts, look-ups), so
the page and partners' own devices use one contract. Messages are translated here and
handed to the script in a JSON block.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import msgspec
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from events import catalog, hosting
from events.errors import Unauthenticated
from events.web import content
from events.web.i18n import N_
from events.web.render import connection, error_page, gettext_of, lang_of, render

SERVICE_WORKER = Path(__file__).parent / "static" / "scan-sw.js"

#: the texts scan.js shows, by key
SCRIPT_MESSAGES = {
    "accepted": N_("Admitted"),
    "already_checked_in": N_("Already checked in"),
    "cancelled": N_("Cancelled ticket"),
    "wrong_event": N_("Ticket for another event"),
    "not_confirmed": N_("Not confirmed (waitlist)"),
    "wrong_session": N_("Not registered for this session"),
    "not_inside": N_("Not inside (cannot go out)"),
    "invalid": N_("Not a valid ticket"),
    "out_accepted": N_("Out"),
    "at_door": N_("Checked in at %s, %s"),
    "state_cancelled": N_("cancelled"),
    "revoked_door": N_("This door link is not valid"),
    "event_full": N_("No seats left"),
    "at": N_("Checked in at %s"),
    "offline_checked": N_("Checked on this device; will be uploaded"),
    "new_registration": N_("(new registration)"),
    "no_camera": N_("The camera is not available. Use the input field instead."),
    "next": N_("Next"),
    "check_in": N_("Check in"),
    "no_one": N_("No one found."),
    "online": N_("Online"),
    "attends_online": N_("Attends online: no seat in the room, no ticket"),
    "online_attendee": N_("Registered to attend online"),
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
                401,
                N_("This door link is not valid"),
                N_("Ask the organiser for a new pairing code for this door."),
            )
        event = await catalog.get_event(conn, actor, str(actor.event_id))
    session = next((x for x in event.sessions if x.id == str(actor.session_id)), None)
    gettext = gettext_of(request)
    config = {
        "event_id": event.id,
        "token": token,
        "door": actor.label,
        "session_id": session.id if session else None,
        "session_title": session.title if session else None,
        "reentry": event.reentry,
        "messages": {key: gettext(text) for key, text in SCRIPT_MESSAGES.items()},
        "jsqr": "/static/vendor/jsQR.js",
        "timezone": event.timezone,
    }
    # "</" cannot end the script block: msgspec escapes nothing, so "<" is written as \u003c
    blob = msgspec.json.encode(config).decode().replace("<", "\\u003c")
    shown = content.localize(event, lang_of(request))
    context = {"event": shown, "config": Markup(blob), "door": actor.label, "session": session}
    context["manifest"] = "/scan.webmanifest?" + urlencode({"token": token})
    return render(request, "scan.html", context, private=True)


async def manifest(request: Request) -> Response:
    """The web app manifest of one door's scanner (its start URL carries the token)."""
    token = request.query_params.get("token") or ""
    body = {
        "name": "Door scanner",
        "short_name": "Door",
        "start_url": "/scan?" + urlencode({"token": token}),
        "scope": "/scan",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4ed8",
        "icons": [
            {"src": "/static/scan-icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/scan-icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/scan-icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    headers = {"Cache-Control": "private, no-cache"}
    return Response(
        msgspec.json.encode(body), media_type="application/manifest+json", headers=headers
    )


async def service_worker(request: Request) -> Response:
    """The scanner's service worker, from /scan-sw.js so that its scope may be /scan."""
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/scan"}
    return Response(SERVICE_WORKER.read_bytes(), media_type="text/javascript", headers=headers)
