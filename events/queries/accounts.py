"""SQL of accounts.py: partner users and their console sessions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row


async def insert_user(
    conn: Connection, partner_id: UUID, email: str, password_hash: str
) -> Row | None:
    return row(
        await conn.fetchrow(
            "INSERT INTO partner_users (partner_id, email, password_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT (lower(email)) DO NOTHING RETURNING id, partner_id, email, created_at",
            partner_id,
            email,
            password_hash,
        )
    )


async def set_password(conn: Connection, email: str, password_hash: str) -> Row | None:
    return row(
        await conn.fetchrow(
            "UPDATE partner_users SET password_hash = $2 WHERE lower(email) = lower($1)"
            " RETURNING id, partner_id, email, created_at",
            email,
            password_hash,
        )
    )


async def user_by_email(conn: Connection, email: str) -> Row | None:
    return row(
        await conn.fetchrow(
            "SELECT u.id, u.email, u.password_hash, u.partner_id, p.slug AS partner_slug"
            " FROM partner_users u JOIN partners p ON p.id = u.partner_id"
            " WHERE lower(u.email) = lower($1) AND u.disabled_at IS NULL",
            email,
        )
    )


async def insert_session(
    conn: Connection, secret_hash: bytes, user_id: UUID, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO web_sessions (secret_hash, user_id, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        secret_hash,
        user_id,
        now,
        expires_at,
    )


async def session_user(conn: Connection, secret_hash: bytes, now: datetime) -> Row | None:
    """The signed-in user of a live session, with their partner."""
    return row(
        await conn.fetchrow(
            "SELECT u.id AS user_id, u.email, p.id AS partner_id, p.slug AS partner_slug,"
            " p.name AS partner_name FROM web_sessions s"
            " JOIN partner_users u ON u.id = s.user_id JOIN partners p ON p.id = u.partner_id"
            " WHERE s.secret_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
            secret_hash,
            now,
        )
    )


async def delete_session(conn: Connection, secret_hash: bytes) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE secret_hash = $1", secret_hash)


async def delete_expired_sessions(conn: Connection, now: datetime) -> int:
    done = await conn.execute("DELETE FROM web_sessions WHERE expires_at <= $1", now)
    return int(done.split()[-1])
