"""Webhooks (partner): subscribe, list, read, delete, rotate the secret, test, deliveries."""

from __future__ import annotations

from events import webhooks
from events.api import params
from events.api.routing import Call, Router
from events.paging import Page, PageRequest
from events.webhooks import DeliveryOut, Queued, WebhookIn, WebhookOut

api = Router("webhooks")


@api.post(
    "/api/v1/webhooks",
    "Subscribe a URL to actions of your events (the secret is shown once)",
    body=WebhookIn,
    response=WebhookOut,
    status=201,
    idempotent=True,
)
async def create_webhook(call: Call) -> WebhookOut:
    return await webhooks.create(
        call.conn, call.actor, call.body, settings=call.settings, now=call.now
    )


@api.get("/api/v1/webhooks", "Your webhooks", response=Page[WebhookOut], query=params.PAGE)
async def list_webhooks(call: Call) -> Page[WebhookOut]:
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await webhooks.list_webhooks(call.conn, call.actor, page)


@api.get("/api/v1/webhooks/{webhook_id}", "Read a webhook", response=WebhookOut)
async def get_webhook(call: Call) -> WebhookOut:
    return await webhooks.get(call.conn, call.actor, call.path("webhook_id"))


@api.delete("/api/v1/webhooks/{webhook_id}", "Delete a webhook", status=204)
async def delete_webhook(call: Call) -> None:
    await webhooks.delete(call.conn, call.actor, call.path("webhook_id"), call.now)


@api.post(
    "/api/v1/webhooks/{webhook_id}/rotate-secret",
    "A new secret (shown once); the old one keeps signing beside it for a day",
    response=WebhookOut,
)
async def rotate_webhook_secret(call: Call) -> WebhookOut:
    return await webhooks.rotate_secret(call.conn, call.actor, call.path("webhook_id"), call.now)


@api.post(
    "/api/v1/webhooks/{webhook_id}/enable",
    "Turn a disabled webhook on again",
    response=WebhookOut,
)
async def enable_webhook(call: Call) -> WebhookOut:
    return await webhooks.enable(call.conn, call.actor, call.path("webhook_id"), call.now)


@api.post(
    "/api/v1/webhooks/{webhook_id}/test",
    "Send a webhook.test message to this webhook",
    response=Queued,
    status=202,
    errors=(409,),
)
async def test_webhook(call: Call) -> Queued:
    return await webhooks.send_test(call.conn, call.actor, call.path("webhook_id"), call.now)


@api.get(
    "/api/v1/webhooks/{webhook_id}/deliveries",
    "Every delivery attempt, oldest first: at, status, response_status, error",
    response=Page[DeliveryOut],
    query=params.PAGE,
)
async def list_deliveries(call: Call) -> Page[DeliveryOut]:
    page = PageRequest.parse(call.query("limit"), call.query("cursor"))
    return await webhooks.deliveries(call.conn, call.actor, call.path("webhook_id"), page)


@api.post(
    "/api/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver",
    "Send a message again (same webhook-id, fresh retries)",
    response=Queued,
    status=202,
    errors=(409,),
)
async def redeliver_message(call: Call) -> Queued:
    return await webhooks.redeliver(
        call.conn, call.actor, call.path("webhook_id"), call.path("message_id"), call.now
    )
