"""Process roles: `serve --no-worker` is a web node that leaves mail and periodic jobs alone;
`python -m events worker` does them, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from events.app import create_app
from events.settings import Settings
from tests.conftest import event_body, make_partner
from tests.live_server import ROOT, Server, create_database, drop_database, running, server_env


@pytest.fixture
async def fresh(database_url: str) -> AsyncIterator[str]:
    server = os.environ.get("TEST_DATABASE_URL") or urlunsplit(
        urlsplit(database_url)._replace(path="/postgres")
    )
    url, name = await create_database(server, "events_roles")
    yield url
    await drop_database(server, name)


async def _register_someone(url: str) -> None:
    """Through an app that runs no background work: a confirmation waits in the outbox."""
    app = create_app(Settings(database_url=url, rate_limits="off", mail_worker=False))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        partner = await make_partner(app.state.db)
        event = await client.post("/api/v1/events", json=event_body(), headers=partner.auth)
        event_id = event.json()["id"]
        await client.post(f"/api/v1/events/{event_id}/publish", headers=partner.auth)
        registered = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json={"name": "Chan Tai Man", "email": "tai.man@example.org"},
        )
        assert registered.status_code == 201, registered.text


async def _outbox(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [r["status"] for r in await conn.fetch("SELECT status FROM mail_outbox")]
    finally:
        await conn.close()


async def _until_outbox(url: str, expected: list[str]) -> list[str]:
    found = await _outbox(url)
    for _ in range(150):  # up to ~30 s
        if found == expected:
            break
        await asyncio.sleep(0.2)  # waiting for a real worker process
        found = await _outbox(url)
    return found


async def test_the_worker_role_delivers_mail_and_stops_on_sigterm(fresh: str) -> None:
    await _register_someone(fresh)
    with tempfile.TemporaryDirectory(prefix="events-roles-") as folder:
        log = Path(folder) / "worker.log"
        with log.open("w+") as output:
            worker = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "events", "worker"),
                cwd=ROOT,
                env={**server_env(fresh), "PYTHONUNBUFFERED": "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                assert await _until_outbox(fresh, ["logged"]) == ["logged"], log.read_text()
                started = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(worker.wait(), 30)
            finally:
                if worker.returncode is None:
                    worker.kill()
                    await worker.wait()
            assert code == 0, log.read_text()
            assert time.monotonic() - started < 20
            text = log.read_text()
    assert "worker running" in text and "worker stopping" in text


async def test_a_web_node_leaves_the_outbox_to_the_workers(fresh: str) -> None:
    await _register_someone(fresh)
    with tempfile.TemporaryDirectory(prefix="events-roles-") as folder:
        node = Server(server_env(fresh), Path(folder), "--no-worker", "--workers", "1")
        with running(node):
            assert (await asyncio.to_thread(httpx.get, f"{node.base}/readyz")).status_code == 200
            assert "a web node" in node.output()  # it started no mail worker, no job loop
            assert await _outbox(fresh) == ["pending"]
