"""Which database failures the service answers with which error.

    lost connection, server shutting down or starting,
    PgBouncer cannot reach its server, no host is a primary   → DatabaseUnavailable, reconnect
    read-only or recovering database (a standby; a failover)  → DatabaseUnavailable, reconnect
    statement_timeout on the server (the statement was undone) → DatabaseUnavailable
    command timeout on our side, or any of the above while a
    write's outcome is in flight (COMMIT sent, an autocommit
    write running)                                             → OutcomeUnknown

"Reconnect" means the pool drops its connections, so the next ones are made anew and (with a
multi-host URL and `target_session_attrs=read-write`) find whichever server is primary now.
Everything else (constraint violations, the domain's own errors) passes through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from events.errors import DatabaseUnavailable, DomainError, OutcomeUnknown

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.exceptions.PostgresConnectionError,  # class 08, also PgBouncer's errors (08P01)
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down, in recovery
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.IdleSessionTimeoutError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.TargetServerAttributeNotMatched,  # no host is (yet) a primary
)

#: what may go wrong when closing or rolling back on a connection that is already gone
CLOSE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    asyncpg.exceptions.InterfaceError,
    *CONNECTION_ERRORS,
)


@dataclass(frozen=True, slots=True)
class Translated:
    error: DatabaseUnavailable
    forget_connections: bool

    @property
    def code(self) -> str:
        return self.error.code


def _lost(committing: bool) -> Translated:
    if committing:
        return Translated(OutcomeUnknown(), forget_connections=True)
    detail = "The connection to the database was lost or refused"
    return Translated(DatabaseUnavailable(detail), forget_connections=True)


def is_lost(exc: BaseException) -> bool:
    if isinstance(exc, CONNECTION_ERRORS):
        return True
    return isinstance(exc, asyncpg.exceptions.InterfaceError) and "closed" in str(exc)


def translate(exc: BaseException, *, committing: bool, closed: bool = False) -> Translated | None:
    """The service's error for `exc`, or None when `exc` is not the database's failure.

    `committing`: a write may have reached the server and been committed (COMMIT was sent,
    or an autocommit statement that writes was running), so losing the answer loses the
    knowledge of what happened. `closed`: the connection was found closed after `exc`, which
    makes any error of asyncpg's a lost connection (its own errors for that state vary, e.g.
    InternalClientError "not connected" when the peer hung up between two statements).
    """
    if isinstance(exc, DatabaseUnavailable | DomainError):
        return None
    if closed and isinstance(exc, Exception):
        return _lost(committing)
    if isinstance(exc, asyncpg.exceptions.ReadOnlySQLTransactionError):
        detail = "The database is read-only (a standby, or a failover in progress)"
        return Translated(DatabaseUnavailable(detail), forget_connections=True)
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        detail = "The database cancelled a statement that took too long; nothing was changed"
        return Translated(DatabaseUnavailable(detail), forget_connections=False)
    lost = is_lost(exc)
    if not lost and not isinstance(exc, TimeoutError):
        return None
    if lost:
        return _lost(committing)
    if committing:
        return Translated(OutcomeUnknown(), forget_connections=False)
    detail = "The database did not answer in time; nothing was changed"
    return Translated(DatabaseUnavailable(detail), forget_connections=False)
