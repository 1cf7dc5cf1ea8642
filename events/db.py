"""The database: one pool, one way to run SQL, and the schema migrations.

`databases` owns the pool and the transactions and stays inside this module; every other
module gets the asyncpg connection underneath it (`transaction()`, `connection()`) and runs
its named statements from `queries/` on it. A lost or refused database connection becomes
`DatabaseUnavailable` (503) here, in one place, and the pool drops its stale connections so
the service answers normally as soon as PostgreSQL is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import asyncpg
import databases
import msgspec

from events.errors import DatabaseUnavailable
from events.queries import Connection

log = logging.getLogger("events.db")


#: Key of the advisory lock that serialises migrations across processes and machines.
MIGRATION_LOCK = 0x6576_656E_7473  # "events"

#: Run through psql by embedded.py (synchronous, before any event loop): name is a constant.
EMBEDDED_DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = '{name}';"
CREATE_EMBEDDED_DATABASE = 'CREATE DATABASE "{name}";'

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)


_CLOSE_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, *_CONNECTION_ERRORS)


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, _CONNECTION_ERRORS):
        return True
    return isinstance(exc, asyncpg.exceptions.InterfaceError) and "closed" in str(exc)


class Database:
    def __init__(self, url: str, *, pool_size: int = 20, connect_timeout: float = 3.0) -> None:
        self.url = url
        self._db = databases.Database(
            _asyncpg_url(url),
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            command_timeout=30,
            max_inactive_connection_lifetime=60,
            init=_init_connection,
            reset=_keep_session,
        )
        self._connect_timeout = connect_timeout

    async def connect(self) -> None:
        await self._db.connect()

    async def disconnect(self, grace: float = 5.0) -> None:
        """Close the pool; a hung close (a dead server) is cut short after `grace` seconds."""
        if not self._db.is_connected:
            return
        try:
            await asyncio.wait_for(self._db.disconnect(), grace)
        except _CLOSE_ERRORS:
            log.warning("database pool did not close cleanly within %.0fs", grace)
            pool = self._pool()
            if pool is not None:
                pool.terminate()

    def _pool(self) -> asyncpg.Pool[Any] | None:
        return getattr(self._db._backend, "_pool", None)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit mode (each statement its own transaction)."""
        try:
            async with self._db.connection() as conn:
                yield conn.raw_connection
        except BaseException as exc:
            await self._raise_unavailable_if_lost(exc)
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, committed when the block ends."""
        try:
            async with self._db.connection() as conn, conn.transaction():
                yield conn.raw_connection
        except BaseException as exc:
            await self._raise_unavailable_if_lost(exc)
            raise

    async def _raise_unavailable_if_lost(self, exc: BaseException) -> None:
        if isinstance(exc, DatabaseUnavailable) or not _is_connection_error(exc):
            return
        pool = self._pool()
        if pool is not None:
            await pool.expire_connections()
        log.warning("database unavailable: %s", exc.__class__.__name__)
        raise DatabaseUnavailable() from exc

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self._connect_timeout), self.connection() as conn:
                return bool(await conn.fetchval("SELECT 1"))
        except (DatabaseUnavailable, TimeoutError):
            return False


async def _keep_session(conn: Connection) -> None:
    """What the pool runs on a connection it takes back, after rolling back any transaction.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`:
    one more round trip per request, for session state this service never sets (its advisory
    locks are transaction-scoped, it neither LISTENs, SETs nor keeps cursors past a
    transaction). Dropping it took the registration surge from 5 round trips to 2.
    """


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=_json_encode, decoder=msgspec.json.decode
        )


def _json_encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) of every migration shipped in the package, in order."""
    folder = resources.files("events") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text("utf-8")) for name in names]


async def migrate(db: Database) -> list[str]:
    """Apply the pending migrations in one transaction; returns the versions applied.

    Two processes starting at once queue on an advisory lock; the second finds nothing
    left to do. A failing migration rolls the whole run back, leaving the schema as it was.
    """
    async with db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for version, sql in migration_files():
            if version in done:
                continue
            log.info("applying migration %s", version)
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied.append(version)
        return applied
