"""The calendar files the API serves, each made once per version and kept in rendered_files:
an event's public calendar.ics (ical.event_entries) and a registration's invite
(ical.render_invite), in the reader's language."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events import ical, keys, online, rendered, reply_address
from events.errors import NotFound
from events.ids import parse_uuid
from events.queries import Connection, Row
from events.queries import ical as q
from events.translations import localize_row

Lang = ical.Lang


async def ticket_url(conn: Connection, registration_id: UUID, base_url: str) -> str:
    """The attendee's ticket page, as registration.render hands it out (a test keeps them equal)."""
    return ticket_url_of(await keys.server_secret(conn, "access"), registration_id, base_url)


def ticket_url_of(access_secret: bytes, registration_id: UUID, base_url: str) -> str:
    token = keys.derive(access_secret, "registration", str(registration_id))
    return f"{base_url}/tickets/{registration_id}?token={token}"


async def event_calendar(
    conn: Connection, event_id: str, *, base_url: str, mail_from: str, now: datetime, lang: Lang
) -> bytes:
    """calendar.ics of a published (or cancelled) event, in `lang` if any; drafts: not found."""
    parsed = parse_uuid(event_id)
    found = None if parsed is None else await q.event(conn, parsed)
    if found is None or found["event_status"] == "draft" or found["visibility"] == "private":
        raise NotFound("No such event")
    r = found if lang is None else localize_row(found, lang)
    key = ("event", r["event_id"], r["revision"], r["event_status"], r["event_updated_at"], lang)
    return await rendered.cached(
        conn,
        r["event_id"],
        "calendar.ics" if lang is None else f"calendar.{lang}.ics",
        rendered.version_of(*key, base_url, mail_from),
        make=lambda: ical.build(ical.event_entries(r, base_url=base_url, mail_from=mail_from)),
        now=now,
    )


async def invite(
    conn: Connection,
    registration: Row,
    *,
    base_url: str,
    mail_from: str,
    now: datetime,
    reply_base: str | None = None,
) -> bytes:
    """The invite of a registration the caller may read (see registration.authorize), in its
    locale; `reply_base`: EVENTS_REPLY_ADDRESS, which makes the registration's reply address."""
    found = await q.invite(conn, registration["id"])
    assert found is not None
    r = localize_row(found, found["locale"])
    url = await ticket_url(conn, r["id"], base_url)
    reply_to = await reply_address.address_for(conn, reply_base, r["id"])
    join = await online.join_url(conn, r, base_url)
    return await rendered.cached(
        conn,
        r["id"],
        "invite.ics",
        rendered.version_of(*ical.invite_key(r), url, mail_from, reply_to, join),
        make=lambda: ical.render_invite(
            r, ticket_url=url, mail_from=mail_from, reply_to=reply_to, join_url=join
        ),
        now=now,
    )
