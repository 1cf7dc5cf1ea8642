"""The console's messages to attendees: write to an audience of the event (status, checked
in or not, a session), see how many it reaches (the API's dry run), then send; and the
messages sent, with how many were delivered, are waiting or failed.

Sending needs a count first: the form carries the audience it counted (`counted`), and a
send whose audience differs from it is counted again instead of sent. The form also
carries a one-time id, so a double press or a resent form mails nobody twice.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import msgspec
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import accounts, catalog, idempotency, messages
from events.catalog import EventOut
from events.errors import DomainError, FieldError, InvalidInput
from events.messages import Audience, MessageIn
from events.paging import PageRequest, decode_cursor
from events.web import flash
from events.web.console import _page, _who
from events.web.i18n import N_
from events.web.render import connection, form_of, gettext_of, now, redirect

STATUSES = {
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("Waitlisted"),
    "pending": N_("Pending review"),
    "cancelled": N_("Cancelled"),
    "rejected": N_("Rejected"),
}
ERRORS = {
    "subject": N_("Please enter a subject (at most 200 characters)."),
    "body": N_("Please write the message."),
    "status": N_("Tick at least one status."),
    "session": N_("Choose a session of this event."),
}
CONFLICTS = {
    "idempotency-key-reused": N_(
        "This form was sent already. Reload the page to write a new message."
    ),
}
PAGE = 100


def routes() -> list[BaseRoute]:
    return [
        Route("/console/events/{event_id}/messages", messages_page),
        Route("/console/events/{event_id}/messages", write, methods=["POST"]),
    ]


def _audience_key(audience: Audience) -> str:
    """The audience as one string, to tell whether a send is what was counted."""
    return msgspec.json.encode(audience).decode()


def message_in(form: FormData, *, dry_run: bool) -> MessageIn:
    """The form as the API's request; InvalidInput names the form's own fields."""
    errors: list[FieldError] = []
    subject = " ".join(str(form.get("subject") or "").split())
    body = str(form.get("body") or "").strip()
    statuses = [s for s in STATUSES if s in form.getlist("status")]
    session = str(form.get("session") or "") or None
    if not subject or len(subject) > 200:
        errors.append(FieldError("subject", "required"))
    if not body or len(body) > 20_000:
        errors.append(FieldError("body", "required"))
    if not statuses:
        errors.append(FieldError("status", "required"))
    if session is not None and catalog.parse_id(session) is None:
        errors.append(FieldError("session", "not a session"))
    if errors:
        raise InvalidInput(errors)
    checked_in = {"yes": True, "no": False}.get(str(form.get("checked_in") or ""))
    audience = Audience(status=statuses, checked_in=checked_in, session=session)
    return MessageIn(subject=subject, body=body, audience=audience, dry_run=dry_run)


def _errors(exc: InvalidInput) -> dict[str, str]:
    """The domain's fields (`audience.session`, `audience.status.0`) as the form's."""
    out: dict[str, str] = {}
    for error in exc.extra["errors"]:
        field = error["field"].removeprefix("audience.").split(".")[0]
        out.setdefault(field, ERRORS.get(field, ERRORS["body"]))
    return out


async def _show(
    request: Request, *, status: int = 200, values: dict[str, Any] | None = None, **extra: Any
) -> Response:
    event_id = request.path_params["event_id"]
    page = PageRequest(after_seq=decode_cursor(request.query_params.get("cursor")), limit=PAGE)
    async with connection(request) as conn:
        who = await _who(request, conn)
        event = await catalog.get_event(conn, who.actor, event_id)
        sent = await messages.list_messages(conn, who.actor, event_id, page)
    context = {
        "event": event,
        "sent": sent,
        "statuses": STATUSES,
        "audience_text": lambda audience: audience_text(audience, event, gettext_of(request)),
        "values": values or {"status": ["confirmed", "waitlisted"]},
        "form_id": secrets.token_urlsafe(16),
        "errors": {},
        "counted": None,
        "message": None,
        **extra,
    }
    return _page(request, "console/messages.html", who, status=status, **context)


async def messages_page(request: Request) -> Response:
    return await _show(request)


async def write(request: Request) -> Response:
    """Count the audience (and show the form again with the count), or send."""
    form = await form_of(request)
    values = {k: form.getlist(k) if k == "status" else form.get(k) for k in form}
    try:
        data = message_in(form, dry_run=True)
        key = _audience_key(data.audience)
        if form.get("step") == "send" and form.get("counted") == key:
            return await _send(request, form, msgspec.structs.replace(data, dry_run=False))
        async with connection(request) as conn:
            who = await _who(request, conn)
            found = await messages.send(conn, who.actor, _event_id(request), data, now=now(request))
    except InvalidInput as exc:
        return await _show(request, status=422, values=values, errors=_errors(exc))
    except DomainError as exc:
        if exc.code not in CONFLICTS:
            raise
        return await _show(request, status=409, values=values, message=CONFLICTS[exc.code])
    told = flash.texts(gettext_of(request), [("told", found.recipients)])[0]
    counted = {"n": found.recipients, "key": key, "text": told}
    return await _show(request, values=values, counted=counted, form_id=form.get("form_id"))


async def _send(request: Request, form: FormData, data: MessageIn) -> Response:
    """Send once per form: a second press of the same form replays the first answer."""
    form_id = str(form.get("form_id") or "")[:100] or secrets.token_urlsafe(16)
    scope = f"web message {_event_id(request)}"
    digest = hashlib.sha256(msgspec.json.encode(data)).digest()
    async with connection(request, write=True) as conn:
        who: accounts.SignedIn = await _who(request, conn)
        replay = await idempotency.begin(conn, scope, form_id, digest)
        if replay is None:
            queued = await messages.send(
                conn, who.actor, _event_id(request), data, now=now(request)
            )
            replay = idempotency.Replay(303, str(queued.recipients).encode())
            await idempotency.finish(conn, scope, form_id, digest, replay)
    back = f"/console/events/{_event_id(request)}/messages"
    return redirect(request, back, ("message-sent", int(replay.body)))


def _event_id(request: Request) -> str:
    return str(request.path_params["event_id"])


def audience_text(audience: dict[str, Any], event: EventOut, gettext: Any) -> str:
    """Who a sent message went to, in words: "Confirmed, Waitlisted · checked in · Talk"."""
    statuses = audience.get("status") or ["confirmed", "waitlisted"]  # the API's default
    parts = [", ".join(gettext(STATUSES.get(s, s)) for s in statuses)]
    if audience.get("checked_in") is True:
        parts.append(gettext(N_("checked in")))
    elif audience.get("checked_in") is False:
        parts.append(gettext(N_("not checked in")))
    titles = {s.id: s.title for s in event.sessions}
    if audience.get("session"):
        parts.append(titles.get(audience["session"], gettext(N_("a deleted session"))))
    return " · ".join(p for p in parts if p)
