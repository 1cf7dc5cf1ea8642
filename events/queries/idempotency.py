"""SQL of idempotency.py."""

from __future__ import annotations

from datetime import datetime

from events.queries import Connection, Row, row


async def lock_key(conn: Connection, scope: str, key: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{scope}\n{key}")


async def stored_response(conn: Connection, scope: str, key: str) -> Row | None:
    return row(
        await conn.fetchrow(
            "SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2",
            scope,
            key,
        )
    )


async def store_response(
    conn: Connection, scope: str, key: str, request_hash: bytes, status: int, body: bytes
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, body)"
        " VALUES ($1, $2, $3, $4, $5)",
        scope,
        key,
        request_hash,
        status,
        body,
    )


async def delete_older_than(conn: Connection, cutoff: datetime) -> int:
    done = await conn.execute("DELETE FROM idempotency_keys WHERE created_at < $1", cutoff)
    return int(done.split()[-1])
