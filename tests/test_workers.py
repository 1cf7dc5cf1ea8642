"""Live servers over real HTTP: several worker processes (`serve --workers 2`) stay as
correct as one, as they would on several machines behind a load balancer sharing only
PostgreSQL; and SIGTERM lets the requests in flight finish."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from events.db import Database, migrate
from tests.conftest import Partner, event_body, make_partner
from tests.live_server import Server, create_database, drop_database, running, server_env


@pytest.fixture(scope="module")
async def workers_database(database_url: str) -> AsyncIterator[str]:
    url, name = await create_database(database_url, "events_workers")
    db = Database(url, pool_size=2)
    await db.connect()
    await migrate(db)
    await db.disconnect()
    yield url
    await drop_database(database_url, name)


@pytest.fixture(scope="module")
def two_workers(
    workers_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = server_env(workers_database)
    with running(Server(env, tmp_path_factory.mktemp("workers"), "--workers", "2")) as server:
        yield server


@pytest.fixture
async def owner(workers_database: str) -> AsyncIterator[Partner]:
    db = Database(workers_database, pool_size=1)
    await db.connect()
    try:
        yield await make_partner(db)
    finally:
        await db.disconnect()


async def _published(api: httpx.AsyncClient, owner: Partner, **changes: Any) -> str:
    made = await api.post("/api/v1/events", json=event_body(**changes), headers=owner.auth)
    assert made.status_code == 201, made.text
    event_id: str = made.json()["id"]
    published = await api.post(f"/api/v1/events/{event_id}/publish", headers=owner.auth)
    assert published.status_code == 200
    return event_id


async def test_a_surge_over_two_workers_is_exact(two_workers: Server, owner: Partner) -> None:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=two_workers.base, timeout=30, limits=limits) as api:
        event_id = await _published(api, owner, capacity=30)
        answers = await asyncio.gather(
            *(
                api.post(
                    f"/api/v1/events/{event_id}/registrations",
                    json={"name": f"Person {i}", "email": f"w{i}@example.org"},
                )
                for i in range(120)
            )
        )
        assert Counter(a.status_code for a in answers) == {201: 120}
        statuses = Counter(a.json()["status"] for a in answers)
        assert statuses == {"confirmed": 30, "waitlisted": 90}
        # each answer gave its place at that moment; read again, the places are 1..90
        waiting = [a.json() for a in answers if a.json()["status"] == "waitlisted"]
        assert all(1 <= w["waitlist_position"] <= 90 for w in waiting)
        listed = await api.get(
            f"/api/v1/events/{event_id}/registrations?status=waitlisted&limit=500",
            headers=owner.auth,
        )
        positions = sorted(r["waitlist_position"] for r in listed.json()["items"])
        assert positions == list(range(1, 91))
        # a change made through one worker is seen by the other at once
        closed = await api.patch(
            f"/api/v1/events/{event_id}", json={"waitlist": False}, headers=owner.auth
        )
        assert closed.status_code == 200
        refused = await asyncio.gather(
            *(
                api.post(
                    f"/api/v1/events/{event_id}/registrations",
                    json={"name": "Late", "email": f"late{i}@example.org"},
                )
                for i in range(10)
            )
        )
        assert [r.json()["type"].rsplit("/", 1)[-1] for r in refused] == ["event-full"] * 10
        stats = await api.get(f"/api/v1/events/{event_id}/stats", headers=owner.auth)
        assert stats.json()["confirmed"] == 30 and stats.json()["waitlisted"] == 90


async def test_one_ticket_scanned_at_once_through_two_workers_is_admitted_once(
    two_workers: Server, owner: Partner
) -> None:
    async with httpx.AsyncClient(base_url=two_workers.base, timeout=30) as api:
        event_id = await _published(api, owner, capacity=5)
        reg = await api.post(
            f"/api/v1/events/{event_id}/registrations",
            json={"name": "Chan Tai Man", "email": "tm@example.org"},
        )
        code = reg.json()["ticket"]["code"]
        door = await api.post(
            f"/api/v1/events/{event_id}/door-tokens", json={"label": "Door"}, headers=owner.auth
        )
        auth = {"Authorization": f"Bearer {door.json()['token']}"}
        scans = await asyncio.gather(
            *(
                api.post(f"/api/v1/events/{event_id}/checkins", json={"code": code}, headers=auth)
                for _ in range(30)
            )
        )
        results = Counter(s.json()["result"] for s in scans)
        assert results == {"accepted": 1, "already_checked_in": 29}


async def test_sigterm_lets_a_request_in_flight_finish(
    workers_database: str, owner: Partner, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A PATCH waits on the event's row, held by another connection; SIGTERM comes; the row is
    let go: the PATCH is answered and stored, then the server exits cleanly."""
    server = Server(server_env(workers_database), tmp_path_factory.mktemp("term"), "--workers", "1")
    try:
        server.wait_healthy()
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as api:
            event_id = await _published(api, owner, capacity=10)
            holder = await asyncpg.connect(workers_database)
            try:
                held = holder.transaction()
                await held.start()
                await holder.execute(
                    "SELECT 1 FROM events WHERE id = $1 FOR UPDATE", UUID(event_id)
                )
                patch = asyncio.create_task(
                    api.patch(
                        f"/api/v1/events/{event_id}", json={"capacity": 12}, headers=owner.auth
                    )
                )
                await _waiting_on_a_lock(holder)
                server.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(1)  # the server is shutting down while the PATCH waits
                assert server.process.poll() is None, "it must wait for the request in flight"
                await held.rollback()
            finally:
                await holder.close()
            answered = await patch
        assert answered.status_code == 200 and answered.json()["capacity"] == 12
        assert await asyncio.to_thread(server.process.wait, 30) == 0
    finally:
        server.kill()


async def _waiting_on_a_lock(conn: asyncpg.Connection[Any]) -> None:
    for _ in range(100):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)  # polling a real server's lock table
    raise AssertionError("the PATCH never reached the lock")
