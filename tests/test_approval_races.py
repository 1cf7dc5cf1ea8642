"""Races of the new ways of taking a seat: approving, holding, and using an access code,
each against real PostgreSQL over HTTP, with controls that show the race without the guard."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from events import seats
from events.db import Database
from events.queries import Connection, Row
from events.queries import access as access_q
from tests.conftest import Partner, create_event
from tests.test_registration_races import seat_books, surge


async def applicants(
    client: httpx.AsyncClient, partner: Partner, count: int, *, waitlist: bool
) -> tuple[dict[str, Any], list[str]]:
    event = await create_event(client, partner, approval="screen", capacity=50, waitlist=waitlist)
    made = await surge(client, event, count, at_once=50, prefix="applicant")
    assert {r.json()["status"] for r in made} == {"pending"}
    return event, [r.json()["id"] for r in made]


async def approve_all(
    client: httpx.AsyncClient, partner: Partner, ids: list[str]
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(client.post(f"/api/v1/registrations/{i}/approve", headers=partner.auth) for i in ids)
        )
    )


@pytest.fixture
def naive_seats() -> Iterator[None]:
    """Approving without the counters: count the confirmed, then confirm (the race)."""
    original = seats.take_seat

    async def count_then_confirm(
        conn: Connection, registration: Row, *, status: str, now: datetime
    ) -> bool:
        event_id = registration["event_id"]
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'",
            event_id,
        )
        capacity = await conn.fetchval("SELECT capacity FROM events WHERE id = $1", event_id)
        await asyncio.sleep(0)
        if taken >= capacity:
            return False
        await conn.execute(
            "UPDATE registrations SET status = $2, shard = 0, confirmed_at = $3, updated_at = $3"
            " WHERE id = $1",
            registration["id"],
            status,
            now,
        )
        return True

    seats.take_seat = count_then_confirm  # type: ignore[assignment]
    yield
    seats.take_seat = original  # type: ignore[assignment]


async def test_control_approving_without_the_counters_overbooks(
    client: httpx.AsyncClient, partner: Partner, naive_seats: None
) -> None:
    _, ids = await applicants(client, partner, 200, waitlist=False)
    responses = await approve_all(client, partner, ids)
    confirmed = sum(r.status_code == 200 for r in responses)
    assert confirmed > 50, "the control must overbook, else the race test proves nothing"


async def test_200_approved_at_once_for_50_seats_gives_exactly_50(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event, ids = await applicants(client, partner, 200, waitlist=False)
    responses = await approve_all(client, partner, ids)
    assert Counter(r.status_code for r in responses) == {200: 50, 409: 150}
    assert {r.json()["type"].rsplit("/", 1)[1] for r in responses if r.status_code == 409} == {
        "event-full"
    }
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 50
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert (stats["confirmed"], stats["pending"]) == (50, 150)


async def test_200_approved_at_once_with_a_waitlist_queue_in_order(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event, ids = await applicants(client, partner, 200, waitlist=True)
    responses = await approve_all(client, partner, ids)
    assert Counter(r.json()["status"] for r in responses) == {"confirmed": 50, "waitlisted": 150}
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 50
    waiting = (
        await client.get(
            f"/api/v1/events/{event['id']}/registrations?status=waitlisted&limit=500",
            headers=partner.auth,
        )
    ).json()["items"]
    assert sorted(r["waitlist_position"] for r in waiting) == list(range(1, 151))


async def test_hold_surge_holds_exactly_the_seats(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, approval="hold", capacity=50, waitlist=False)
    responses = await surge(client, event, 300, at_once=300)
    assert Counter(r.status_code for r in responses) == {201: 50, 409: 250}
    assert {r.json()["status"] for r in responses if r.status_code == 201} == {"pending"}
    books = await seat_books(db, event["id"])
    assert books["counted"] == 50 and books["rows"] == 0
    # approving every held seat at once never fails
    held = [r.json()["id"] for r in responses if r.status_code == 201]
    approved = await approve_all(client, partner, held)
    assert Counter(r.json()["status"] for r in approved) == {"confirmed": 50}
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 50


async def test_rejections_racing_a_hold_surge_refill_every_seat(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, approval="hold", capacity=20, waitlist=True)
    first = await surge(client, event, 40, at_once=40, prefix="early")
    held = [r.json()["id"] for r in first if r.json()["status"] == "pending"]
    assert len(held) == 20
    rejects = [
        client.post(f"/api/v1/registrations/{i}/reject", headers=partner.auth, json={})
        for i in held[:10]
    ]
    newcomers = [
        client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": f"Late {i}", "email": f"late{i}@example.org"},
        )
        for i in range(30)
    ]
    results = await asyncio.gather(*rejects, *newcomers)
    assert all(r.status_code in (200, 201) for r in results)
    books = await seat_books(db, event["id"])
    assert books["counted"] == 20  # every freed seat went to the waitlist at once
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert (stats["pending"], stats["rejected"], stats["waitlisted"]) == (20, 10, 40)


@pytest.fixture
def naive_codes() -> Iterator[None]:
    """Using a code without the guarded counter: count its registrations, then go ahead."""
    original = access_q.use_code

    async def count_then_use(
        conn: Connection, event_id: UUID, code: str, now: datetime
    ) -> Row | None:
        found = await conn.fetchrow(
            "SELECT id, skip_approval, max_uses FROM access_codes"
            " WHERE event_id = $1 AND upper(code) = upper($2)",
            event_id,
            code,
        )
        if found is None:
            return None
        used = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE access_code_id = $1", found["id"]
        )
        await asyncio.sleep(0)
        return None if used >= found["max_uses"] else dict(found)

    access_q.use_code = count_then_use  # type: ignore[assignment]
    yield
    access_q.use_code = original  # type: ignore[assignment]


async def code_race(
    client: httpx.AsyncClient, partner: Partner
) -> tuple[dict[str, Any], list[httpx.Response]]:
    event = await create_event(client, partner, invite_only=True, capacity=1000)
    made = await client.post(
        f"/api/v1/events/{event['id']}/access-codes",
        headers=partner.auth,
        json={"code": "THIRTY", "max_uses": 30},
    )
    assert made.status_code == 201
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/events/{event['id']}/registrations",
                json={"name": f"R{i}", "email": f"r{i}@example.org", "access_code": "thirty"},
            )
            for i in range(100)
        )
    )
    return event, list(responses)


async def test_control_codes_without_the_counter_are_overused(
    client: httpx.AsyncClient, partner: Partner, naive_codes: None
) -> None:
    _, responses = await code_race(client, partner)
    assert sum(r.status_code == 201 for r in responses) > 30, "the control must overuse"


async def test_100_racing_for_a_code_with_30_uses_gives_exactly_30(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event, responses = await code_race(client, partner)
    assert Counter(r.status_code for r in responses) == {201: 30, 422: 70}
    codes = await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    assert codes.json()["items"][0]["uses"] == 30
    async with db.connection() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1", UUID(event["id"])
        )
    assert stored == 30
