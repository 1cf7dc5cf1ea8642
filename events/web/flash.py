"""Messages after an action ("Saved.", "Published.", "3 attendees will be told."), shown once
on the page the action redirects to.

The message travels in a short cookie holding only its key and a number, never text: the
page shows one of the fixed messages below, so a forged cookie can show nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from events.web.i18n import N_

COOKIE = "flash"
PLAIN = {
    "saved": N_("Saved."),
    "published": N_("Published: registration is open."),
    "unpublished": N_("Back to draft: the event is no longer public."),
    "cancelled": N_("The event is cancelled."),
    "session-added": N_("Session added."),
    "session-saved": N_("Session saved."),
    "session-deleted": N_("Session deleted."),
    "questions-saved": N_("Questions saved."),
    "invited": N_("Invitation sent; the partner is told by mail."),
    "cohost-removed": N_("Co-host removed."),
    "door-revoked": N_("Door device revoked: its scanner is refused from now on."),
    "password-changed": N_("Your new password is saved: sign in with it."),
    "duplicated": N_("This is a copy (a draft). Check the dates, then publish."),
}
#: messages with a number: (singular, plural); `%(n)s` is the number
COUNTED = {
    "told": (N_("%(n)s attendee will be told."), N_("%(n)s attendees will be told.")),
    "done": (N_("Done for %(n)s attendee."), N_("Done for %(n)s attendees.")),
    "resent": (
        N_("Ticket sent again to %(n)s attendee."),
        N_("Ticket sent again to %(n)s attendees."),
    ),
    "message-sent": (
        N_("Message on its way to %(n)s attendee."),
        N_("Message on its way to %(n)s attendees."),
    ),
    "skipped": (
        N_("%(n)s attendee could not be changed (see the status)."),
        N_("%(n)s attendees could not be changed (see their status)."),
    ),
    "moved": (
        N_("%(n)s session moved with the event."),
        N_("%(n)s sessions moved with the event."),
    ),
}
_VALUE = re.compile(r"^[a-z-]{1,30}(:\d{1,7})?(\|[a-z-]{1,30}(:\d{1,7})?){0,3}$")


def put(response: Response, *parts: tuple[str, int | None]) -> Response:
    """Show these messages (a key, and its number for a counted one) on the next page."""
    value = "|".join(k if n is None else f"{k}:{n}" for k, n in parts)
    if value:
        response.set_cookie(COOKIE, value, max_age=120, httponly=True, samesite="lax", path="/")
    return response


def take(request: Request) -> list[tuple[str, int | None]]:
    """The messages waiting for this page (and mark them to be cleared once shown)."""
    value = request.cookies.get(COOKIE) or ""
    if not value:
        return []
    request.scope["events.flash_taken"] = True
    if not _VALUE.match(value):
        return []
    out: list[tuple[str, int | None]] = []
    for part in value.split("|"):
        key, _, n = part.partition(":")
        if key in PLAIN or (key in COUNTED and n):
            out.append((key, int(n) if n else None))
    return out


def texts(gettext: Callable[[str], str], parts: list[tuple[str, int | None]]) -> list[str]:
    """The messages in the page's language (the singular form for one, Chinese has one form)."""
    out = []
    for key, n in parts:
        if n is None:
            out.append(gettext(PLAIN[key]))
        else:
            one, many = COUNTED[key]
            out.append(gettext(one if n == 1 else many) % {"n": n})
    return out
