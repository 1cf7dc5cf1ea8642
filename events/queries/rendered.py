"""SQL of rendered.py: the shared store of rendered files."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.queries import Connection


async def rendered(conn: Connection, subject: UUID, kind: str, version: str) -> bytes | None:
    body: bytes | None = await conn.fetchval(
        "SELECT body FROM rendered_files WHERE subject = $1 AND kind = $2 AND version = $3",
        subject,
        kind,
        version,
    )
    return body


async def keep_rendered(
    conn: Connection, subject: UUID, kind: str, version: str, body: bytes, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO rendered_files (subject, kind, version, body, made_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject, kind) DO UPDATE"
        " SET version = excluded.version, body = excluded.body, made_at = excluded.made_at",
        subject,
        kind,
        version,
        body,
        now,
    )
