from __future__ import annotations

import httpx

from tests.conftest import Partner, create_event


async def test_create_publish_register(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    assert event["status"] == "published"
    first = await client.post(
        f"/api/v1/events/{event['id']}/registrations", json={"name": "A", "email": "a@example.org"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "confirmed"
    second = await client.post(
        f"/api/v1/events/{event['id']}/registrations", json={"name": "B", "email": "b@example.org"}
    )
    assert second.json()["status"] == "waitlisted", second.text
    assert second.json()["waitlist_position"] == 1
