"""SQL of audit.py: append an entry, read an event's log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from events.queries import Connection, Row, rows

#: The columns of an entry written by a CTE beside another statement (registration.py's
#: hot path): `INSERT INTO audit_log` + AUDIT_COLUMNS + ` SELECT ...`.
AUDIT_COLUMNS = (
    " (at, event_id, actor_type, actor_id, actor_label, action, subject_type, subject_id, changes)"
)


async def insert_entry(conn: Connection, entry: dict[str, Any]) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO audit_log (at, event_id, partner_id, actor_type, actor_id, actor_label,"
            " action, subject_type, subject_id, changes)"
            " VALUES (coalesce($1, statement_timestamp()), $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " RETURNING id",
            entry["at"],
            entry["event_id"],
            entry["partner_id"],
            entry["actor_type"],
            entry["actor_id"],
            entry["actor_label"],
            entry["action"],
            entry["subject_type"],
            entry["subject_id"],
            entry["changes"],
        )
    )


async def event_entries(
    conn: Connection,
    event_id: UUID,
    *,
    filters: dict[str, Any],
    before_id: int | None,
    limit: int,
) -> list[Row]:
    """Newest first. `action` matches exactly, or a prefix when it ends with '.' (or '.*');
    `actor` matches the actor's type, id or label."""
    return rows(
        await conn.fetch(
            "SELECT id, at, actor_type, actor_id, actor_label, action, subject_type, subject_id,"
            " changes FROM audit_log WHERE event_id = $1"
            " AND ($2::bigint IS NULL OR id < $2)"
            " AND ($3::text IS NULL OR action = $3 OR (right($3, 1) = '.'"
            "      AND left(action, length($3)) = $3))"
            " AND ($4::text IS NULL OR actor_type = $4 OR actor_id = $4 OR actor_label = $4)"
            " AND ($5::timestamptz IS NULL OR at >= $5)"
            " AND ($6::timestamptz IS NULL OR at < $6)"
            " ORDER BY id DESC LIMIT $7",
            event_id,
            before_id,
            filters.get("action"),
            filters.get("actor"),
            filters.get("since"),
            filters.get("until"),
            limit,
        )
    )


async def subject_entries(conn: Connection, subject_id: str) -> list[Row]:
    """Every entry about one subject (e.g. a registration), oldest first."""
    return rows(
        await conn.fetch(
            "SELECT id, at, actor_type, actor_id, actor_label, action, subject_type, subject_id,"
            " changes FROM audit_log WHERE subject_id = $1 ORDER BY id",
            subject_id,
        )
    )


async def scrub(conn: Connection, subject_id: str) -> int:
    return int(await conn.fetchval("SELECT audit_scrub($1)", subject_id))
