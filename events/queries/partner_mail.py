"""SQL of partner_mail.py: mail to partners and console users, and password-reset links."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, row, rows


async def insert(
    conn: Connection, kind: str, to_email: str, subject: str, body: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO partner_mail (kind, to_email, subject, body, created_at, next_attempt_at)"
        " VALUES ($1, $2, $3, $4, $5, $5)",
        kind,
        to_email,
        subject,
        body,
        now,
    )


async def due(conn: Connection, now: datetime, limit: int) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, kind, to_email, subject, body, attempts FROM partner_mail"
            " WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
            now,
            limit,
        )
    )


async def finish(conn: Connection, mail_id: int, status: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE partner_mail SET status = $2, sent_at = $3, attempts = attempts + 1 WHERE id = $1",
        mail_id,
        status,
        now,
    )


async def retry(
    conn: Connection, mail_id: int, *, failed: bool, error: str, next_at: datetime
) -> None:
    await conn.execute(
        "UPDATE partner_mail SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3,"
        " status = CASE WHEN $4 THEN 'failed' ELSE status END WHERE id = $1",
        mail_id,
        error[:1000],
        next_at,
        failed,
    )


async def sent_to(conn: Connection, to_email: str) -> list[Row]:
    return rows(
        await conn.fetch(
            "SELECT id, kind, subject, body, status FROM partner_mail"
            " WHERE lower(to_email) = lower($1) ORDER BY id",
            to_email,
        )
    )


async def partner_recipients(conn: Connection, partner_id: UUID) -> list[str]:
    """The partner's own address and its active console users', each once."""
    return [
        r["email"]
        for r in await conn.fetch(
            "SELECT DISTINCT ON (lower(email)) email FROM ("
            " SELECT email, 0 AS o FROM partners WHERE id = $1 AND email IS NOT NULL"
            " UNION ALL SELECT email, 1 FROM partner_users"
            "   WHERE partner_id = $1 AND disabled_at IS NULL) e"
            " ORDER BY lower(email), o",
            partner_id,
        )
    ]


async def insert_reset(
    conn: Connection, secret_hash: bytes, user_id: UUID, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO password_resets (secret_hash, user_id, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        secret_hash,
        user_id,
        now,
        expires_at,
    )


async def use_reset(conn: Connection, secret_hash: bytes, now: datetime) -> Row | None:
    """Mark a live reset link used; its user (id, email), or None (unknown, used, expired)."""
    return row(
        await conn.fetchrow(
            "UPDATE password_resets r SET used_at = $2 FROM partner_users u"
            " WHERE r.secret_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2"
            " AND u.id = r.user_id AND u.disabled_at IS NULL RETURNING u.id, u.email",
            secret_hash,
            now,
        )
    )


async def reset_is_live(conn: Connection, secret_hash: bytes, now: datetime) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM password_resets WHERE secret_hash = $1"
            " AND used_at IS NULL AND expires_at > $2)",
            secret_hash,
            now,
        )
    )


async def set_password_of(conn: Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute(
        "UPDATE partner_users SET password_hash = $2 WHERE id = $1", user_id, password_hash
    )
    await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user_id)
