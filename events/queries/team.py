"""SQL of team.py: a partner's console users."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, rows


async def members(conn: Connection, partner_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, email, created_at, disabled_at FROM partner_users"
            " WHERE partner_id = $1 ORDER BY disabled_at IS NOT NULL, seq",
            partner_id,
        )
    )


async def disable(conn: Connection, user_id: UUID, partner_id: UUID, now: datetime) -> bool:
    """Disable the partner's user and end its sessions; False if it is not theirs."""
    done = await conn.fetchval(
        "UPDATE partner_users SET disabled_at = $3"
        " WHERE id = $1 AND partner_id = $2 AND disabled_at IS NULL RETURNING id",
        user_id,
        partner_id,
        now,
    )
    if done is not None:
        await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user_id)
    return done is not None
