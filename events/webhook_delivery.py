"""Sending webhook messages after commit, signed as Standard Webhooks says.

Wire format (documented in schemas/WebhookPayload.json and the OpenAPI document's
`webhooks`): a POST of `{"type": "<action>", "timestamp": "<when it happened>", "data":
{"event_id", "subject": {"type", "id"}, "actor": {"type", "id", "label"}, "changes":
{"field": [old, new]}}}` with the headers

    webhook-id: msg_<n>            the same on every retry and redelivery (dedupe on it)
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

keyed by the secret's bytes (the base64 after `whsec_`); for a day after a rotation the
header carries a second signature by the previous secret, space separated.

The worker (`WebhookWorker`, run where the mail worker runs) claims due messages with a
lease (`SKIP LOCKED`: any number of workers), never one while an earlier message about the
same subject (one registration, say) is pending for that webhook, so they arrive in order.
Each try: the URL is checked again on what its name resolves to now; POST with a 10 s
timeout, no redirects; a 2xx delivers; anything else is retried after 5 s, 5 min, 30 min,
2 h, 5 h, 10 h and 10 h (27 hours in all) and then given up. A 410 Gone, or giving up after
more than 24 hours without one success, disables the webhook (its pending messages are
failed) and mails the partner. A message whose event the partner no longer hosts is dropped.
Every try is stored (the deliveries list); failures never hold up other webhooks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Annotated, Any

import httpx
import msgspec
from msgspec import Meta

from events import audit, loops, mail, webhook_url
from events.db import Database
from events.errors import InvalidInput
from events.queries import Row
from events.queries import webhooks as q
from events.settings import Settings

log = logging.getLogger("events.webhooks")

#: The wait before each retry; after the last one the message is given up (27 h 35 min).
RETRIES = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
DISABLE_AFTER = timedelta(hours=24)
TIMEOUT = 10.0


class PayloadActor(msgspec.Struct):
    type: str
    id: str | None
    label: str


class PayloadSubject(msgspec.Struct):
    type: str
    id: str | None


class PayloadData(msgspec.Struct):
    event_id: str | None
    subject: PayloadSubject
    actor: PayloadActor
    changes: dict[str, Any]


class WebhookPayload(msgspec.Struct):
    """The body of every webhook message (Standard Webhooks)."""

    type: Annotated[
        str, Meta(description="The audit action, e.g. registration.created (see webhooks.py)")
    ]
    timestamp: datetime
    data: PayloadData


def payload(m: Row) -> bytes:
    return msgspec.json.encode(
        WebhookPayload(
            type=m["action"],
            timestamp=m["at"].astimezone(UTC),
            data=PayloadData(
                event_id=str(m["event_id"]) if m["event_id"] else None,
                subject=PayloadSubject(m["subject_type"], m["subject_id"]),
                actor=PayloadActor(m["actor_type"], m["actor_id"], m["actor_label"]),
                changes=m["changes"],
            ),
        )
    )


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(m: Row, body: bytes, now: datetime) -> dict[str, str]:
    msg_id, timestamp = f"msg_{m['id']}", int(now.timestamp())
    keys = [m["secret"]]
    if m["previous_secret"] and m["previous_until"] and m["previous_until"] > now:
        keys.append(m["previous_secret"])
    return {
        "content-type": "application/json",
        "user-agent": "events-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, msg_id, timestamp, body) for k in keys),
    }


class WebhookWorker(loops.Poller):
    name = "webhook worker"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        send_mail: mail.Send | None = None,
        batch: int = 16,
        poll_seconds: float = 1.0,
        lease_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.send_mail: mail.Send = send_mail or (
            mail.smtp_sender(settings.smtp_url) if settings.smtp_url else mail.log_sender
        )
        super().__init__(batch=batch, poll_seconds=poll_seconds)
        self.lease_seconds = lease_seconds
        self.client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)

    async def run_once(self) -> int:
        """Claim due messages and try each once; returns how many were claimed."""
        async with self.db.connection() as conn:
            claimed = await q.claim(
                conn,
                self.clock(),
                lease_seconds=self.lease_seconds,
                limit=self.batch,
                claim_id=uuid.uuid4(),
            )
        outcomes = await asyncio.gather(
            *(self._deliver(c["id"], c["claim"]) for c in claimed), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                log.error("webhook delivery failed unexpectedly", exc_info=outcome)
        return len(claimed)

    async def run_until_idle(self, rounds: int = 50) -> int:
        """Rounds until nothing is due (tests, and draining on demand); how many were sent."""
        total = 0
        for _ in range(rounds):
            claimed = await self.run_once()
            total += claimed
            if not claimed:
                break
        return total

    async def _deliver(self, message_id: int, claim: uuid.UUID) -> None:
        now = self.clock()
        async with self.db.connection() as conn:
            m = await q.message(conn, message_id)
        assert m is not None
        m["claim"] = claim
        if m["webhook_status"] != "active" or not m["hosts"]:
            reason = "the partner no longer hosts the event" if m["hosts"] else "webhook off"
            await self._store(m, {"status": "dropped", "at": now, "error": reason})
            return
        response_status, error, took = await self._post(m, now)
        if response_status is not None and 200 <= response_status < 300:
            await self._store(m, _outcome(now, "delivered", response_status, None, took))
            return
        attempt = _outcome(now, "failed", response_status, error, took)
        if response_status == 410:
            await self._store(m, {**attempt, "status": "failed"})
            await self.disable(m, "the receiver answered 410 Gone", now)
        elif m["attempts"] < len(RETRIES):
            retry_at = now + RETRIES[m["attempts"]]
            await self._store(m, {**attempt, "status": "pending", "next_attempt_at": retry_at})
        else:
            await self._store(m, {**attempt, "status": "failed"})
            async with self.db.connection() as conn:
                since = await q.failing_since(conn, m["webhook_id"])
            if since is not None and since <= now - DISABLE_AFTER:
                await self.disable(m, "deliveries failed for more than 24 hours", now)

    async def _post(self, m: Row, now: datetime) -> tuple[int | None, str | None, int]:
        started = time.monotonic()
        try:
            await webhook_url.check(m["url"], self.settings, resolved=True)
        except InvalidInput as exc:
            return None, f"refused: {exc.detail}", 0
        body = payload(m)
        try:
            async with self.client.stream(
                "POST", m["url"], content=body, headers=headers(m, body, now)
            ) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            took = int((time.monotonic() - started) * 1000)
            return None, f"{exc.__class__.__name__}: {exc}"[:500], took
        took = int((time.monotonic() - started) * 1000)
        return status, None if status < 300 else f"answered {status}", took

    async def _store(self, m: Row, outcome: dict[str, Any]) -> None:
        async with self.db.connection() as conn:
            if not await q.record_attempt(conn, m, outcome):
                log.warning("webhook message %s: lease lost before its outcome was stored", m["id"])

    async def disable(self, m: Row, reason: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            hook = await q.set_status(conn, m["webhook_id"], "disabled", reason=reason, now=now)
            if hook is None:
                return  # disabled (or deleted) already
            await audit.record(
                conn,
                audit.system("webhooks"),
                "webhook.disabled",
                ("webhook", m["webhook_id"]),
                {"status": ["active", "disabled"], "reason": [None, reason]},
                partner_id=hook["partner_id"],
                now=now,
            )
        log.warning("webhook %s disabled: %s", m["webhook_id"], reason)
        if hook["partner_email"]:
            try:
                await self.send_mail(_disabled_mail(hook, reason, self.settings))
            except Exception:  # the webhook is disabled either way; the log says so
                log.exception("webhook %s: the partner could not be told", m["webhook_id"])

    async def close(self) -> None:
        await self.client.aclose()


def _outcome(
    now: datetime, attempt: str, response_status: int | None, error: str | None, took: int
) -> dict[str, Any]:
    return {
        "status": "delivered",
        "at": now,
        "attempt": attempt,
        "response_status": response_status,
        "error": error,
        "duration_ms": took,
    }


def _disabled_mail(hook: Row, reason: str, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = hook["partner_email"]
    message["Subject"] = "Your webhook was turned off"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Hello {hook['partner_name']},\n\n"
        f"We stopped sending to your webhook {hook['url']} because {reason}.\n"
        "Its undelivered messages are kept; see GET /api/v1/webhooks/"
        f"{hook['id']}/deliveries. Once the receiver works again, turn it back on with\n"
        f"POST {settings.base_url}/api/v1/webhooks/{hook['id']}/enable and redeliver what"
        " you missed.\n"
    )
    return message


@contextlib.asynccontextmanager
async def worker_running(
    db: Database, settings: Settings, *, clock: Callable[[], datetime], grace: float = 15.0
) -> AsyncIterator[WebhookWorker | None]:
    """Run a WebhookWorker for the app's lifetime where the mail worker runs."""
    if not settings.mail_worker:
        yield None
        return
    worker = WebhookWorker(db, settings, clock=clock)
    try:
        async with loops.running(worker, name="webhook-worker", grace=grace):
            yield worker
    finally:
        await worker.close()
