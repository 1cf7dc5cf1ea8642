"""The database: one asyncpg pool, one way to run SQL, and the schema migrations.

Every other module gets a pooled asyncpg connection (`transaction()`, `connection()`) and runs
its named statements from `queries/` on it. What goes wrong underneath is turned into the
service's errors here, in one place (`db_errors.py` says which error is which): a database
that is lost, restarting, read-only or in recovery is `DatabaseUnavailable` (503, try again),
and the pool drops its connections so that the next ones find the primary again; a write
whose fate cannot be known (the connection lost after COMMIT was sent, the command timeout
hit during a write) is `OutcomeUnknown` (503, retry with the same Idempotency-Key).

Why asyncpg's own pool and not `databases` (which this module wrapped until issue #11):
`DATABASE_URL` must reach asyncpg whole, and `databases` 0.9 cannot carry it. Its
`PostgresBackend.connect()` splits the URL itself and calls `asyncpg.create_pool(host=…,
port=…, user=…, password=…, database=…)`, keeping only `min_size`, `max_size` and `ssl` from
the query string, so `target_session_attrs`, `sslmode`, `sslrootcert`, server settings such as
`?statement_timeout=5s` are silently dropped; a multi-host URL
(`postgresql://u@h1:5432,h2:5432/db`) crashes in `DatabaseURL.port` (`urlsplit` cannot read
the port list: ValueError); and a URL without a host (`postgresql:///events` with `PGHOST`)
reaches asyncpg as explicit `None`s that the PG* variables may or may not fill.
(tests/test_db_url.py shows each of these working now.) Everything this service used of
`databases` was the pool and the transaction block around asyncpg's raw connection, which
asyncpg gives directly; the same `Database` interface (`connect`, `disconnect`,
`transaction()`, `connection()`, `ping()`) stays, so no caller changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import msgspec

from events import db_errors
from events.errors import DatabaseUnavailable
from events.queries import Connection
from events.queries import health as q

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger("events.db")


#: Key of the advisory lock that serialises migrations across processes and machines.
MIGRATION_LOCK = 0x6576_656E_7473  # "events"
#: A migration may rewrite a big table: it is not held to the statement timeout of requests.
MIGRATION_TIMEOUT = 3600.0

#: Run through psql by embedded.py (synchronous, before any event loop): name is a constant.
EMBEDDED_DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = '{name}';"
CREATE_EMBEDDED_DATABASE = 'CREATE DATABASE "{name}";'


class Database:
    """A pool of asyncpg connections to `url`, which asyncpg reads whole (several hosts,
    `target_session_attrs`, `sslmode`, server settings, the PG* environment variables).

    `statement_cache_size=0` is for PgBouncer in transaction pooling: asyncpg then prepares
    no named statement (an unnamed one is parsed again with each execution). `command_timeout`
    bounds every statement on the client's side, so a request is answered before the proxies
    in front give up on it.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        connect_timeout: float = 3.0,
        statement_cache_size: int = 100,
        command_timeout: float | None = 10.0,
    ) -> None:
        self.url = url
        self._options: dict[str, Any] = {
            "dsn": _asyncpg_url(url),
            "min_size": 0,  # connect on first use: a node may start while its database is away
            "max_size": pool_size,
            "timeout": connect_timeout,
            "command_timeout": command_timeout or None,
            "statement_cache_size": statement_cache_size,
            "max_inactive_connection_lifetime": 60,
            "init": _init_connection,
            "reset": _keep_session,
        }
        self._connect_timeout = connect_timeout
        #: waiting for a free connection (every one busy: a stuck database) ends too
        self._acquire_timeout = command_timeout or None
        self._pool: asyncpg.Pool[Any] | None = None

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(**self._options)

    async def disconnect(self, grace: float = 5.0) -> None:
        """Close the pool; a hung close (a dead server) is cut short after `grace` seconds."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), grace)
        except db_errors.CLOSE_ERRORS:
            log.warning("database pool did not close cleanly within %.0fs", grace)
            pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool[Any]:
        if self._pool is None:
            raise RuntimeError("Database.connect() was not called")
        return self._pool

    @asynccontextmanager
    async def connection(self, *, writes: bool = False) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit mode (each statement its own transaction).

        `writes`: statements here may write, so a connection lost (or a timeout) while one
        runs leaves its outcome unknown, which the error says.
        """
        conn = await self._acquire()
        try:
            yield conn
        except BaseException as exc:
            await self._raise_for(exc, committing=writes, conn=conn)
            raise
        finally:
            await self._release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction, committed when the block ends.

        Anything that fails before COMMIT is sent rolls back (a lost connection included:
        the server rolls back what it never saw committed); a COMMIT that gets no answer has
        an unknown outcome.
        """
        conn = await self._acquire()
        try:
            transaction = conn.transaction()
            try:
                await transaction.start()
                yield conn
            except BaseException as exc:
                await _rollback_quietly(transaction)
                await self._raise_for(exc, committing=False, conn=conn)
                raise
            try:
                await transaction.commit()
            except BaseException as exc:
                await self._raise_for(exc, committing=True, conn=conn)
                raise
        finally:
            await self._release(conn)

    async def _acquire(self) -> Connection:
        try:
            proxy = await self.pool.acquire(timeout=self._acquire_timeout)
        except BaseException as exc:
            await self._raise_for(exc, committing=False)
            raise
        return cast(Connection, proxy)  # a proxy that behaves as the connection it holds

    async def _release(self, conn: Connection) -> None:
        pool = self._pool
        if pool is None:  # disconnected meanwhile (shutdown): the pool closed it already
            return
        try:
            await pool.release(cast("PoolConnectionProxy[Any]", conn))
        except db_errors.CLOSE_ERRORS:
            conn.terminate()

    async def _raise_for(
        self, exc: BaseException, *, committing: bool, conn: Connection | None = None
    ) -> None:
        """Raise the service's error for `exc`, if it is one the database caused (or `conn`
        was found closed under it: asyncpg then raises whatever its state machine says)."""
        closed = conn is not None and _is_closed(conn)
        translated = db_errors.translate(exc, committing=committing, closed=closed)
        if translated is None:
            return
        if translated.forget_connections and self._pool is not None:
            await self._pool.expire_connections()
        log.warning("database: %s (%s: %s)", translated.code, exc.__class__.__name__, exc)
        raise translated.error from exc

    async def ping(self) -> bool:
        """Whether the database answers a query (what /healthz says)."""
        try:
            async with asyncio.timeout(self._connect_timeout), self.connection() as conn:
                return await q.answers(conn)
        except (DatabaseUnavailable, TimeoutError):
            return False

    async def writable(self) -> str | None:
        """None when this service can write (a primary, not read-only, every migration
        applied: what /readyz says); else the reason why not."""
        shipped = [version for version, _ in migration_files()]
        try:
            async with asyncio.timeout(self._connect_timeout), self.connection() as conn:
                status = await q.write_status(conn, shipped)
        except (DatabaseUnavailable, TimeoutError):
            return "database-unreachable"
        except asyncpg.exceptions.UndefinedTableError:
            return "migrations-pending"
        if status.in_recovery or status.read_only:
            # connected to a standby (or a demoted primary): the next connections are made
            # anew, so a multi-host URL with target_session_attrs=read-write finds the primary
            await self.pool.expire_connections()
            return "in-recovery" if status.in_recovery else "read-only"
        if status.applied < len(shipped):
            return "migrations-pending"
        return None


def _is_closed(conn: Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.exceptions.InterfaceError:  # the pool took it back as it closed
        return True


async def _rollback_quietly(transaction: Any) -> None:
    """Roll back what the block started; on a lost connection there is nothing to roll back
    (the server has done it), so that failure is not the one to report."""
    try:
        await transaction.rollback()
    except db_errors.CLOSE_ERRORS:
        pass
    except asyncpg.exceptions.PostgresError:  # e.g. the transaction was never started
        pass


async def _keep_session(conn: Connection) -> None:
    """What the pool runs on a connection it takes back, after rolling back any transaction.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`:
    one more round trip per request, for session state this service never sets (its advisory
    locks are transaction-scoped, it neither LISTENs, SETs nor keeps cursors past a
    transaction). Dropping it took the registration surge from 5 round trips to 2. (Through
    PgBouncer in transaction pooling, session state would not even stay on one server.)
    """


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=_json_encode, decoder=msgspec.json.decode
        )


def _json_encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _asyncpg_url(url: str) -> str:
    """SQLAlchemy's spelling of the scheme is accepted too; the rest goes to asyncpg as is."""
    prefix = "postgresql+asyncpg://"
    return "postgresql://" + url[len(prefix) :] if url.startswith(prefix) else url


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
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK, timeout=MIGRATION_TIMEOUT
        )
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
            await conn.execute(sql, timeout=MIGRATION_TIMEOUT)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied.append(version)
        return applied
