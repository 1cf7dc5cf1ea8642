"""Group commit of a surge (surge.py, gather.py): registrations arriving together in one
process share one statement, each gets its own answer, and capacity stays exact.

The control swaps the batch's locked seat count for the count the process remembers: the
same surge overbooks, so these tests can see the bug they guard against.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from events import gather, surge
from events.db import Database
from events.queries import Connection, Row
from events.queries import surge as surge_q
from tests.conftest import Partner, create_event
from tests.test_registration_races import seat_books


async def warm(client: httpx.AsyncClient, event: dict[str, Any]) -> None:
    """One registration first: the process remembers the event, so the rest take the hot
    path (a cold start reads the event fresh and is never batched)."""
    first = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "First One", "email": f"first-{event['id'][:8]}@example.org"},
    )
    assert first.status_code == 201, first.text


async def at_once(
    client: httpx.AsyncClient, event: dict[str, Any], emails: list[str]
) -> list[httpx.Response]:
    url = f"/api/v1/events/{event['id']}/registrations"
    return list(
        await asyncio.gather(
            *(client.post(url, json={"name": f"P {i}", "email": e}) for i, e in enumerate(emails))
        )
    )


def emails(event: dict[str, Any], count: int) -> list[str]:
    return [f"s{i}-{event['id'][:8]}@example.org" for i in range(count)]


@pytest.fixture
def remembered_count() -> Iterator[None]:
    """The naive batch: seats from what the process last read (no lock, no counter)."""
    original = surge_q.insert_batch

    async def trusting(
        conn: Connection,
        event_id: Any,
        online_place: bool,
        version: int,
        shards: int,
        members: list[tuple[dict[str, Any], Any]],
    ) -> tuple[list[Row], int]:
        await asyncio.sleep(0)
        created = []
        for fields, now in members:
            found = await conn.fetchrow(
                "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,"
                " created_at, confirmed_at, updated_at) VALUES ($1, $2, $3, 'en', '{}',"
                " 'confirmed', 0, $4, $4, $4) ON CONFLICT DO NOTHING RETURNING *",
                event_id,
                fields["name"],
                fields["email"],
                now,
            )
            if found is not None:
                created.append(dict(found))
        return created, len(members)

    surge_q.insert_batch = trusting  # type: ignore[assignment]
    yield
    surge_q.insert_batch = original  # type: ignore[assignment]


async def test_control_a_batch_that_trusts_its_memory_overbooks(
    client: httpx.AsyncClient, partner: Partner, remembered_count: None
) -> None:
    event = await create_event(client, partner, capacity=50, waitlist=False)
    await warm(client, event)
    responses = await at_once(client, event, emails(event, 300))
    confirmed = sum(r.status_code == 201 for r in responses)
    assert confirmed > 50, "the control must overbook, else the surge tests prove nothing"


async def test_a_surge_is_batched_exact_and_answers_each(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=100, waitlist=False)
    await warm(client, event)
    before = surge.counts()
    people = emails(event, 400)
    again = people[:40]  # the same people twice, in the same surge (so in the same batches)
    responses = await at_once(client, event, people + again)
    batches, members = (a - b for a, b in zip(surge.counts(), before, strict=True))
    assert members / max(batches, 1) > 2, "registrations arriving together share a statement"
    codes = Counter(r.status_code for r in responses)
    assert codes[201] == 99 and codes[201] + codes[409] == 440
    kinds = Counter(r.json()["type"].rsplit("/", 1)[1] for r in responses if r.status_code == 409)
    assert set(kinds) <= {"event-full", "already-registered"}
    made = [r.json() for r in responses if r.status_code == 201]
    assert len({m["email"] for m in made}) == 99 == len({m["id"] for m in made})
    assert all(m["status"] == "confirmed" and m["ticket"] for m in made)
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 100
    async with db.connection() as conn:
        logged = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE event_id = $1"
            " AND action = 'registration.created'",
            event["id"],
        )
        mails = await conn.fetchval(
            "SELECT count(*) FROM mail_outbox o JOIN registrations r ON r.id = o.registration_id"
            " WHERE r.event_id = $1 AND o.kind = 'confirmation'",
            event["id"],
        )
    assert logged == 100 == mails


async def test_a_surge_with_a_waitlist_fills_exactly_and_waitlists_the_rest(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=60, waitlist=True)
    await warm(client, event)
    responses = await at_once(client, event, emails(event, 300))
    assert Counter(r.status_code for r in responses) == {201: 300}
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"confirmed": 59, "waitlisted": 241}
    positions = sorted(
        r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted"
    )
    assert positions == list(range(1, 242)), "each answer gives its own true place"
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 60


async def test_a_failed_batch_fails_none_of_its_members() -> None:
    """When the batch's statement fails, every member is decided alone."""

    async def broken(conn: Connection, items: list[int]) -> list[Any]:
        raise RuntimeError("the statement failed")

    gatherer: gather.Gatherer[int] = gather.Gatherer(broken)
    outcomes = await asyncio.gather(*(gatherer.submit(None, "k", i) for i in range(20)))  # type: ignore[arg-type]
    assert outcomes == [gather.ALONE] * 20


async def test_each_member_gets_its_own_outcome_and_batches_follow_the_load() -> None:
    seen: list[list[int]] = []

    async def run(conn: Connection, items: list[int]) -> list[Any]:
        seen.append(items)
        await asyncio.sleep(0.01)  # while this runs, the others gather
        return [ValueError(i) if i % 7 == 0 else i * 10 for i in items]

    gatherer: gather.Gatherer[int] = gather.Gatherer(run, most=16)

    async def one(i: int) -> Any:
        try:
            return await gatherer.submit(None, "k", i)  # type: ignore[arg-type]
        except ValueError as exc:
            return exc.args[0] * -1

    outcomes = await asyncio.gather(*(one(i) for i in range(50)))
    assert outcomes == [-i if i % 7 == 0 else i * 10 for i in range(50)]
    assert seen[0] == [0] and max(len(b) for b in seen) == 16
    assert sorted(i for b in seen for i in b) == list(range(50))
    alone = await gatherer.submit(None, "other", 3)  # type: ignore[arg-type]
    assert alone == 30 and seen[-1] == [3]


async def test_a_seat_given_back_is_taken_at_once_after_refusals(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    """Refusals past the last seat rest on this process's last look (seats.FULL_FOR), but a
    seat given back here is seen by the very next registration."""
    event = await create_event(client, partner, capacity=2, waitlist=False)
    await warm(client, event)
    people = emails(event, 6)
    seated = (await at_once(client, event, people[:1]))[0].json()
    refused = await at_once(client, event, people[1:4])
    assert [r.status_code for r in refused] == [409, 409, 409]
    cancel = await client.post(
        f"/api/v1/registrations/{seated['id']}/cancel?token={seated['access_token']}"
    )
    assert cancel.status_code == 200, cancel.text
    [again] = await at_once(client, event, people[4:5])
    assert again.status_code == 201, again.text
    [full] = await at_once(client, event, people[5:6])
    assert full.status_code == 409


async def test_a_batch_lost_with_its_connection_is_outcome_unknown_for_each(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    """The statement committed but its answer was lost: no member registers again (which would
    say already-registered); each answers 503 outcome-unknown, as a lone registration would."""
    event = await create_event(client, partner, capacity=100, waitlist=False)
    await warm(client, event)
    original = surge_q.insert_batch

    async def committed_then_lost(*args: Any, **kwargs: Any) -> tuple[list[Row], int]:
        await original(*args, **kwargs)
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")

    surge_q.insert_batch = committed_then_lost  # type: ignore[assignment]
    try:
        responses = await at_once(client, event, emails(event, 30))
    finally:
        surge_q.insert_batch = original  # type: ignore[assignment]
    codes = Counter(r.status_code for r in responses)
    assert 409 not in codes and codes[503] > 0, codes
    unknown = [r for r in responses if r.status_code == 503]
    assert {r.json()["type"].rsplit("/", 1)[1] for r in unknown} == {"outcome-unknown"}
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 1 + 30  # every one of them was registered
