"""The database layer: migrations (twice, concurrently, failing) and surviving a PostgreSQL
restart under the running app."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from events import db as db_module
from events.app import create_app
from events.db import MIGRATION_LOCK, Database, migrate, migration_files
from events.embedded import EmbeddedPostgres
from events.settings import Settings
from tests.conftest import assert_problem, event_body, make_partner
from tests.live_server import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server_url(database_url: str) -> str:
    """A URL of the test server's maintenance database, to create databases with."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        return server
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


@pytest.fixture
async def fresh_url(server_url: str) -> AsyncIterator[str]:
    url, name = await create_database(server_url, "events_migrate")
    yield url
    await drop_database(server_url, name)


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def _tables(url: str) -> set[str]:
    found = await _fetch(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in found}


async def _versions(url: str) -> list[str]:
    found = await _fetch(url, "SELECT version FROM schema_migrations ORDER BY version")
    return [r["version"] for r in found]


async def _migrate(url: str) -> list[str]:
    database = Database(url, pool_size=1)
    await database.connect()
    try:
        return await migrate(database)
    finally:
        await database.disconnect()


async def test_migrations_apply_once_and_again_is_a_no_op(fresh_url: str) -> None:
    shipped = [version for version, _ in migration_files()]
    assert shipped == sorted(shipped) and shipped[0] == "0001_initial"
    assert await _migrate(fresh_url) == shipped
    assert {"partners", "events", "event_hosts", "schema_migrations"} <= await _tables(fresh_url)
    assert await _migrate(fresh_url) == []
    assert await _versions(fresh_url) == shipped


MIGRATE_IN_A_PROCESS = """
import asyncio, json, sys
from events.db import Database, migrate
async def main():
    db = Database(sys.argv[1], pool_size=1)
    await db.connect()
    try:
        print(json.dumps(await migrate(db)))
    finally:
        await db.disconnect()
asyncio.run(main())
"""


async def test_concurrent_migrations_from_processes_and_connections(fresh_url: str) -> None:
    """Hold the migration lock, start 3 processes and 3 pools migrating, see all 6 queue on
    the lock, let go: the migrations are applied exactly once between them."""
    holder = await asyncpg.connect(fresh_url)
    await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            MIGRATE_IN_A_PROCESS,
            fresh_url,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    try:
        tasks = [asyncio.create_task(_migrate(fresh_url)) for _ in range(3)]
        waiting = 0
        deadline = time.monotonic() + 30
        while waiting < 6 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # waiting for other processes to reach the lock
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
            )
        assert waiting == 6, "all six migrators should be queued on the lock"
    finally:
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        await holder.close()
    results = list(await asyncio.gather(*tasks))
    for process in processes:
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    shipped = [version for version, _ in migration_files()]
    assert sorted(v for applied in results for v in applied) == shipped
    assert sum(1 for applied in results if applied) == 1
    assert await _versions(fresh_url) == shipped


@pytest.fixture
def extra_migrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of migrations that run after the shipped ones."""
    folder = Path(tempfile.mkdtemp(prefix="events-migrations-"))
    shipped = migration_files()

    def with_extra() -> list[tuple[str, str]]:
        extra = sorted(folder.glob("*.sql"))
        return shipped + [(p.stem, p.read_text("utf-8")) for p in extra]

    monkeypatch.setattr(db_module, "migration_files", with_extra)
    yield folder
    shutil.rmtree(folder)


async def test_a_failing_migration_leaves_the_schema_as_it_was(
    fresh_url: str, extra_migrations: Path
) -> None:
    (extra_migrations / "9000_fine.sql").write_text(
        "CREATE TABLE extra_fine (id int);\nALTER TABLE partners ADD COLUMN extra text;\n"
    )
    (extra_migrations / "9001_broken.sql").write_text(
        "CREATE TABLE extra_broken (id int);\nSELECT 1 / 0;\n"
    )
    # on an empty database: nothing at all is left behind
    with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
        await _migrate(fresh_url)
    assert await _tables(fresh_url) == set()
    # on a migrated database: the earlier pending migration is rolled back with it
    (extra_migrations / "9001_broken.sql").rename(extra_migrations / "9001_broken.off")
    (extra_migrations / "9000_fine.sql").rename(extra_migrations / "9000_fine.off")
    shipped = [version for version, _ in migration_files()]
    assert await _migrate(fresh_url) == shipped
    before = await _tables(fresh_url)
    columns = "SELECT column_name FROM information_schema.columns WHERE table_name = 'partners'"
    partner_columns = await _fetch(fresh_url, columns)
    (extra_migrations / "9000_fine.off").rename(extra_migrations / "9000_fine.sql")
    (extra_migrations / "9001_broken.off").rename(extra_migrations / "9001_broken.sql")
    with pytest.raises(asyncpg.exceptions.DivisionByZeroError):
        await _migrate(fresh_url)
    assert await _tables(fresh_url) == before
    assert await _fetch(fresh_url, columns) == partner_columns
    assert await _versions(fresh_url) == shipped
    # fixed, it applies
    (extra_migrations / "9001_broken.sql").write_text("CREATE TABLE extra_fixed (id int);\n")
    assert await _migrate(fresh_url) == ["9000_fine", "9001_broken"]
    assert {"extra_fine", "extra_fixed"} <= await _tables(fresh_url)


# --- PostgreSQL restarts under the running app ----------------------------------------------


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    """An embedded PostgreSQL of this module's own, which the test may stop and start."""
    folder = tempfile.mkdtemp(prefix="events-restart-")
    os.chmod(folder, 0o755)
    embedded = EmbeddedPostgres(Path(folder))
    url = embedded.start()
    yield embedded, url
    embedded.stop()
    shutil.rmtree(folder, ignore_errors=True)


async def _timed(request: asyncio.Future[httpx.Response] | object) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = await request  # type: ignore[misc]
    return time.monotonic() - started, response


async def test_database_restart_under_the_running_app(
    own_postgres: tuple[EmbeddedPostgres, str],
) -> None:
    embedded, url = own_postgres
    settings = Settings(database_url=url, rate_limits="off", mail_worker=False)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        partner = await make_partner(app.state.db)
        created = await client.post("/api/v1/events", json=event_body(), headers=partner.auth)
        assert created.status_code == 201, created.text
        event_url = f"/api/v1/events/{created.json()['id']}"
        assert (await client.get("/healthz")).json() == {"status": "ok"}

        embedded.kill_for_test()
        for request in (
            client.get(event_url, headers=partner.auth),
            client.post("/api/v1/events", json=event_body(), headers=partner.auth),
            client.get("/api/v1/events"),
        ):
            took, response = await _timed(request)
            assert_problem(response, 503, "database-unavailable")
            assert response.headers["retry-after"]
            assert took < 3.5, f"an outage must be answered quickly, took {took:.1f}s"
        took, health = await _timed(client.get("/healthz"))
        assert health.status_code == 503 and took < 3.5

        embedded.restart_for_test()
        back = time.monotonic()
        while True:
            response = await client.get(event_url, headers=partner.auth)
            if response.status_code == 200 or time.monotonic() - back > 5:
                break
            await asyncio.sleep(0.1)  # polling a real server coming back, not passing time
        assert response.status_code == 200, response.text
        assert response.json()["id"] == created.json()["id"]
        assert (await client.get("/healthz")).status_code == 200
        again = await client.post("/api/v1/events", json=event_body(), headers=partner.auth)
        assert again.status_code == 201, again.text


async def test_a_hanging_disconnect_is_cut_short(fresh_url: str) -> None:
    database = Database(fresh_url, pool_size=2)
    await database.connect()
    pool = database.pool
    await pool.acquire()  # never released: the pool's close waits for it forever
    started = time.monotonic()
    await database.disconnect(grace=0.3)
    assert time.monotonic() - started < 2
    assert pool._closed  # terminated: no connection is left open
