"""Races on a hybrid event: the online counter, the room's counter beside it, and switching
between them, each exact under concurrency; each with a control that removes the guard and
shows the race (as tests/test_registration_races.py does)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from events import registration, switching
from events.db import Database
from events.queries import Connection, Row
from tests.conftest import Partner, create_event

ONLINE = {"url": "https://meet.example.com/room"}


async def surge(
    client: httpx.AsyncClient, event: dict[str, Any], count: int, *, attendance: str, prefix: str
) -> list[httpx.Response]:
    async def one(i: int) -> httpx.Response:
        return await client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": f"P{i}", "email": f"{prefix}{i}@example.org", "attendance": attendance},
        )

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def books(db: Database, event_id: str) -> dict[str, int]:
    """Confirmed rows and shard counters of each kind, as the database holds them."""
    async with db.connection() as conn:
        record = await conn.fetchrow(
            "SELECT"
            " (SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'"
            "   AND NOT online_place) AS room_rows,"
            " (SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'"
            "   AND online_place) AS online_rows,"
            " (SELECT coalesce(sum(confirmed), 0) FROM seat_shards WHERE event_id = $1"
            "   AND shard < 16) AS room_counted,"
            " (SELECT coalesce(sum(confirmed), 0) FROM seat_shards WHERE event_id = $1"
            "   AND shard >= 16) AS online_counted",
            UUID(event_id),
        )
    assert record is not None
    return {k: int(v) for k, v in record.items()}


@pytest.fixture
def unguarded() -> Iterator[None]:
    """The naive seat claim: count this kind's confirmed, compare, then insert (no counter)."""
    original = registration._insert
    gate = asyncio.Barrier(5)

    async def check_then_insert(
        conn: Connection, target: Row, fields: dict[str, Any], now: datetime
    ) -> Row:
        kind = fields["online_place"]
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'"
            " AND online_place = $2",
            target["id"],
            kind,
        )
        capacity = await conn.fetchval(
            "SELECT CASE WHEN $2 THEN online_capacity ELSE capacity END FROM events WHERE id = $1",
            target["id"],
            kind,
        )
        # any real handler does I/O here; the race window is the point: let a few requests
        # count before any of them inserts (a barrier, so the control does not hang on timing)
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            await asyncio.wait_for(gate.wait(), 0.5)
        if taken >= capacity:
            raise registration.EventFull()
        record = await conn.fetchrow(
            "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,"
            " created_at, confirmed_at, updated_at, attendance, online_place)"
            " VALUES ($1, $2, $3, 'en', '{}', 'confirmed', CASE WHEN $5 THEN 16 ELSE 0 END,"
            " $4, $4, $4, $6, $5) RETURNING *",
            target["id"],
            fields["name"],
            fields["email"],
            now,
            kind,
            fields["attendance"],
        )
        assert record is not None
        return dict(record)

    registration._insert = check_then_insert  # type: ignore[assignment]
    yield
    registration._insert = original  # type: ignore[assignment]


async def hybrid(client: httpx.AsyncClient, partner: Partner, **changes: Any) -> dict[str, Any]:
    return await create_event(client, partner, format="hybrid", online=ONLINE, **changes)


@pytest.mark.parametrize("attendance", ["online", "in_person"])
async def test_control_without_the_guard_each_counter_overbooks(
    client: httpx.AsyncClient, partner: Partner, unguarded: None, attendance: str
) -> None:
    confirmed = 0
    for attempt in range(3):  # a race shows when requests interleave: give it three surges
        event = await hybrid(client, partner, capacity=20, online_capacity=20, waitlist=False)
        responses = await surge(client, event, 200, attendance=attendance, prefix=f"c{attempt}")
        confirmed = sum(r.status_code == 201 for r in responses)
        if confirmed > 20:
            break
    assert confirmed > 20, "the control must show overbooking, else the race tests prove nothing"


async def test_online_places_are_exact_under_a_surge(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await hybrid(client, partner, capacity=30, online_capacity=40, waitlist=True)
    online, room = await asyncio.gather(
        surge(client, event, 150, attendance="online", prefix="o"),
        surge(client, event, 100, attendance="in_person", prefix="r"),
    )
    assert Counter(r.json()["status"] for r in online) == {"confirmed": 40, "waitlisted": 110}
    assert Counter(r.json()["status"] for r in room) == {"confirmed": 30, "waitlisted": 70}
    counted = await books(db, event["id"])
    assert counted == {"room_rows": 30, "online_rows": 40, "room_counted": 30, "online_counted": 40}
    waiting = [r.json() for r in online if r.json()["status"] == "waitlisted"]
    fresh = [
        (await client.get(f"/api/v1/registrations/{r['id']}", headers=partner.auth)).json()
        for r in waiting
    ]
    assert sorted(r["waitlist_position"] for r in fresh) == list(range(1, 111))


async def test_the_room_of_a_hybrid_event_without_waitlist(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await hybrid(client, partner, capacity=25, online_capacity=10, waitlist=False)
    room, online = await asyncio.gather(
        surge(client, event, 150, attendance="in_person", prefix="r"),
        surge(client, event, 60, attendance="online", prefix="o"),
    )
    assert Counter(r.status_code for r in room) == {201: 25, 409: 125}
    assert Counter(r.status_code for r in online) == {201: 10, 409: 50}
    counted = await books(db, event["id"])
    assert counted == {"room_rows": 25, "online_rows": 10, "room_counted": 25, "online_counted": 10}


# --- switching -------------------------------------------------------------------------------


@pytest.fixture
def unguarded_switch() -> Iterator[None]:
    """The naive switch: count the other kind's confirmed, compare, then move (no counter)."""
    original = switching.switch

    async def check_then_move(conn: Connection, reg: Row, attendance: str, now: datetime) -> None:
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'"
            " AND attendance = $2",
            reg["event_id"],
            attendance,
        )
        capacity = await conn.fetchval(
            "SELECT online_capacity FROM events WHERE id = $1", reg["event_id"]
        )
        await asyncio.sleep(0)
        if taken >= capacity:
            raise registration.EventFull()
        await conn.execute(
            "UPDATE registrations SET attendance = $2 WHERE id = $1", reg["id"], attendance
        )

    switching.switch = check_then_move  # type: ignore[assignment]
    yield
    switching.switch = original  # type: ignore[assignment]


async def switch_all(client: httpx.AsyncClient, made: list[dict[str, Any]]) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.patch(
                    f"/api/v1/registrations/{r['id']}?token={r['access_token']}",
                    json={"attendance": "online"},
                )
                for r in made
            )
        )
    )


async def test_control_without_the_guard_switching_overbooks(
    client: httpx.AsyncClient, partner: Partner, unguarded_switch: None
) -> None:
    event = await hybrid(client, partner, capacity=100, online_capacity=10)
    made = [r.json() for r in await surge(client, event, 60, attendance="in_person", prefix="s")]
    switched = await switch_all(client, made)
    assert sum(r.status_code == 200 for r in switched) > 10, "the control must show the race"


async def test_switching_is_exact_under_concurrency(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await hybrid(client, partner, capacity=60, online_capacity=10, waitlist=True)
    made = [r.json() for r in await surge(client, event, 80, attendance="in_person", prefix="s")]
    seated = [r for r in made if r["status"] == "confirmed"]
    assert len(seated) == 60
    switched = await switch_all(client, seated)
    assert Counter(r.status_code for r in switched) == {200: 10, 409: 50}
    counted = await books(db, event["id"])
    # every freed seat in the room went to the room's waitlist (20 waiting, 10 freed)
    assert counted == {"room_rows": 60, "online_rows": 10, "room_counted": 60, "online_counted": 10}
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert stats["online_confirmed"] == 10 and stats["waitlisted"] == 10
