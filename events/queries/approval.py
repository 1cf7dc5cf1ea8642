"""SQL of approval.py: a host's decision on a pending registration."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection


async def mark_approved(conn: Connection, registration_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE registrations SET approval_needed = false, decided_at = $2 WHERE id = $1",
        registration_id,
        now,
    )


async def confirm_held(conn: Connection, registration_id: UUID, now: datetime) -> None:
    """A pending registration confirmed on the seat it held."""
    await conn.execute(
        "UPDATE registrations SET status = 'confirmed', confirmed_at = $2, updated_at = $2"
        " WHERE id = $1 AND status = 'pending' AND shard IS NOT NULL",
        registration_id,
        now,
    )


async def to_waitlist(conn: Connection, registration_id: UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE registrations SET status = 'waitlisted', shard = NULL,"
        " waitlist_order = nextval('registrations_waitlist_order'), updated_at = $2 WHERE id = $1",
        registration_id,
        now,
    )


async def set_rejected(
    conn: Connection, registration_id: UUID, reason: str | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE registrations SET status = 'rejected', shard = NULL, approval_needed = false,"
        " rejection_reason = $2, decided_at = $3, updated_at = $3 WHERE id = $1",
        registration_id,
        reason,
        now,
    )


async def has_waitlist(conn: Connection, event_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT waitlist FROM events WHERE id = $1", event_id))
