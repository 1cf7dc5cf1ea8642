"""The periodic-jobs runner's statements: a session-level advisory lock per job."""

from __future__ import annotations

from events.queries import Connection

#: Advisory-lock keys of jobs live in their own space (first key), beside migrations' one.
JOB_LOCK_SPACE = 0x6A6F6273  # "jobs"


async def try_lock(conn: Connection, key: int) -> bool:
    locked = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", JOB_LOCK_SPACE, key)
    return bool(locked)


async def unlock(conn: Connection, key: int) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1, $2)", JOB_LOCK_SPACE, key)
