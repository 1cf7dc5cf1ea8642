"""Idempotency-Key: the same key and request replay the first answer; another request is a 422.

The key is taken under a transaction-scoped advisory lock, so concurrent retries of one key
wait for the first to finish and then replay it; the stored answer is written in the same
transaction as what the request created, so a replayed answer always describes stored data.
Keys are kept for at least 24 hours (`purge` removes older ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.errors import IdempotencyMismatch, InvalidInput
from events.queries import Connection
from events.queries import idempotency as q

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


async def begin(conn: Connection, scope: str, key: str, request_hash: bytes) -> Replay | None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.one(
            "Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    await q.lock_key(conn, scope, key)
    found = await q.stored_response(conn, scope, key)
    if found is None:
        return None
    if found["request_hash"] != request_hash:
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request body")
    return Replay(found["status"], bytes(found["body"]))


async def finish(
    conn: Connection, scope: str, key: str, request_hash: bytes, response: Replay
) -> None:
    await q.store_response(conn, scope, key, request_hash, response.status, response.body)


async def purge(conn: Connection, now: datetime) -> int:
    return await q.delete_older_than(conn, now - KEEP_FOR)
