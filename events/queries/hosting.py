"""SQL of hosting.py: partners, tokens, hosts, co-host invitations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def insert_partner(conn: Connection, slug: str, name: str, email: str | None) -> Row | None:
    return row(
        await conn.fetchrow(
            "INSERT INTO partners (slug, name, email) VALUES ($1, $2, $3)"
            " ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name, email, created_at",
            slug,
            name,
            email,
        )
    )


async def partner_by_slug(conn: Connection, slug: str) -> Row | None:
    return row(
        await conn.fetchrow("SELECT id, slug, name, email FROM partners WHERE slug = $1", slug)
    )


async def insert_token(
    conn: Connection,
    token_hash: bytes,
    kind: str,
    partner_id: UUID,
    *,
    event_id: UUID | None,
    label: str,
    session_id: UUID | None = None,
) -> Row:
    record = await conn.fetchrow(
        "INSERT INTO api_tokens (token_hash, kind, partner_id, event_id, label, session_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " RETURNING id, kind, label, event_id, session_id, created_at",
        token_hash,
        kind,
        partner_id,
        event_id,
        label,
        session_id,
    )
    assert record is not None
    return dict(record)


async def token_actor(conn: Connection, token_hash: bytes) -> Row | None:
    """The live token with this hash, with its partner."""
    return row(
        await conn.fetchrow(
            "SELECT t.id AS token_id, t.token_hash, t.kind, t.event_id, t.label, t.session_id,"
            " p.id AS partner_id,"
            " p.slug AS partner_slug FROM api_tokens t JOIN partners p ON p.id = t.partner_id"
            " WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            token_hash,
        )
    )


async def partner_tokens(conn: Connection, partner_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, kind, label, event_id, created_at, revoked_at FROM api_tokens"
            " WHERE partner_id = $1 AND kind = 'partner' ORDER BY seq",
            partner_id,
        )
    )


async def revoke_token(
    conn: Connection, token_id: UUID, partner_id: UUID, *, kind: str, now: datetime
) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3)"
            " WHERE id = $1 AND partner_id = $2 AND kind = $4"
            " RETURNING id, kind, label, event_id, created_at, revoked_at",
            token_id,
            partner_id,
            now,
            kind,
        )
    )


async def event_door_tokens(conn: Connection, event_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, kind, label, event_id, session_id, created_at, revoked_at"
            " FROM api_tokens WHERE event_id = $1 AND kind = 'door' ORDER BY seq",
            event_id,
        )
    )


async def event_session(conn: Connection, event_id: UUID, session_id: str) -> UUID | None:
    """The id of this event's session `session_id` (a string from a request), or None."""
    value: UUID | None = await conn.fetchval(
        "SELECT id FROM sessions WHERE event_id = $1 AND id::text = lower($2)",
        event_id,
        session_id,
    )
    return value


async def revoke_door_token(
    conn: Connection, token_id: UUID, event_id: UUID, now: datetime
) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3)"
            " WHERE id = $1 AND event_id = $2 AND kind = 'door'"
            " RETURNING id, kind, label, event_id, session_id, created_at, revoked_at",
            token_id,
            event_id,
            now,
        )
    )


async def insert_host(conn: Connection, event_id: UUID, partner_id: UUID, role: str) -> None:
    await conn.execute(
        "INSERT INTO event_hosts (event_id, partner_id, role) VALUES ($1, $2, $3)"
        " ON CONFLICT (event_id, partner_id) DO NOTHING",
        event_id,
        partner_id,
        role,
    )


async def delete_cohost(conn: Connection, event_id: UUID, partner_id: UUID) -> bool:
    done = await conn.execute(
        "DELETE FROM event_hosts WHERE event_id = $1 AND partner_id = $2 AND role = 'cohost'",
        event_id,
        partner_id,
    )
    return bool(done != "DELETE 0")


async def insert_invitation(
    conn: Connection, event_id: UUID, partner_id: UUID, invited_by: UUID
) -> Row | None:
    return row(
        await conn.fetchrow(
            "INSERT INTO cohost_invitations (event_id, partner_id, invited_by)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
            event_id,
            partner_id,
            invited_by,
        )
    )


_INVITATION = (
    "SELECT i.id, i.seq, i.event_id, i.status, i.created_at, i.answered_at, i.partner_id,"
    " p.slug AS partner, b.slug AS invited_by, e.title AS event_title"
    " FROM cohost_invitations i JOIN partners p ON p.id = i.partner_id"
    " JOIN partners b ON b.id = i.invited_by JOIN events e ON e.id = i.event_id"
)


async def invitation(conn: Connection, invitation_id: UUID) -> Row | None:
    return row(await conn.fetchrow(_INVITATION + " WHERE i.id = $1", invitation_id))


async def pending_invitations(conn: Connection, partner_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            _INVITATION + " WHERE i.partner_id = $1 AND i.status = 'pending' ORDER BY i.seq",
            partner_id,
        )
    )


async def event_invitations(conn: Connection, event_id: UUID) -> list[Row]:
    return rows(await conn.fetch(_INVITATION + " WHERE i.event_id = $1 ORDER BY i.seq", event_id))


async def answer_invitation(
    conn: Connection, invitation_id: UUID, partner_id: UUID, *, status: str, now: datetime
) -> bool:
    done = await conn.execute(
        "UPDATE cohost_invitations SET status = $3, answered_at = $4"
        " WHERE id = $1 AND partner_id = $2 AND status = 'pending'",
        invitation_id,
        partner_id,
        status,
        now,
    )
    return bool(done == "UPDATE 1")
