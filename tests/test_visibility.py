"""What `visibility` means (issue 20): private is for hosts only; an unlisted event's URL
carries an unguessable part; only public events are listed."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Partner, assert_problem, create_event


async def test_private_is_for_hosts_only(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, title="Board Retreat", visibility="private")
    url = f"/api/v1/events/{event['id']}"
    assert (await client.get(url, headers=partner.auth)).status_code == 200
    assert_problem(await client.get(url), 404, "not-found")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert (await client.get(f"/events/{event['slug']}")).status_code == 404
    assert (await client.get(f"{url}/calendar.ics")).status_code == 404
    registered = await client.post(
        f"{url}/registrations", json={"name": "A", "email": "a@example.org"}
    )
    assert_problem(registered, 404, "not-found")
    listed = (await client.get("/api/v1/events?limit=500")).json()["items"]
    assert event["id"] not in {e["id"] for e in listed}
    assert event["slug"] not in (await client.get("/")).text


async def test_unlisted_urls_cannot_be_guessed_from_the_title(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, title="Quiet Dinner", visibility="unlisted")
    assert re.fullmatch(r"quiet-dinner-[0-9a-f]{16}", event["slug"]), event["slug"]
    assert (await client.get(f"/events/{event['slug']}")).status_code == 200
    assert (await client.get("/events/quiet-dinner")).status_code == 404
    listed = (await client.get("/api/v1/events?limit=500")).json()["items"]
    assert event["id"] not in {e["id"] for e in listed}


async def test_becoming_unlisted_changes_the_url(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, title="Open Day")
    old = event["slug"]
    changed = await client.patch(
        f"/api/v1/events/{event['id']}", json={"visibility": "unlisted"}, headers=partner.auth
    )
    assert changed.status_code == 200, changed.text
    new = changed.json()["slug"]
    assert new != old and re.fullmatch(r"open-day-[0-9a-f]{16}", new)
    assert (await client.get(f"/events/{old}")).status_code == 404
    assert (await client.get(f"/events/{new}")).status_code == 200
