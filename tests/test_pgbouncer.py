"""Through PgBouncer in transaction pooling (docs/deploy/pgbouncer.ini), with a control: with
asyncpg's prepared-statement cache on, two pools sharing PgBouncer's server connections fail
("prepared statement … does not exist" / "already exists", what issue #11 saw); with
EVENTS_DB_STATEMENT_CACHE_SIZE=0 the same load runs clean, and so does the app."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from events.app import create_app
from events.db import Database, migrate
from events.settings import Settings
from tests import cluster
from tests.conftest import event_body, make_partner
from tests.live_server import create_database, drop_database

PREPARED_STATEMENT_ERRORS = (
    asyncpg.exceptions.InvalidSQLStatementNameError,  # does not exist (on this server conn)
    asyncpg.exceptions.DuplicatePreparedStatementError,  # already exists (another client's)
)


@pytest.fixture(scope="module")
def server() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or urlsplit(url).hostname is None:
        pytest.skip("needs a PostgreSQL reached over TCP (TEST_DATABASE_URL)")
    if not Path(cluster.PGBOUNCER).exists():
        if os.environ.get("CI"):
            pytest.fail("pgbouncer must be installed on CI (scripts/test installs it)")
        pytest.skip("pgbouncer is not installed")
    return url


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="events-pgbouncer-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


@pytest.fixture
async def bouncer(server: str, folder: Path) -> AsyncIterator[cluster.PgBouncer]:
    url, name = await create_database(server, "events_bouncer")
    database = Database(url)
    await database.connect()
    await migrate(database)
    await database.disconnect()
    bouncer = cluster.PgBouncer(folder, name)
    bouncer.point_at(urlsplit(server).port or 5432, host=urlsplit(server).hostname or "")
    bouncer.start()
    yield bouncer
    bouncer.stop()
    await drop_database(server, name)


async def _load(url: str, statement_cache_size: int) -> list[BaseException]:
    """Two pools (two app processes) running the same statements concurrently."""
    pools = [
        Database(url, pool_size=5, statement_cache_size=statement_cache_size) for _ in range(2)
    ]
    for pool in pools:
        await pool.connect()
    errors: list[BaseException] = []

    async def one(pool: Database, n: int) -> None:
        try:
            async with pool.connection() as conn:
                await conn.fetchval(f"SELECT $1::int + {n % 7}", n)
        except PREPARED_STATEMENT_ERRORS as exc:
            errors.append(exc)

    try:
        await asyncio.gather(*(one(pools[n % 2], n) for n in range(400)))
    finally:
        for pool in pools:
            await pool.disconnect()
    return errors


async def test_prepared_statements_break_through_pgbouncer_and_cache_size_0_fixes_it(
    bouncer: cluster.PgBouncer,
) -> None:
    # the control: which server connection a statement lands on is up to PgBouncer's timing,
    # so the clash may take more than one round on a busy machine
    clashes = [await _load(bouncer.url(), statement_cache_size=100) for _ in range(3)]
    assert any(clashes), "the control should fail"
    assert await _load(bouncer.url(), statement_cache_size=0) == []


async def test_the_app_registers_through_pgbouncer(bouncer: cluster.PgBouncer) -> None:
    settings = Settings(
        database_url=bouncer.url(),
        rate_limits="off",
        mail_worker=True,  # the mail worker and the job runner too
        db_statement_cache_size=0,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        partner = await make_partner(app.state.db)
        body = event_body(capacity=30, waitlist=True)
        event = await client.post("/api/v1/events", json=body, headers=partner.auth)
        event_id = event.json()["id"]
        await client.post(f"/api/v1/events/{event_id}/publish", headers=partner.auth)
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/api/v1/events/{event_id}/registrations",
                    json={"name": f"N{n}", "email": f"n{n}@example.org"},
                    headers={"Idempotency-Key": f"k{n}"} if n % 2 else {},
                )
                for n in range(40)
            )
        )
        assert sorted(a.status_code for a in answers) == [201] * 40
        statuses = [a.json()["status"] for a in answers]
        assert statuses.count("confirmed") == 30 and statuses.count("waitlisted") == 10
        from events import jobs

        done = await jobs.run_once(app.state.db, settings, app.state.clock())
        assert all(count is not None for count in done.values())
