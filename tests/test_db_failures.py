"""What clients are told when the database fails under a request: a read-only database is a
503 with Retry-After (and /readyz says so while /healthz stays alive), a statement the server
cancelled is a 503 that changed nothing, and a write whose answer is lost (a command timeout,
a connection cut right after COMMIT) is 503 `outcome-unknown`, which the same request with the
same Idempotency-Key settles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from events import db as db_module
from events.app import create_app
from events.db import migrate
from events.errors import DatabaseUnavailable
from events.settings import Settings
from tests.conftest import Partner, assert_problem, event_body, make_partner
from tests.live_server import create_database, drop_database

REGISTER = "/api/v1/events/{}/registrations"


@pytest.fixture
async def fresh(database_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database on the test server."""
    import os

    server = os.environ.get("TEST_DATABASE_URL") or urlunsplit(
        urlsplit(database_url)._replace(path="/postgres")
    )
    url, name = await create_database(server, "events_fail")
    database = Settings(database_url=url).database()
    await database.connect()
    await migrate(database)
    await database.disconnect()
    yield url
    await drop_database(server, name)


@contextlib.asynccontextmanager
async def serving(url: str, **settings: Any) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(Settings(database_url=url, rate_limits="off", mail_worker=False, **settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield app, client


async def _published_event(client: httpx.AsyncClient, partner: Partner, **changes: Any) -> str:
    created = await client.post("/api/v1/events", json=event_body(**changes), headers=partner.auth)
    assert created.status_code == 201, created.text
    event_id: str = created.json()["id"]
    published = await client.post(f"/api/v1/events/{event_id}/publish", headers=partner.auth)
    assert published.status_code == 200, published.text
    return event_id


async def _count(url: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def _alter(url: str, setting: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET default_transaction_read_only = off")  # this session only
        await conn.execute(f'ALTER DATABASE "{urlsplit(url).path[1:]}" SET {setting}')
    finally:
        await conn.close()


async def test_a_read_only_database_is_503_and_not_ready_but_alive(fresh: str) -> None:
    await _alter(fresh, "default_transaction_read_only = on")
    async with serving(fresh) as (app, client):  # it starts all the same
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["reason"] == "read-only"
        assert ready.headers["retry-after"]
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/api/v1/events")).status_code == 200  # reads still work
        with pytest.raises(DatabaseUnavailable):
            await make_partner(app.state.db)

        await _alter(fresh, "default_transaction_read_only = off")  # the primary is back
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        partner = await make_partner(app.state.db)
        await _alter(fresh, "default_transaction_read_only = on")
        await app.state.db.pool.expire_connections()  # as after a failover: new sessions
        refused = await client.post("/api/v1/events", json=event_body(), headers=partner.auth)
        assert_problem(refused, 503, "database-unavailable")
        assert refused.headers["retry-after"] == "2"
        assert "read-only" in refused.json()["detail"]


async def test_readyz_waits_for_every_migration(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    shipped = db_module.migration_files()
    monkeypatch.setattr(
        db_module, "migration_files", lambda: [*shipped, ("9999_not_yet", "SELECT 1")]
    )
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "migrations-pending"}


async def test_a_statement_the_server_cancels_changed_nothing(fresh: str) -> None:
    await _alter(fresh, "statement_timeout = '300ms'")
    async with serving(fresh) as (app, client):
        partner = await make_partner(app.state.db)
        event_id = await _published_event(client, partner)
        async with _seats_locked(fresh, event_id):
            response = await client.post(
                REGISTER.format(event_id), json={"name": "A", "email": "a@example.org"}
            )
        assert_problem(response, 503, "database-unavailable")
        assert "nothing was changed" in response.json()["detail"]
    assert await _count(fresh, "SELECT count(*) FROM registrations") == 0


async def test_a_write_that_times_out_is_outcome_unknown_and_safe_to_send_again(
    fresh: str,
) -> None:
    async with serving(fresh, db_statement_timeout=0.5) as (app, client):
        partner = await make_partner(app.state.db)
        event_id = await _published_event(client, partner)
        body = {"name": "A", "email": "a@example.org"}
        async with _seats_locked(fresh, event_id):  # the hot path's one statement waits
            response = await client.post(REGISTER.format(event_id), json=body)
        assert_problem(response, 503, "outcome-unknown")
        assert response.headers["retry-after"]
        again = await client.post(REGISTER.format(event_id), json=body)
        assert again.status_code in (201, 409), again.text
        if again.status_code == 409:  # the first one was stored after all
            assert_problem(again, 409, "already-registered")
    assert await _count(fresh, "SELECT count(*) FROM registrations") == 1


async def test_a_connection_lost_after_commit_is_outcome_unknown_and_replays(
    fresh: str,
) -> None:
    """The answer to COMMIT is lost (the connection is cut as COMMIT goes out): the client is
    told the outcome is unknown, and sending the same request with the same key replays the
    registration that was in fact stored."""
    async with _CuttingProxy(fresh) as proxy, serving(proxy.url) as (app, client):
        partner = await make_partner(app.state.db)
        event_id = await _published_event(client, partner)
        body = {"name": "A", "email": "a@example.org"}
        headers = {"Idempotency-Key": "lost-commit"}
        proxy.cut_after(lambda chunk: b"COMMIT" in chunk)
        first = await client.post(REGISTER.format(event_id), json=body, headers=headers)
        assert_problem(first, 503, "outcome-unknown")
        assert proxy.cuts == 1
        # the server read the whole COMMIT before the cut, so it committed
        assert await _count(fresh, "SELECT count(*) FROM registrations") == 1
        again = await client.post(REGISTER.format(event_id), json=body, headers=headers)
        assert again.status_code == 201, again.text
        assert again.headers.get("idempotent-replay") == "true"
        assert (await client.get("/readyz")).status_code == 200
    assert await _count(fresh, "SELECT count(*) FROM registrations") == 1


@contextlib.asynccontextmanager
async def _seats_locked(url: str, event_id: str) -> AsyncIterator[None]:
    """Another session holds every seat row of the event (the claim waits for it)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT * FROM seat_shards WHERE event_id = $1 FOR UPDATE", event_id)
            yield
    finally:
        await conn.close()


class _CuttingProxy:
    """A TCP proxy in front of the test server that, once armed, forwards the client's next
    matching chunk and then cuts both connections: the server gets the whole message, the
    client never gets the answer."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.hostname is None:
            pytest.skip("needs a PostgreSQL reached over TCP")
        self.target = (parts.hostname, parts.port or 5432)
        self.parts = parts
        self.matches: Callable[[bytes], bool] | None = None
        self.cuts = 0

    def cut_after(self, matches: Callable[[bytes], bool]) -> None:
        self.matches = matches

    async def __aenter__(self) -> _CuttingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        netloc = f"{self.parts.username or 'postgres'}@127.0.0.1:{port}"
        self.url = urlunsplit(self.parts._replace(netloc=netloc))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        cut = asyncio.Event()

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, up: bool) -> None:
            while not cut.is_set() and (chunk := await source.read(65536)):
                sink.write(chunk)
                await sink.drain()
                if up and self.matches is not None and self.matches(chunk):
                    self.matches = None
                    self.cuts += 1
                    cut.set()
            for side in (writer, up_writer):
                side.close()

        with contextlib.suppress(ConnectionError, OSError):
            await asyncio.gather(
                pump(reader, up_writer, up=True), pump(up_reader, writer, up=False)
            )


@pytest.mark.parametrize(
    ("exc", "committing", "closed", "code"),
    [
        (
            asyncpg.exceptions.ReadOnlySQLTransactionError("read-only"),
            False,
            False,
            "database-unavailable",
        ),
        (
            asyncpg.exceptions.CannotConnectNowError("starting up"),
            False,
            False,
            "database-unavailable",
        ),
        (
            asyncpg.exceptions.ProtocolViolationError("query_wait_timeout"),
            False,
            False,
            "database-unavailable",
        ),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), True, False, "outcome-unknown"),
        (ConnectionResetError(), True, False, "outcome-unknown"),
        (TimeoutError(), True, False, "outcome-unknown"),
        (TimeoutError(), False, False, "database-unavailable"),
        (
            asyncpg.exceptions.QueryCanceledError("statement timeout"),
            True,
            False,
            "database-unavailable",
        ),
        # the peer hung up between two statements: asyncpg says "not connected"
        (asyncpg.exceptions.InternalClientError("not connected"), True, True, "outcome-unknown"),
        (
            asyncpg.exceptions.InternalClientError("not connected"),
            False,
            True,
            "database-unavailable",
        ),
        (asyncpg.exceptions.UniqueViolationError("duplicate"), True, False, None),
        (KeyError("a bug"), False, False, None),
    ],
)
def test_which_failure_is_which_answer(
    exc: BaseException, committing: bool, closed: bool, code: str | None
) -> None:
    from events import db_errors

    translated = db_errors.translate(exc, committing=committing, closed=closed)
    assert (translated.code if translated else None) == code
