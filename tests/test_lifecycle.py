"""Sessions inside their event and moving with it, deleting sessions, unpublishing and
duplicating events, over the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.conftest import Partner, assert_problem, create_event
from tests.test_checkin import register


def at(event: dict[str, Any], hours: float) -> str:
    return (datetime.fromisoformat(event["starts_at"]) + timedelta(hours=hours)).isoformat()


async def add_session(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], start: float, end: float
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": f"Session {start}",
            "starts_at": at(event, start),
            "ends_at": at(event, end),
        },
        headers=partner.auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_sessions_must_lie_inside_the_event(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False)  # 9 hours long
    url = f"/api/v1/events/{event['id']}/sessions"
    next_day = {"title": "Day two", "starts_at": at(event, 24), "ends_at": at(event, 25)}
    body = assert_problem(
        await client.post(url, json=next_day, headers=partner.auth), 422, "invalid-input"
    )
    assert {e["field"] for e in body["errors"]} == {"starts_at", "ends_at"}
    early = {"title": "Breakfast", "starts_at": at(event, -1), "ends_at": at(event, 1)}
    body = assert_problem(
        await client.post(url, json=early, headers=partner.auth), 422, "invalid-input"
    )
    assert [e["field"] for e in body["errors"]] == ["starts_at"]
    session = await add_session(client, partner, event, 0, 9)  # the whole event is fine
    late = await client.patch(
        f"{url}/{session['id']}", json={"ends_at": at(event, 10)}, headers=partner.auth
    )
    assert_problem(late, 422, "invalid-input")


async def test_sessions_move_with_the_event(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    first = await add_session(client, partner, event, 1, 2)
    second = await add_session(client, partner, event, 5, 7)
    new_start = at(event, 48)
    moved = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": new_start, "ends_at": at(event, 57)},
        headers=partner.auth,
    )
    assert moved.status_code == 200, moved.text
    sessions = {s["id"]: s for s in moved.json()["sessions"]}
    assert sessions[first["id"]]["starts_at"] == at(event, 49)
    assert sessions[first["id"]]["ends_at"] == at(event, 50)
    assert sessions[second["id"]]["starts_at"] == at(event, 53)
    assert moved.json()["revision"] == event["revision"] + 3  # two sessions added, one move
    # shortening the event so that a session would lie outside it is refused, nothing changes
    cut = await client.patch(
        f"/api/v1/events/{event['id']}", json={"ends_at": at(event, 54)}, headers=partner.auth
    )
    body = assert_problem(cut, 422, "invalid-input")
    assert body["errors"][0]["field"] == "ends_at"
    again = (await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)).json()
    assert again["ends_at"] == at(event, 57)


async def test_deleting_a_session(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    empty = await add_session(client, partner, event, 1, 2)
    held = await add_session(client, partner, event, 3, 4)
    url = f"/api/v1/events/{event['id']}/sessions"
    attendee = await register(client, event, "Chan Tai Man", sessions=[held["id"]])
    gone = await client.delete(f"{url}/{empty['id']}", headers=partner.auth)
    assert gone.status_code == 204
    refused = await client.delete(f"{url}/{held['id']}", headers=partner.auth)
    assert assert_problem(refused, 409, "session-has-registrations")["registrations"] == 1
    forced = await client.delete(f"{url}/{held['id']}?force=1", headers=partner.auth)
    assert forced.status_code == 204
    read = await client.get(f"/api/v1/registrations/{attendee['id']}", headers=partner.auth)
    assert read.json()["status"] == "confirmed" and read.json()["sessions"] == []
    event_now = (await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)).json()
    assert event_now["sessions"] == []
    missing = await client.delete(f"{url}/{held['id']}", headers=partner.auth)
    assert_problem(missing, 404, "not-found")
    assert_problem(await client.delete(f"{url}/not-an-id", headers=partner.auth), 404, "not-found")


async def test_only_hosts_delete_sessions(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    session = await add_session(client, partner, event, 1, 2)
    url = f"/api/v1/events/{event['id']}/sessions/{session['id']}"
    assert_problem(await client.delete(url), 401, "unauthenticated")
    assert_problem(await client.delete(url, headers=other_partner.auth), 404, "not-found")


async def test_unpublish_only_while_no_one_is_registered(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/unpublish"
    back = await client.post(url, headers=partner.auth)
    assert back.status_code == 200 and back.json()["status"] == "draft"
    public = await client.get(f"/api/v1/events/{event['id']}")
    assert_problem(public, 404, "not-found")
    await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    attendee = await register(client, event, "Chan Tai Man")
    body = assert_problem(
        await client.post(url, headers=partner.auth), 409, "event-has-registrations"
    )
    assert body["registrations"] == 1
    await client.post(f"/api/v1/registrations/{attendee['id']}/cancel", headers=partner.auth)
    assert (await client.post(url, headers=partner.auth)).json()["status"] == "draft"
    await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    await client.post(f"/api/v1/events/{event['id']}/cancel", headers=partner.auth)
    assert_problem(await client.post(url, headers=partner.auth), 409, "invalid-state")


async def test_duplicate_is_a_new_draft_with_the_same_content(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    questions = [{"id": "org", "label": "Organisation", "kind": "text", "required": True}]
    event = await create_event(client, partner, questions=questions, capacity=42)
    session = await add_session(client, partner, event, 1, 2)
    await register(client, event, "Chan Tai Man", sessions=[session["id"]], answers={"org": "X"})
    url = f"/api/v1/events/{event['id']}/duplicate"
    copied = await client.post(url, headers=partner.auth)
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["id"] != event["id"] and copy["slug"] != event["slug"]
    assert copy["status"] == "draft"
    for field in (
        "title",
        "description",
        "venue",
        "capacity",
        "questions",
        "starts_at",
        "timezone",
    ):
        assert copy[field] == event[field], field
    assert [(s["title"], s["starts_at"]) for s in copy["sessions"]] == [
        (session["title"], session["starts_at"])
    ]
    assert copy["hosts"] == [{"partner": partner.slug, "role": "owner"}]
    listed = await client.get(f"/api/v1/events/{copy['id']}/registrations", headers=partner.auth)
    assert listed.json()["items"] == []
    later = await client.post(
        url, json={"title": "Next year", "starts_at": at(event, 24 * 365)}, headers=partner.auth
    )
    assert later.status_code == 201
    assert later.json()["title"] == "Next year"
    assert later.json()["sessions"][0]["starts_at"] == at(event, 24 * 365 + 1)
    assert_problem(await client.post(url, headers=other_partner.auth), 404, "not-found")
