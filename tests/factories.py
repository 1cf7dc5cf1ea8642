"""Making what tests need over HTTP, in one place: registrations (events and partners are in
conftest.py). An event is given as the API's event object or as its id."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

Event = dict[str, Any] | str


def event_id_of(event: Event) -> str:
    return event if isinstance(event, str) else str(event["id"])


async def post_registration(
    client: httpx.AsyncClient,
    event: Event,
    email: str,
    *,
    name: str = "Chan Tai Man",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    """POST a registration (`extra`: more of its fields); the answer as it came."""
    return await client.post(
        f"/api/v1/events/{event_id_of(event)}/registrations",
        json={"name": name, "email": email, **extra},
        headers=headers,
    )


async def register(
    client: httpx.AsyncClient, event: Event, email: str, **extra: Any
) -> dict[str, Any]:
    """A registration that must be made (201): its body."""
    response = await post_registration(client, event, email, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register_person(
    client: httpx.AsyncClient, event: Event, name: str, **extra: Any
) -> dict[str, Any]:
    """A registration of `name`, at an address of its own made from the name."""
    email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@example.org"
    return await register(client, event, email, name=name, **extra)
