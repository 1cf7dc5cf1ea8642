"""Races: many registrations at once against real PostgreSQL, over HTTP, on a pooled app.

The first test is the control (as pretix does): with the capacity guard swapped for a naive
check-then-insert by a fixture, the same surge overbooks, so this suite can see the bug.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from events import registration
from events.db import Database
from events.queries import Connection, Row
from tests.conftest import Partner, create_event


async def surge(
    client: httpx.AsyncClient, event: dict[str, Any], count: int, *, at_once: int, prefix: str = "u"
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(at_once)

    async def one(i: int) -> httpx.Response:
        async with gate:
            return await client.post(
                f"/api/v1/events/{event['id']}/registrations",
                json={"name": f"Person {i}", "email": f"{prefix}{i}@example.org"},
            )

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def seat_books(db: Database, event_id: str) -> dict[str, int]:
    """What the database holds: confirmed rows, the shard counters, and the capacity."""
    async with db.connection() as conn:
        record = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed') AS rows,"
            " (SELECT sum(confirmed) FROM seat_shards WHERE event_id = $1) AS counted,"
            " (SELECT sum(capacity) FROM seat_shards WHERE event_id = $1) AS shard_capacity,"
            " (SELECT capacity FROM events WHERE id = $1) AS capacity",
            UUID(event_id),
        )
    assert record is not None
    return {k: int(v) for k, v in record.items()}


@pytest.fixture
def unguarded() -> Iterator[None]:
    """Swap the seat claim for the naive way: count, then insert (no lock, no counter)."""
    original = registration._insert

    async def check_then_insert(
        conn: Connection, target: Row, fields: dict[str, Any], now: datetime
    ) -> Row:
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'",
            target["id"],
        )
        capacity = await conn.fetchval("SELECT capacity FROM events WHERE id = $1", target["id"])
        await asyncio.sleep(0)  # any real handler does I/O here; the race window is the point
        if taken >= capacity:
            raise registration.EventFull()
        record = await conn.fetchrow(
            "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard, created_at,"
            " confirmed_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'confirmed', 0, $6, $6, $6)"
            " RETURNING *",
            target["id"],
            fields["name"],
            fields["email"],
            fields["locale"],
            fields["answers"],
            now,
        )
        assert record is not None
        return dict(record)

    registration._insert = check_then_insert  # type: ignore[assignment]
    yield
    registration._insert = original  # type: ignore[assignment]


async def test_control_without_the_guard_the_surge_overbooks(
    client: httpx.AsyncClient, partner: Partner, db: Database, unguarded: None
) -> None:
    event = await create_event(client, partner, capacity=50, waitlist=False)
    responses = await surge(client, event, 300, at_once=200)
    confirmed = sum(r.status_code == 201 for r in responses)
    assert confirmed > 50, "the control must show overbooking, else the race tests prove nothing"


async def test_600_at_200_at_a_time_for_100_seats(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=100, waitlist=True)
    responses = await surge(client, event, 600, at_once=200)
    assert Counter(r.status_code for r in responses) == {201: 600}
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"confirmed": 100, "waitlisted": 500}
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 100 == books["shard_capacity"]
    waiting = (
        await client.get(
            f"/api/v1/events/{event['id']}/registrations?status=waitlisted&limit=500",
            headers=partner.auth,
        )
    ).json()["items"]
    assert sorted(r["waitlist_position"] for r in waiting) == list(range(1, 501))


async def test_300_at_once_without_waitlist_for_50_seats(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=50, waitlist=False)
    responses = await surge(client, event, 300, at_once=300)
    assert Counter(r.status_code for r in responses) == {201: 50, 409: 250}
    assert {r.json()["type"].rsplit("/", 1)[1] for r in responses if r.status_code == 409} == {
        "event-full"
    }
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 50


async def test_100_identical_submissions_make_one_registration(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=10)
    url = f"/api/v1/events/{event['id']}/registrations"
    body = {"name": "Same Person", "email": "same@example.org"}
    plain = await asyncio.gather(*(client.post(url, json=body) for _ in range(100)))
    assert Counter(r.status_code for r in plain) == {201: 1, 409: 99}
    other = await create_event(client, partner, capacity=10)
    keyed = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/events/{other['id']}/registrations",
                json=body,
                headers={"Idempotency-Key": "same"},
            )
            for _ in range(100)
        )
    )
    assert Counter(r.status_code for r in keyed) == {201: 100}
    assert len({r.json()["id"] for r in keyed}) == 1
    for e in (event, other):
        listed = (
            await client.get(f"/api/v1/events/{e['id']}/registrations", headers=partner.auth)
        ).json()
        assert len(listed["items"]) == 1


async def test_cancellations_racing_registrations_never_exceed_capacity(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=30, waitlist=True)
    first = await surge(client, event, 60, at_once=60, prefix="first")
    seated = [r.json() for r in first if r.json()["status"] == "confirmed"]
    cancels = [
        client.post(f"/api/v1/registrations/{r['id']}/cancel?token={r['access_token']}")
        for r in random.sample(seated, 15)
    ]
    newcomers = [
        client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": f"N{i}", "email": f"new{i}@example.org"},
        )
        for i in range(60)
    ]
    both = cancels + newcomers
    random.shuffle(both)
    results = await asyncio.gather(*both)
    assert all(r.status_code in (200, 201) for r in results)
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 30  # the waitlist refilled every freed seat
    waiting = (
        await client.get(
            f"/api/v1/events/{event['id']}/registrations?status=waitlisted&limit=500",
            headers=partner.auth,
        )
    ).json()["items"]
    assert sorted(r["waitlist_position"] for r in waiting) == list(range(1, len(waiting) + 1))
    assert len(waiting) == 60 + 60 - 15 - 30


async def test_session_capacity_holds_under_a_surge(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, publish=False, capacity=200)
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        headers=partner.auth,
        json={
            "title": "Workshop",
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
            "capacity": 10,
        },
    )
    session_id = made.json()["id"]
    await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/events/{event['id']}/registrations",
                json={"name": f"S{i}", "email": f"s{i}@example.org", "sessions": [session_id]},
            )
            for i in range(60)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 10, 409: 50}
    async with db.connection() as conn:
        held = await conn.fetchval(
            "SELECT count(*) FROM registration_sessions WHERE session_id = $1", UUID(session_id)
        )
        counter = await conn.fetchval(
            "SELECT confirmed FROM sessions WHERE id = $1", UUID(session_id)
        )
    assert held == counter == 10
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 10  # refused ones gave their event seat back
