"""Subscription feeds: a partner's hosted events and an attendee's registrations, each at a
secret URL (an HMAC of its subject), built from the same VEVENTs as ical.py's files."""

from __future__ import annotations

from uuid import UUID

import msgspec

from events import keys, online
from events.calendars import ticket_url_of
from events.errors import NotFound
from events.hosting import Actor, require_partner
from events.ical import (
    FEED_LIMIT,
    Entry,
    build,
    cache,
    event_entries,
    invite_entries,
    invite_key,
)
from events.queries import Connection, Row
from events.queries import ical as q
from events.translations import localize_row


class FeedsOut(msgspec.Struct):
    partner: str  # the partner's feed of its hosted events (a secret URL)


class FeedOut(msgspec.Struct):
    url: str  # the attendee's feed of all registrations of their email (a secret URL)


async def _feed_secret(conn: Connection) -> bytes:
    return await keys.server_secret(conn, "feeds")


async def attendee_feed_url(
    conn: Connection, registration_id: UUID, email: str, base_url: str
) -> str:
    """The secret feed of every registration of `email`, reached through one registration."""
    mac = keys.derive(await _feed_secret(conn), "attendee-feed", email.lower())
    return f"{base_url}/api/v1/feeds/attendee/{registration_id.hex}{mac}.ics"


async def partner_feed_url(conn: Connection, partner_id: UUID, base_url: str) -> str:
    mac = keys.derive(await _feed_secret(conn), "partner-feed", str(partner_id))
    return f"{base_url}/api/v1/feeds/partner/{partner_id.hex}{mac}.ics"


async def feeds(conn: Connection, actor: Actor, *, base_url: str) -> FeedsOut:
    partner = require_partner(actor)
    assert partner.partner_id is not None
    return FeedsOut(partner=await partner_feed_url(conn, partner.partner_id, base_url))


async def attendee_feed_link(conn: Connection, registration: Row, *, base_url: str) -> FeedOut:
    return FeedOut(
        await attendee_feed_url(conn, registration["id"], registration["email"], base_url)
    )


def _split_token(token: str) -> tuple[UUID, str] | None:
    try:
        return UUID(hex=token[:32]), token[32:]
    except ValueError:
        return None


async def attendee_feed(conn: Connection, token: str, *, base_url: str, mail_from: str) -> bytes:
    split = _split_token(token)
    email = None if split is None else await q.registration_email(conn, split[0])
    secret = await _feed_secret(conn)
    if split is None or email is None:
        raise NotFound("No such feed")
    if not keys.matches(secret, "attendee-feed", email.lower(), split[1]):
        raise NotFound("No such feed")
    registrations = await q.registrations_of_email(conn, email, FEED_LIMIT)
    found = [localize_row(r, r["locale"]) for r in registrations]
    access = await keys.server_secret(conn, "access")
    join_key = await keys.server_secret(conn, "join")
    key = ("attendee-feed", email.lower(), base_url, mail_from, *(invite_key(r) for r in found))

    def make() -> bytes:
        entries: list[Entry] = []
        for r in found:
            url = ticket_url_of(access, r["id"], base_url)
            join = None
            if r["attendance"] == "online":
                join = f"{base_url}/join/{online.secret_of(join_key, r['id'])}"
            entries += invite_entries(r, ticket_url=url, mail_from=mail_from, join_url=join)
        return build(entries, name=email)

    return cache.get_or_make(key, make)


async def partner_feed(conn: Connection, token: str, *, base_url: str, mail_from: str) -> bytes:
    split = _split_token(token)
    secret = await _feed_secret(conn)
    if split is None or not keys.matches(secret, "partner-feed", str(split[0]), split[1]):
        raise NotFound("No such feed")
    found = await q.hosted_events(conn, split[0], FEED_LIMIT)
    key = (
        "partner-feed",
        split[0],
        base_url,
        mail_from,
        *((r["event_id"], r["revision"], r["event_status"], r["event_updated_at"]) for r in found),
    )

    def make() -> bytes:
        entries = [
            e for r in found for e in event_entries(r, base_url=base_url, mail_from=mail_from)
        ]
        return build(entries, name="Hosted events")

    return cache.get_or_make(key, make)
