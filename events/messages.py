"""Hosts write to their attendees: a message to an audience, sent once to each recipient.

The audience is chosen by status (default: confirmed and waitlisted), whether checked in,
and a session. The message and one outbox row per recipient are written in one statement;
the outbox's unique (kind, registration, revision) key, with the message's id as revision,
makes "once per recipient" a database fact. A dry run counts the recipients and stores and
sends nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from events import audit, catalog
from events.errors import InvalidInput
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection
from events.queries import catalog as catalog_q
from events.queries import messages as q

STATUSES = ("confirmed", "waitlisted", "cancelled", "pending", "rejected")


class Audience(msgspec.Struct, forbid_unknown_fields=True):
    status: Annotated[list[str], Meta(max_length=5)] | None = None
    checked_in: bool | None = None
    session: str | None = None


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: Annotated[str, Meta(min_length=1, max_length=200)]
    body: Annotated[str, Meta(min_length=1, max_length=20_000)]
    audience: Audience = msgspec.field(default_factory=Audience)
    dry_run: bool = False


class MessageQueued(msgspec.Struct):
    id: str | None  # None for a dry run: nothing is stored
    recipients: int
    dry_run: bool


class MessageOut(msgspec.Struct):
    id: str
    subject: str
    body: str
    audience: dict[str, Any]
    recipients: int
    sent: int
    pending: int
    failed: int
    created_at: datetime


async def send(
    conn: Connection, actor: Actor, event_id: str, data: MessageIn, *, now: datetime
) -> MessageQueued:
    event = await catalog.load_for(conn, actor, event_id, "manage")
    fields = _fields(data)
    if fields["session"] is not None or data.audience.session is not None:
        found = fields["session"] and await catalog_q.session(conn, fields["session"], event["id"])
        if not found:
            raise InvalidInput.one("audience.session", "is not a session of this event")
    if data.dry_run:
        count = await q.count_audience(
            conn, event["id"], fields["statuses"], fields["checked_in"], fields["session"]
        )
        return MessageQueued(None, count, True)
    made = await q.insert_message(conn, event["id"], actor.partner_id, fields, now)
    sent = {"subject": [None, fields["subject"]], "recipients": [None, made["recipients"]]}
    subject = ("message", made["public_id"])
    await audit.record(conn, actor, "message.sent", subject, sent, event_id=event["id"], now=now)
    return MessageQueued(str(made["public_id"]), made["recipients"], False)


def _fields(data: MessageIn) -> dict[str, Any]:
    statuses = data.audience.status or ["confirmed", "waitlisted"]
    for i, status in enumerate(statuses):
        if status not in STATUSES:
            raise InvalidInput.one(f"audience.status.{i}", "must be one of " + ", ".join(STATUSES))
    subject = " ".join(data.subject.split())
    if not subject:
        raise InvalidInput.one("subject", "must not be blank")
    if not data.body.strip():
        raise InvalidInput.one("body", "must not be blank")
    session = None if data.audience.session is None else catalog.parse_id(data.audience.session)
    audience = msgspec.to_builtins(data.audience)
    return {
        "subject": subject,
        "body": data.body.strip(),
        "statuses": list(dict.fromkeys(statuses)),
        "checked_in": data.audience.checked_in,
        "session": session,
        "audience": {k: v for k, v in audience.items() if v is not None},
    }


async def list_messages(
    conn: Connection, actor: Actor, event_id: str, page: PageRequest
) -> Page[MessageOut]:
    event = await catalog.load_for(conn, actor, event_id, "manage")
    found = await q.messages_of(conn, event["id"], after_seq=page.after_seq, limit=page.limit + 1)
    zone = ZoneInfo(event["timezone"])
    items = [
        MessageOut(
            id=str(m["public_id"]),
            subject=m["subject"],
            body=m["body"],
            audience=m["audience"],
            recipients=m["recipients"],
            sent=m["sent"],
            pending=m["pending"],
            failed=m["failed"],
            created_at=m["created_at"].astimezone(zone),
        )
        for m in found
    ]
    return page_of(items, [m["id"] for m in found], page.limit)
