"""What /healthz and /readyz ask the database."""

from __future__ import annotations

from dataclasses import dataclass

from events.queries import Connection


@dataclass(frozen=True, slots=True)
class WriteStatus:
    in_recovery: bool
    read_only: bool
    applied: int  # how many of the shipped migrations are applied


async def answers(conn: Connection) -> bool:
    return bool(await conn.fetchval("SELECT 1"))


async def write_status(conn: Connection, shipped: list[str]) -> WriteStatus:
    """One statement: a standby, a read-only session (default_transaction_read_only, as a
    demoted primary has) and the applied migrations, as the server sees them now."""
    found = await conn.fetchrow(
        "SELECT pg_is_in_recovery() AS in_recovery,"
        " current_setting('transaction_read_only') = 'on' AS read_only,"
        " (SELECT count(*) FROM schema_migrations WHERE version = ANY($1::text[])) AS applied",
        shipped,
    )
    assert found is not None
    return WriteStatus(found["in_recovery"], found["read_only"], found["applied"])
