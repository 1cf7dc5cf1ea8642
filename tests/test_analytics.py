"""GET /events/{id}/analytics: the dashboard's numbers, the same as /stats where they overlap."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.conftest import Partner, assert_problem, create_event
from tests.test_checkin import door_for, register
from tests.test_lifecycle import add_session


async def scan(
    client: httpx.AsyncClient, event: dict[str, Any], auth: dict[str, str], code: str, when: str
) -> None:
    response = await client.post(
        f"/api/v1/events/{event['id']}/checkins",
        json={"code": code, "scanned_at": when},
        headers=auth,
    )
    assert response.status_code == 200, response.text


async def test_analytics_after_a_surge_match_stats(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=4, waitlist=True)
    talk = await add_session(client, partner, event, 1, 2)
    people = [await register(client, event, f"Person {i}", sessions=[talk["id"]]) for i in range(6)]
    assert [p["status"] for p in people] == ["confirmed"] * 4 + ["waitlisted"] * 2
    cancelled = await client.post(
        f"/api/v1/registrations/{people[0]['id']}/cancel", headers=partner.auth
    )
    assert cancelled.status_code == 200  # Person 4 moves up from the waitlist
    north = await door_for(client, partner, event)
    start = datetime.fromisoformat(event["starts_at"])
    now = datetime.now(start.tzinfo)
    early = min(now, start) - timedelta(minutes=12)
    await scan(client, event, north.auth, people[1]["ticket"]["code"], early.isoformat())
    await scan(client, event, north.auth, people[2]["ticket"]["code"], early.isoformat())
    later = (early + timedelta(minutes=6)).isoformat()
    await scan(client, event, partner.auth, people[3]["ticket"]["code"], later)

    response = await client.get(f"/api/v1/events/{event['id']}/analytics", headers=partner.auth)
    assert response.status_code == 200, response.text
    numbers = response.json()
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    for name in ("capacity", "confirmed", "waitlisted", "cancelled", "checked_in"):
        assert numbers[name] == stats[name], name
    assert numbers["counts"] == {"confirmed": 4, "waitlisted": 1, "cancelled": 1}
    assert numbers["checked_in"] == 3 and numbers["show_up_rate"] == 0.75
    over_time = numbers["registrations_over_time"]
    assert over_time["step"] == "hour"
    assert sum(b["total"] for b in over_time["buckets"]) == 6
    assert sum(b["counts"]["waitlisted"] for b in over_time["buckets"]) == 1
    arrivals = numbers["arrivals"]
    assert arrivals["total"] == 3 and arrivals["doors"] == ["", "Hall 3 north door"]
    busy = [b for b in arrivals["buckets"] if b["total"]]
    assert [b["counts"] for b in busy] == [
        {"": 0, "Hall 3 north door": 2},
        {"": 1, "Hall 3 north door": 0},
    ]
    assert len(arrivals["buckets"]) in (2, 3)  # five-minute buckets, the gap filled with zeros
    [fill] = numbers["sessions"]
    assert fill["id"] == talk["id"] and fill["confirmed"] == 4 and fill["waitlisted"] == 1
    assert fill["capacity"] is None and fill["seats_left"] is None
    assert numbers["waitlist"] == {
        "ever": 2,
        "promoted": 1,
        "waiting": 1,
        "left": 0,
        "conversion_rate": 0.5,
    }


async def test_analytics_of_an_empty_event_and_who_may_read_them(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False)
    url = f"/api/v1/events/{event['id']}/analytics"
    numbers = (await client.get(url, headers=partner.auth)).json()
    assert numbers["counts"] == {"confirmed": 0, "waitlisted": 0, "cancelled": 0}
    assert numbers["show_up_rate"] is None and numbers["waitlist"]["conversion_rate"] is None
    assert numbers["registrations_over_time"]["buckets"] == []
    assert numbers["arrivals"]["buckets"] == []
    assert_problem(await client.get(url), 401, "unauthenticated")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    door = await door_for(client, partner, event)
    assert_problem(await client.get(url, headers=door.auth), 403, "forbidden")
