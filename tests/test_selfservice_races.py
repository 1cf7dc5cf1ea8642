"""Races: many attendees move into one session at once (PATCH), on the pooled app.

The control comes first: with the guarded seat counter swapped for a naive count-then-add,
the same surge overfills the session, so this test can see the bug it guards against.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from events import selfservice
from events.db import Database
from events.queries import Connection
from tests.conftest import Partner, create_event

CAPACITY = 5
ATTENDEES = 20


async def setup(
    client: httpx.AsyncClient, partner: Partner
) -> tuple[dict[str, Any], str, list[Any]]:
    event = await create_event(client, partner, capacity=100)
    start = datetime.fromisoformat(event["starts_at"])
    ids = []
    for hour, capacity in ((1, None), (3, CAPACITY)):
        made = await client.post(
            f"/api/v1/events/{event['id']}/sessions",
            json={
                "title": f"Talk {hour}",
                "starts_at": (start + timedelta(hours=hour)).isoformat(),
                "ends_at": (start + timedelta(hours=hour + 1)).isoformat(),
                "capacity": capacity,
            },
            headers=partner.auth,
        )
        ids.append(made.json()["id"])
    regs = []
    for i in range(ATTENDEES):
        made = await client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={
                "name": f"P {i}",
                "email": f"move{i}-{event['id'][:8]}@example.org",
                "sessions": [ids[0]],
            },
        )
        assert made.status_code == 201
        regs.append(made.json())
    return event, ids[1], regs


async def move_all(client: httpx.AsyncClient, regs: list[Any], target: str) -> Counter[int]:
    async def one(r: Any) -> int:
        response = await client.patch(
            f"/api/v1/registrations/{r['id']}?token={r['access_token']}",
            json={"sessions": [target]},
        )
        return response.status_code

    return Counter(await asyncio.gather(*(one(r) for r in regs)))


async def books(db: Database, session_id: str) -> tuple[int, int]:
    """(rows holding the session, its seat counter)."""
    async with db.connection() as conn:
        record = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM registration_sessions WHERE session_id = $1) AS held,"
            " (SELECT confirmed FROM sessions WHERE id = $1) AS counted",
            UUID(session_id),
        )
    assert record is not None
    return int(record["held"]), int(record["counted"])


@pytest.fixture
def unguarded() -> Iterator[None]:
    """Swap the guarded counter for the naive way: count the holders, then add one."""
    original = selfservice.take_session_seats

    async def count_then_take(
        conn: Connection, added: list[UUID], removed: list[UUID]
    ) -> list[UUID]:
        taken = []
        for sid in added:
            held = await conn.fetchval(
                "SELECT count(*) FROM registration_sessions WHERE session_id = $1", sid
            )
            capacity = await conn.fetchval("SELECT capacity FROM sessions WHERE id = $1", sid)
            await asyncio.sleep(0.01)  # the race window any real handler has
            if capacity is None or held < capacity:
                taken.append(sid)
        await conn.execute(
            "UPDATE sessions SET confirmed = confirmed - 1 WHERE id = ANY($1)", removed
        )
        return taken

    selfservice.take_session_seats = count_then_take  # type: ignore[assignment]
    yield
    selfservice.take_session_seats = original  # type: ignore[assignment]


async def test_control_the_naive_check_overfills_the_session(
    client: httpx.AsyncClient, partner: Partner, db: Database, unguarded: None
) -> None:
    _, target, regs = await setup(client, partner)
    answers = await move_all(client, regs, target)
    held, _ = await books(db, target)
    assert answers[200] > CAPACITY and held > CAPACITY  # the bug this suite is here to catch


async def test_moving_into_a_session_at_once_never_overfills_it(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event, target, regs = await setup(client, partner)
    answers = await move_all(client, regs, target)
    assert answers == Counter({200: CAPACITY, 409: ATTENDEES - CAPACITY})
    assert await books(db, target) == (CAPACITY, CAPACITY)
    first = event["sessions"] or None  # the first session gave back exactly the seats that moved
    async with db.connection() as conn:
        counted = await conn.fetchval(
            "SELECT confirmed FROM sessions WHERE event_id = $1 AND capacity IS NULL",
            UUID(event["id"]),
        )
    assert first is None and counted == ATTENDEES - CAPACITY


async def test_attendees_swapping_sessions_both_ways_at_once_all_succeed(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    """Opposite moves lock the two session rows in the same order: no deadlock, no 500."""
    event, target, regs = await setup(client, partner)
    first = next(
        s["id"]
        for s in (await client.get(f"/api/v1/events/{event['id']}")).json()["sessions"]
        if s["id"] != target
    )
    movers = regs[:CAPACITY]
    assert await move_all(client, movers, target) == Counter({200: CAPACITY})

    async def swap(r: Any, to: str) -> int:
        response = await client.patch(
            f"/api/v1/registrations/{r['id']}?token={r['access_token']}", json={"sessions": [to]}
        )
        return response.status_code

    back = [swap(r, first) for r in movers]
    forth = [swap(r, target) for r in regs[CAPACITY : 2 * CAPACITY]]
    answers = Counter(await asyncio.gather(*back, *forth))
    assert answers[500] == 0 and answers[200] >= CAPACITY
    held, counted = await books(db, target)
    assert held == counted <= CAPACITY
