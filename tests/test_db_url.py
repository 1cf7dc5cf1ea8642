"""DATABASE_URL reaches asyncpg whole: several hosts with target_session_attrs, server
settings in the query string, sslmode, the PG* environment variables. (`databases`, which
events/db.py wrapped before, dropped all of these or crashed on them.)"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest

from events.app import create_app
from events.db import Database
from events.settings import Settings
from tests.conftest import event_body, make_partner
from tests.live_server import create_database, drop_database, free_port


@pytest.fixture(scope="module")
def server() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or urlsplit(url).hostname is None:
        pytest.skip("needs a PostgreSQL reached over TCP (TEST_DATABASE_URL)")
    return url


@pytest.fixture
async def database(server: str) -> AsyncIterator[tuple[str, str, int]]:
    """A fresh database: (its name, the server's host, its port)."""
    url, name = await create_database(server, "events_url")
    parts = urlsplit(url)
    yield name, parts.hostname or "", parts.port or 5432
    await drop_database(server, name)


async def test_a_multi_host_url_finds_the_writable_server_and_keeps_its_options(
    database: tuple[str, str, int],
) -> None:
    name, host, port = database
    dead = free_port()  # nothing listens there: the first host is down
    url = (
        f"postgresql://postgres@127.0.0.1:{dead},{host}:{port}/{name}"
        "?target_session_attrs=read-write&sslmode=disable&application_name=events-multi-host"
    )
    app = create_app(Settings(database_url=url, rate_limits="off", mail_worker=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        partner = await make_partner(app.state.db)
        created = await client.post("/api/v1/events", json=event_body(), headers=partner.auth)
        assert created.status_code == 201, created.text
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        async with app.state.db.connection() as conn:
            seen = await conn.fetchval(
                "SELECT current_setting('application_name') || ' on ' || current_database()"
            )
    assert seen == f"events-multi-host on {name}"


async def test_server_settings_in_the_url_reach_the_server(
    database: tuple[str, str, int],
) -> None:
    name, host, port = database
    db = Database(f"postgresql://postgres@{host}:{port}/{name}?statement_timeout=1234")
    await db.connect()
    try:
        async with db.connection() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "1234ms"
    finally:
        await db.disconnect()


async def test_the_pg_environment_variables_fill_what_the_url_leaves_out(
    database: tuple[str, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, host, port = database
    for key, value in {
        "PGHOST": host,
        "PGPORT": str(port),
        "PGUSER": "postgres",
        "PGDATABASE": name,
        "PGAPPNAME": "from-the-environment",
    }.items():
        monkeypatch.setenv(key, value)
    db = Settings(database_url="postgresql://").database()
    await db.connect()
    try:
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT current_database()") == name
    finally:
        await db.disconnect()


def test_settings_carry_the_pool_options_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h1:5432,h2:5432/db?target_session_attrs=read-write",
            "EVENTS_DB_STATEMENT_CACHE_SIZE": "0",
            "EVENTS_DB_STATEMENT_TIMEOUT": "2.5",
            "EVENTS_DB_POOL_SIZE": "7",
        }
    )
    db = settings.database()
    assert db.url == settings.database_url
    options = db._options
    assert options["dsn"] == settings.database_url  # whole, for asyncpg to read
    assert options["statement_cache_size"] == 0
    assert options["command_timeout"] == 2.5
    assert options["max_size"] == 7
    assert Settings.from_env({}).database_url is None
    assert Settings.from_env({"EVENTS_DB_STATEMENT_TIMEOUT": "0"}).db_statement_timeout == 0
