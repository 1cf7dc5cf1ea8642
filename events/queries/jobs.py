"""The periodic-jobs runner's statements: a transaction-scoped advisory lock per job."""

from __future__ import annotations

from events.queries import Connection

#: Advisory-lock keys of jobs live in their own space (first key), beside migrations' one.
JOB_LOCK_SPACE = 0x6A6F6273  # "jobs"


async def try_lock(conn: Connection, key: int) -> bool:
    """Take the job's lock until the transaction on `conn` ends; False when another has it."""
    locked = await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2)", JOB_LOCK_SPACE, key)
    return bool(locked)
