"""SQL of mail.py: the outbox (rows are written by the triggers of migration 0004)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection, Row, rows

_COLUMNS = (
    "id, kind, registration_id, guest_id, revision, status, attempts, claim, created_at,"
    " next_attempt_at, sent_at, last_error"
)


async def claim(conn: Connection, now: datetime, *, lease_seconds: float, limit: int) -> list[Row]:
    """Take up to `limit` due rows for this worker, in one statement (its own transaction).

    SKIP LOCKED lets workers claim side by side; the lease (`claimed_until`) keeps a row away
    from every other worker until this one reports, or until it lapses (a worker that died).
    """
    return rows(
        await conn.fetch(
            "UPDATE mail_outbox SET claim = gen_random_uuid(), attempts = attempts + 1,"
            " claimed_until = $1 + make_interval(secs => $2)"
            " WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending'"
            "   AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)"
            "   ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
            f" RETURNING {_COLUMNS}",
            now,
            lease_seconds,
            limit,
        )
    )


async def finish(
    conn: Connection, mail_id: int, claim: UUID, *, status: str, now: datetime, error: str | None
) -> bool:
    """Record the outcome (sent, logged, superseded, failed); False if the lease was lost."""
    done = await conn.execute(
        "UPDATE mail_outbox SET status = $3, sent_at = CASE WHEN $3 IN ('sent', 'logged')"
        " THEN $4::timestamptz END, last_error = coalesce($5, last_error), claimed_until = NULL"
        " WHERE id = $1 AND claim = $2 AND status = 'pending'",
        mail_id,
        claim,
        status,
        now,
        error,
    )
    return bool(done == "UPDATE 1")


async def retry_later(
    conn: Connection, mail_id: int, claim: UUID, *, at: datetime, error: str
) -> bool:
    done = await conn.execute(
        "UPDATE mail_outbox SET next_attempt_at = $3, last_error = $4, claimed_until = NULL"
        " WHERE id = $1 AND claim = $2 AND status = 'pending'",
        mail_id,
        claim,
        at,
        error,
    )
    return bool(done == "UPDATE 1")


async def newer_update(conn: Connection, registration_id: UUID, revision: int) -> bool:
    """Whether a later change has queued its own update for this registration."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM mail_outbox WHERE registration_id = $1"
            " AND kind = 'update' AND revision > $2)",
            registration_id,
            revision,
        )
    )


async def of_registration(conn: Connection, registration_id: UUID) -> list[Row]:
    return rows(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM mail_outbox WHERE registration_id = $1 ORDER BY id",
            registration_id,
        )
    )


async def failed(conn: Connection, *, limit: int) -> list[Row]:
    """Failed mails, newest first, with their reasons (for the operator)."""
    return rows(
        await conn.fetch(
            "SELECT id, kind, registration_id, revision, attempts, created_at, last_error"
            " FROM mail_outbox WHERE status = 'failed' ORDER BY id DESC LIMIT $1",
            limit,
        )
    )
