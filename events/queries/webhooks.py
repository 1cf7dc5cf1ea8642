"""SQL of webhooks.py and webhook_delivery.py: subscriptions, the outbox, attempts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from events.queries import Connection, Row, row, rows

_WEBHOOK = (
    "SELECT id, seq, partner_id, event_id, url, events, status, disabled_reason, failing_since,"
    " created_at, updated_at FROM webhooks"
)


async def insert_webhook(conn: Connection, partner_id: UUID, fields: dict[str, Any]) -> Row:
    record = await conn.fetchrow(
        "INSERT INTO webhooks (partner_id, event_id, url, events, secret, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, seq, partner_id, event_id, url,"
        " events, status, disabled_reason, failing_since, created_at, updated_at",
        partner_id,
        fields["event_id"],
        fields["url"],
        fields["events"],
        fields["secret"],
        fields["now"],
    )
    assert record is not None
    return dict(record)


async def partner_webhooks(
    conn: Connection, partner_id: UUID, *, after_seq: int, limit: int
) -> list[Row]:
    return rows(
        await conn.fetch(
            _WEBHOOK + " WHERE partner_id = $1 AND status <> 'deleted' AND seq > $2"
            " ORDER BY seq LIMIT $3",
            partner_id,
            after_seq,
            limit,
        )
    )


async def webhook(conn: Connection, webhook_id: UUID, partner_id: UUID) -> Row | None:
    return row(
        await conn.fetchrow(
            _WEBHOOK + " WHERE id = $1 AND partner_id = $2 AND status <> 'deleted'",
            webhook_id,
            partner_id,
        )
    )


async def set_status(
    conn: Connection, webhook_id: UUID, status: str, *, reason: str | None, now: datetime
) -> Row | None:
    """Change a webhook's status; its pending messages are dropped (deleted) or failed
    (disabled). Returns the webhook with its partner's email, or None if it was not live."""
    return row(
        await conn.fetchrow(
            "WITH w AS (UPDATE webhooks SET status = $2, disabled_reason = $3, updated_at = $4,"
            "   failing_since = CASE WHEN $2 = 'active' THEN NULL ELSE failing_since END"
            "   WHERE id = $1 AND status <> 'deleted' AND status <> $2"
            "   RETURNING id, partner_id, url),"
            " m AS (UPDATE webhook_messages SET status = CASE WHEN $2 = 'deleted' THEN 'dropped'"
            "   ELSE 'failed' END, finished_at = $4, last_error = $3, claim = NULL"
            "   WHERE webhook_id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM w))"
            " SELECT w.id, w.partner_id, w.url, p.email AS partner_email, p.name AS partner_name"
            " FROM w JOIN partners p ON p.id = w.partner_id",
            webhook_id,
            status,
            reason,
            now,
        )
    )


async def rotate_secret(
    conn: Connection, webhook_id: UUID, partner_id: UUID, secret: str, *, now: datetime
) -> bool:
    """The new secret signs from now; the old one signs beside it for a day."""
    done = await conn.fetchval(
        "UPDATE webhooks SET previous_secret = secret, previous_until = $4, secret = $3,"
        " updated_at = $5 WHERE id = $1 AND partner_id = $2 AND status <> 'deleted'"
        " RETURNING id",
        webhook_id,
        partner_id,
        secret,
        now + timedelta(days=1),
        now,
    )
    return done is not None


async def insert_message(conn: Connection, webhook_id: UUID, audit_id: int, now: datetime) -> int:
    """A message for one webhook only (the "send test" action)."""
    return int(
        await conn.fetchval(
            "INSERT INTO webhook_messages (webhook_id, audit_id, ordering, created_at,"
            " next_attempt_at) VALUES ($1, $2, $4, $3, $3) RETURNING id",
            webhook_id,
            audit_id,
            now,
            f"webhook:{webhook_id}",
        )
    )


async def redeliver(conn: Connection, webhook_id: UUID, message_id: int, now: datetime) -> bool:
    """Send a message again (same webhook-id) with a fresh round of retries."""
    done = await conn.fetchval(
        "UPDATE webhook_messages SET status = 'pending', next_attempt_at = $3, attempts = 0,"
        " claim = NULL, claimed_until = NULL, finished_at = NULL"
        " WHERE id = $2 AND webhook_id = $1 AND status <> 'pending' RETURNING id",
        webhook_id,
        message_id,
        now,
    )
    return done is not None


async def message_exists(conn: Connection, webhook_id: UUID, message_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM webhook_messages WHERE id = $2 AND webhook_id = $1)",
            webhook_id,
            message_id,
        )
    )


async def attempts(conn: Connection, webhook_id: UUID, *, after_id: int, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT t.id, t.message_id, t.at, t.status, t.response_status, t.error,"
            " t.duration_ms, a.action FROM webhook_attempts t"
            " JOIN webhook_messages m ON m.id = t.message_id JOIN audit_log a ON a.id = m.audit_id"
            " WHERE t.webhook_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3",
            webhook_id,
            after_id,
            limit,
        )
    )


async def messages(conn: Connection, webhook_id: UUID, *, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT m.id, m.status, m.attempts, m.created_at, m.next_attempt_at, m.last_error,"
            " a.action FROM webhook_messages m JOIN audit_log a ON a.id = m.audit_id"
            " WHERE m.webhook_id = $1 ORDER BY m.id DESC LIMIT $2",
            webhook_id,
            limit,
        )
    )


# --- the worker -----------------------------------------------------------------------------


async def claim(
    conn: Connection, now: datetime, *, lease_seconds: float, limit: int, claim_id: UUID
) -> list[Row]:
    """Take due messages with a lease. A message waits while an earlier one of the same
    webhook and subject is pending (claimed or not): one registration's messages go in order."""
    return rows(
        await conn.fetch(
            "WITH due AS (SELECT m.id FROM webhook_messages m"
            "  WHERE m.status = 'pending' AND m.next_attempt_at <= $1"
            "  AND (m.claimed_until IS NULL OR m.claimed_until < $1)"
            "  AND NOT EXISTS (SELECT 1 FROM webhook_messages o WHERE o.webhook_id = m.webhook_id"
            "    AND o.ordering = m.ordering AND o.status = 'pending' AND o.id < m.id)"
            "  ORDER BY m.next_attempt_at, m.id LIMIT $3 FOR UPDATE SKIP LOCKED)"
            " UPDATE webhook_messages m SET claim = $4,"
            "  claimed_until = $1 + make_interval(secs => $2)"
            " FROM due WHERE m.id = due.id RETURNING m.id, m.claim",
            now,
            lease_seconds,
            limit,
            claim_id,
        )
    )


async def message(conn: Connection, message_id: int) -> Row | None:
    """All a delivery needs: the message, its webhook, its audit entry, and whether the
    webhook's partner (still) hosts the entry's event."""
    return row(
        await conn.fetchrow(
            "SELECT m.id, m.webhook_id, m.attempts, m.created_at, m.claim,"
            " w.url, w.secret, w.previous_secret, w.previous_until, w.status AS webhook_status,"
            " w.failing_since, w.partner_id, a.id AS audit_id, a.at, a.event_id, a.action,"
            " a.actor_type, a.actor_id, a.actor_label, a.subject_type, a.subject_id, a.changes,"
            " CASE WHEN a.event_id IS NULL THEN a.partner_id = w.partner_id"
            "  ELSE EXISTS (SELECT 1 FROM event_hosts h WHERE h.event_id = a.event_id"
            "   AND h.partner_id = w.partner_id) END AS hosts"
            " FROM webhook_messages m JOIN webhooks w ON w.id = m.webhook_id"
            " JOIN audit_log a ON a.id = m.audit_id WHERE m.id = $1",
            message_id,
        )
    )


async def record_attempt(conn: Connection, m: Row, outcome: dict[str, Any]) -> bool:
    """Store one try and its consequence in one statement guarded by the claim: `status` is
    the message's new status ('pending' with `next_attempt_at` to retry). False: the lease
    was lost (another worker has it now), nothing stored."""
    done = await conn.fetchval(
        "WITH msg AS (UPDATE webhook_messages SET status = $3::text, attempts = attempts + 1,"
        "   next_attempt_at = coalesce($4::timestamptz, next_attempt_at), claim = NULL,"
        "   claimed_until = NULL,"
        "   finished_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE $5::timestamptz END,"
        "   last_error = $7::text WHERE id = $1 AND claim = $2 RETURNING id, webhook_id),"
        " hook AS (UPDATE webhooks SET failing_since = CASE WHEN $6::text = 'delivered' THEN NULL"
        "   WHEN $6::text = 'failed' THEN coalesce(failing_since, $5::timestamptz)"
        "   ELSE failing_since END WHERE id = (SELECT webhook_id FROM msg)),"
        " try AS (INSERT INTO webhook_attempts (message_id, webhook_id, at, status,"
        "   response_status, error, duration_ms)"
        "   SELECT id, webhook_id, $5::timestamptz, $6::text, $8::int, $7::text, $9::int FROM msg"
        "   WHERE $6::text IS NOT NULL)"
        " SELECT id FROM msg",
        m["id"],
        m["claim"],
        outcome["status"],
        outcome.get("next_attempt_at"),
        outcome["at"],
        outcome.get("attempt"),
        outcome.get("error"),
        outcome.get("response_status"),
        outcome.get("duration_ms", 0),
    )
    return done is not None


async def failing_since(conn: Connection, webhook_id: UUID) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT failing_since FROM webhooks WHERE id = $1", webhook_id
    )
    return value
