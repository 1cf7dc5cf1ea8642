"""Calendar files: an event's calendar.ics, a registration's invite, subscription feeds."""

from __future__ import annotations

from starlette.responses import Response

from events import calendars, ical, privacy, registration
from events import feeds as feed_files
from events.api import params
from events.api.routing import Call, Router
from events.errors import InvalidInput
from events.feeds import FeedOut, FeedsOut
from events.translations import LANGS

api = Router("calendar")
ICS = "text/calendar"


def _ics(body: bytes, filename: str, *, private: bool) -> Response:
    return Response(
        body,
        media_type=ical.CONTENT_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-cache" if private else "public, max-age=60",
        },
    )


@api.get(
    "/api/v1/events/{event_id}/calendar.ics",
    "The event as a calendar file (published or cancelled events; drafts are 404);"
    " ?lang=en|zh-Hant|zh-Hans shows its content in that language",
    auth="none",
    media_type=ICS,
    rate_limit="public",
    errors=(404, 422),
    query=(params.LANG,),
)
async def event_calendar(call: Call) -> Response:
    lang = call.query("lang") or None
    if lang is not None and lang not in LANGS:
        raise InvalidInput.one("lang", "must be en, zh-Hant or zh-Hans")
    body = await calendars.event_calendar(
        call.conn,
        call.path("event_id"),
        base_url=call.settings.base_url,
        mail_from=call.settings.mail_from,
        now=call.now,
        lang=lang,
    )
    return _ics(body, "event.ics", private=False)


@api.get(
    "/api/v1/registrations/{registration_id}/invite.ics",
    "The registration's calendar invite: METHOD:REQUEST, or CANCEL once cancelled"
    " (410 once its personal data is erased)",
    auth="attendee",
    media_type=ICS,
    errors=(404, 410),
)
async def invite(call: Call) -> Response:
    found, _ = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    privacy.refuse_erased(found)
    settings = call.settings
    body = await calendars.invite(
        call.conn,
        found,
        base_url=settings.base_url,
        mail_from=settings.mail_from,
        now=call.now,
        reply_base=settings.reply_address,
    )
    return _ics(body, "invite.ics", private=True)


@api.get(
    "/api/v1/registrations/{registration_id}/feed",
    "The secret URL of the attendee's feed: every registration of their email",
    response=FeedOut,
    auth="attendee",
)
async def attendee_feed_link(call: Call) -> FeedOut:
    found, _ = await registration.authorize(
        call.conn, call.actor, call.secret, call.path("registration_id")
    )
    return await feed_files.attendee_feed_link(call.conn, found, base_url=call.settings.base_url)


@api.get(
    "/api/v1/feeds",
    "The secret URL of your feed of hosted events (partner token)",
    response=FeedsOut,
)
async def feeds(call: Call) -> FeedsOut:
    return await feed_files.feeds(call.conn, call.actor, base_url=call.settings.base_url)


@api.get(
    "/api/v1/feeds/attendee/{token}.ics",
    "An attendee's subscription feed (the token is the secret)",
    auth="none",
    media_type=ICS,
    rate_limit="public",
    errors=(404,),
)
async def attendee_feed(call: Call) -> Response:
    body = await feed_files.attendee_feed(
        call.conn,
        call.path("token"),
        base_url=call.settings.base_url,
        mail_from=call.settings.mail_from,
    )
    return _ics(body, "registrations.ics", private=True)


@api.get(
    "/api/v1/feeds/partner/{token}.ics",
    "A partner's subscription feed of its hosted events (the token is the secret)",
    auth="none",
    media_type=ICS,
    rate_limit="public",
    errors=(404,),
)
async def partner_feed(call: Call) -> Response:
    body = await feed_files.partner_feed(
        call.conn,
        call.path("token"),
        base_url=call.settings.base_url,
        mail_from=call.settings.mail_from,
    )
    return _ics(body, "hosted-events.ics", private=True)
