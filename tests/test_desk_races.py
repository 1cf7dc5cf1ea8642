"""Races: many desk staff move attendees into the same session at once (a new way of taking
a session seat). The first test is the control: with the guarded move swapped for a naive
check-then-move, the same burst puts more people in the session than it has seats."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from events import catalog, desk
from events.db import Database
from events.hosting import Actor
from events.queries import Connection
from events.queries import desk as desk_q
from tests.conftest import Partner, create_event
from tests.test_checkin import register
from tests.test_lifecycle import add_session


async def burst(
    client: httpx.AsyncClient, partner: Partner, db: Database, seats: int, movers: int
) -> tuple[UUID, list[desk.Outcome]]:
    event = await create_event(client, partner, capacity=movers)
    start = await add_session(client, partner, event, 1, 2)
    target = await add_session(client, partner, event, 3, 4)
    await client.patch(
        f"/api/v1/events/{event['id']}/sessions/{target['id']}",
        json={"capacity": seats},
        headers=partner.auth,
    )
    people = [await register(client, event, f"M{i}", sessions=[start["id"]]) for i in range(movers)]
    pair = (UUID(start["id"]), UUID(target["id"]))

    async def move(person: dict[str, Any]) -> desk.Outcome:
        async with db.connection() as conn:
            row = await catalog.load(conn, event["id"])
            assert row is not None
            return await desk.act(
                conn, row, _host(row), "move", [UUID(person["id"])], now=_now(), move=pair
            )

    return pair[1], list(await asyncio.gather(*(move(p) for p in people)))


def _host(row: dict[str, Any]) -> Actor:
    return Actor("partner", partner_id=row["owner_id"])


def _now() -> datetime:
    return datetime.now(UTC)


async def holders(db: Database, session_id: UUID) -> tuple[int, int]:
    async with db.connection() as conn:
        rows = await conn.fetchval(
            "SELECT count(*) FROM registration_sessions WHERE session_id = $1", session_id
        )
        counted = await conn.fetchval("SELECT confirmed FROM sessions WHERE id = $1", session_id)
    return int(rows), int(counted)


@pytest.fixture
def unguarded() -> Iterator[None]:
    """Swap the one-statement move for the naive way: count the holders, then move."""
    original = desk_q.swap_session

    async def check_then_move(
        conn: Connection, registration_id: UUID, from_id: UUID, to_id: UUID, *, seated: bool
    ) -> bool:
        taken = await conn.fetchval(
            "SELECT count(*) FROM registration_sessions WHERE session_id = $1", to_id
        )
        capacity = await conn.fetchval("SELECT capacity FROM sessions WHERE id = $1", to_id)
        await asyncio.sleep(0.01)  # any real handler does I/O here; the race window is the point
        if capacity is not None and taken >= capacity:
            return False
        await conn.execute(
            "UPDATE registration_sessions SET session_id = $3"
            " WHERE registration_id = $1 AND session_id = $2",
            registration_id,
            from_id,
            to_id,
        )
        return True

    desk_q.swap_session = check_then_move  # type: ignore[assignment]
    yield
    desk_q.swap_session = original  # type: ignore[assignment]


async def test_control_without_the_guard_the_session_overfills(
    client: httpx.AsyncClient, partner: Partner, db: Database, unguarded: None
) -> None:
    target, outcomes = await burst(client, partner, db, seats=2, movers=12)
    moved = sum(o.done for o in outcomes)
    assert moved > 2, "the control must show overfilling, else the race test proves nothing"
    assert (await holders(db, target))[0] == moved


async def test_twelve_moves_at_once_into_two_seats(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    target, outcomes = await burst(client, partner, db, seats=2, movers=12)
    assert sum(o.done for o in outcomes) == 2
    assert sum(o.skipped.get("session-full", 0) for o in outcomes) == 10
    assert await holders(db, target) == (2, 2)
