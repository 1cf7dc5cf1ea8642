"""Webhooks: a partner's own systems told what happens at the events it hosts.

A partner subscribes a URL to actions of the audit log (`registration.created`, …, or
`"*"`), for all its events or one (`event_id`). Each audit entry of an event is queued, in
the transaction of the change, as one message per matching webhook of a partner that hosts
the event (a trigger on audit_log, migration 0013); webhook_delivery.py sends them after
commit, signed as Standard Webhooks says. So a partner only ever hears of events it hosts,
and hears nothing of a change that rolled back.

The signing secret (`whsec_` + base64 of 32 random bytes) is shown once, when made or
rotated; after a rotation the previous secret signs beside the new one for a day. Every
management action is itself in the audit log (partner-level entries, never sent out).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from events import audit, catalog, webhook_url
from events.errors import FieldError, InvalidInput, InvalidState, NotFound
from events.hosting import Actor, require_partner, role_of
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import webhooks as q
from events.settings import Settings

#: What a webhook may subscribe to: every action about an event ("*" for all of them); a
#: partner's own business (its webhooks, users) is logged but never sent.
SUBSCRIBABLE = (
    *(a for a in audit.ACTIONS if not a.startswith(("webhook.", "partner.", "partner_user."))),
    "webhook.test",
)


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=2000)]
    events: Annotated[
        list[Annotated[str, Meta(max_length=100)]], Meta(min_length=1, max_length=100)
    ]
    event_id: str | None = None


class WebhookOut(msgspec.Struct, omit_defaults=True):
    id: str
    url: str
    events: list[str]
    status: Literal["active", "disabled"]
    created_at: datetime
    event_id: str | None = None
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    secret: str | None = None  # only when made or rotated


class DeliveryOut(msgspec.Struct):
    """One attempt to deliver one message."""

    id: str
    message_id: str
    type: str
    at: datetime
    status: Literal["delivered", "failed"]
    response_status: int | None
    error: str | None
    duration_ms: int


class Queued(msgspec.Struct):
    message_id: str
    status: Literal["pending"] = "pending"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_out(r: Row, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=str(r["id"]),
        url=r["url"],
        events=list(r["events"]),
        status=r["status"],
        created_at=r["created_at"],
        event_id=str(r["event_id"]) if r["event_id"] else None,
        disabled_reason=r["disabled_reason"],
        failing_since=r["failing_since"],
        secret=secret,
    )


async def create(
    conn: Connection, actor: Actor, data: WebhookIn, *, settings: Settings, now: datetime
) -> WebhookOut:
    partner = require_partner(actor)
    wanted = _events(data.events)
    event_id = await _own_event(conn, actor, data.event_id)
    await webhook_url.check(data.url, settings)
    secret = new_secret()
    fields = {"event_id": event_id, "url": data.url, "events": wanted, "secret": secret}
    made = await q.insert_webhook(conn, _partner(partner), {**fields, "now": now})
    changes = {"url": [None, data.url], "events": [None, wanted]}
    await _log(conn, actor, "webhook.created", made["id"], changes, now)
    return webhook_out(made, secret)


def _events(names: list[str]) -> list[str]:
    errors = [
        FieldError(f"events.{i}", "is not an action a webhook can subscribe to")
        for i, name in enumerate(names)
        if name != "*" and name not in SUBSCRIBABLE
    ]
    if errors:
        raise InvalidInput(errors)
    return list(dict.fromkeys(names))


async def _own_event(conn: Connection, actor: Actor, event_id: str | None) -> UUID | None:
    if event_id is None:
        return None
    event = await catalog.load(conn, event_id)
    if event is None or role_of(event, actor) is None:
        raise InvalidInput.one("event_id", "is not an event you host")
    return UUID(str(event["id"]))


async def list_webhooks(conn: Connection, actor: Actor, page: PageRequest) -> Page[WebhookOut]:
    found = await q.partner_webhooks(
        conn, _partner(actor), after_seq=page.after_seq, limit=page.limit + 1
    )
    return page_of([webhook_out(r) for r in found], [r["seq"] for r in found], page.limit)


async def load(conn: Connection, actor: Actor, webhook_id: str) -> Row:
    """The partner's own live webhook, else 404 (another's is not found either)."""
    partner_id = _partner(actor)
    parsed = catalog.parse_id(webhook_id)
    found = None if parsed is None else await q.webhook(conn, parsed, partner_id)
    if found is None:
        raise NotFound("No such webhook")
    return found


async def get(conn: Connection, actor: Actor, webhook_id: str) -> WebhookOut:
    return webhook_out(await load(conn, actor, webhook_id))


async def delete(conn: Connection, actor: Actor, webhook_id: str, now: datetime) -> None:
    hook = await load(conn, actor, webhook_id)
    await q.set_status(conn, hook["id"], "deleted", reason="deleted by the partner", now=now)
    await _log(conn, actor, "webhook.deleted", hook["id"], {"status": [hook["status"], None]}, now)


async def enable(conn: Connection, actor: Actor, webhook_id: str, now: datetime) -> WebhookOut:
    """Turn a disabled webhook on again (after fixing the receiver)."""
    hook = await load(conn, actor, webhook_id)
    if hook["status"] == "disabled":
        await q.set_status(conn, hook["id"], "active", reason=None, now=now)
        await _log(
            conn, actor, "webhook.enabled", hook["id"], {"status": ["disabled", "active"]}, now
        )
    return webhook_out(await load(conn, actor, webhook_id))


async def rotate_secret(
    conn: Connection, actor: Actor, webhook_id: str, now: datetime
) -> WebhookOut:
    hook = await load(conn, actor, webhook_id)
    secret = new_secret()
    await q.rotate_secret(conn, hook["id"], hook["partner_id"], secret, now=now)
    await _log(conn, actor, "webhook.secret_rotated", hook["id"], {}, now)
    return webhook_out(hook, secret)


async def send_test(conn: Connection, actor: Actor, webhook_id: str, now: datetime) -> Queued:
    """Queue a `webhook.test` message to this webhook alone."""
    hook = await load(conn, actor, webhook_id)
    if hook["status"] != "active":
        raise InvalidState("The webhook is disabled: enable it first")
    entry = await _log(conn, actor, "webhook.test", hook["id"], {}, now)
    return Queued(str(await q.insert_message(conn, hook["id"], entry, now)))


async def redeliver(
    conn: Connection, actor: Actor, webhook_id: str, message_id: str, now: datetime
) -> Queued:
    """Send a message again, with the same webhook-id, and a fresh round of retries."""
    hook = await load(conn, actor, webhook_id)
    if not message_id.isdigit() or len(message_id) > 18:
        raise NotFound("No such message")
    if not await q.message_exists(conn, hook["id"], int(message_id)):
        raise NotFound("No such message")
    if hook["status"] != "active":
        raise InvalidState("The webhook is disabled: enable it first")
    if not await q.redeliver(conn, hook["id"], int(message_id), now):
        raise InvalidState("The message is being delivered already")
    return Queued(message_id)


async def deliveries(
    conn: Connection, actor: Actor, webhook_id: str, page: PageRequest
) -> Page[DeliveryOut]:
    hook = await load(conn, actor, webhook_id)
    found = await q.attempts(conn, hook["id"], after_id=page.after_seq, limit=page.limit + 1)
    items = [
        DeliveryOut(
            id=str(r["id"]),
            message_id=str(r["message_id"]),
            type=r["action"],
            at=r["at"],
            status=r["status"],
            response_status=r["response_status"],
            error=r["error"],
            duration_ms=r["duration_ms"],
        )
        for r in found
    ]
    return page_of(items, [r["id"] for r in found], page.limit)


async def _log(
    conn: Connection,
    actor: Actor,
    action: str,
    webhook_id: UUID,
    changes: dict[str, Any],
    now: datetime,
) -> int:
    return await audit.record(
        conn, actor, action, ("webhook", webhook_id), changes, partner_id=actor.partner_id, now=now
    )


def _partner(actor: Actor) -> UUID:
    require_partner(actor)
    assert actor.partner_id is not None
    return actor.partner_id
