"""Events and sessions over HTTP: create, read, list, patch, publish, cancel (API.md, Events)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from events.db import Database
from tests.conftest import Partner, assert_problem, create_event, event_body


async def _register(client: httpx.AsyncClient, event_id: str, n: int) -> None:
    for i in range(n):
        response = await client.post(
            f"/api/v1/events/{event_id}/registrations",
            json={"name": f"Attendee {i}", "email": f"a{i}@example.org"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "confirmed"


async def test_create_returns_the_draft_with_every_field(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    body = event_body(
        registration_opens_at="2027-03-01T10:00:00+08:00",
        registration_closes_at="2027-05-19T23:59:00+08:00",
    )
    response = await client.post("/api/v1/events", json=body, headers=partner.auth)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["status"] == "draft"
    assert event["id"] and event["slug"].startswith("global-talent-summit-2027")
    for name in ("title", "description", "timezone", "venue", "capacity", "waitlist"):
        assert event[name] == body[name], name
    assert event["visibility"] == "public"
    assert datetime.fromisoformat(event["starts_at"]) == datetime.fromisoformat(body["starts_at"])
    assert event["registration_opens_at"] == "2027-03-01T10:00:00+08:00"
    assert event["registration_closes_at"] == "2027-05-19T23:59:00+08:00"
    assert event["hosts"] == [{"partner": partner.slug, "role": "owner"}]
    assert event["sessions"] == [] and event["revision"] == 0
    again = await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)
    assert again.status_code == 200 and again.json() == event


async def test_times_are_given_with_the_events_offset(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    response = await client.post(
        "/api/v1/events",
        json=event_body(
            timezone="America/New_York",
            starts_at="2027-07-01T13:00:00Z",
            ends_at="2027-07-02T01:00:00+09:00",
            registration_opens_at="2027-01-15T00:00:00+08:00",
        ),
        headers=partner.auth,
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["starts_at"] == "2027-07-01T09:00:00-04:00"  # summer time
    assert event["ends_at"] == "2027-07-01T12:00:00-04:00"
    assert event["registration_opens_at"] == "2027-01-14T11:00:00-05:00"  # winter time
    assert event["created_at"][-6:] in ("-04:00", "-05:00")
    session = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": "Keynote",
            "starts_at": "2027-07-01T14:00:00Z",
            "ends_at": "2027-07-01T15:00:00Z",
        },
        headers=partner.auth,
    )
    assert session.status_code == 201, session.text
    assert session.json()["starts_at"] == "2027-07-01T10:00:00-04:00"
    read = (await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)).json()
    assert read["sessions"][0]["ends_at"] == "2027-07-01T11:00:00-04:00"


async def test_invalid_timezone_and_times_are_422(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    for zone in ("Mars/Olympus_Mons", "", "../etc/passwd", "Asia", "+08:00"):
        response = await client.post(
            "/api/v1/events", json=event_body(timezone=zone), headers=partner.auth
        )
        body = assert_problem(response, 422, "invalid-input")
        assert {"field": "timezone", "message": body["errors"][0]["message"]} in body["errors"]
    backwards = event_body(ends_at=event_body()["starts_at"])
    body = assert_problem(
        await client.post("/api/v1/events", json=backwards, headers=partner.auth),
        422,
        "invalid-input",
    )
    assert [e["field"] for e in body["errors"]] == ["ends_at"]
    window = event_body(
        registration_opens_at="2027-03-02T00:00:00+08:00",
        registration_closes_at="2027-03-01T00:00:00+08:00",
    )
    body = assert_problem(
        await client.post("/api/v1/events", json=window, headers=partner.auth),
        422,
        "invalid-input",
    )
    assert [e["field"] for e in body["errors"]] == ["registration_closes_at"]


async def test_drafts_are_invisible_to_all_but_hosts(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    draft = await create_event(client, partner, publish=False, title="Secret draft")
    url = f"/api/v1/events/{draft['id']}"
    assert_problem(await client.get(url), 404, "not-found")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert (await client.get(url, headers=partner.auth)).status_code == 200
    public_ids = await _all_ids(client, "/api/v1/events?limit=500", {})
    assert draft["id"] not in public_ids
    other_hosted = await _all_ids(client, "/api/v1/events?hosted=1", other_partner.auth)
    assert draft["id"] not in other_hosted
    published = await client.post(f"{url}/publish", headers=partner.auth)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert (await client.get(url)).status_code == 200
    assert (await client.get(url, headers=other_partner.auth)).status_code == 200
    assert draft["id"] in await _all_ids(client, "/api/v1/events?limit=500", {})


async def _all_ids(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        sep = "&" if "?" in url else "?"
        page_url = url if cursor is None else f"{url}{sep}cursor={cursor}"
        response = await client.get(page_url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_public_list_shows_only_published_public_events(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    public = await create_event(client, partner)
    unlisted = await create_event(client, partner, visibility="unlisted")
    private = await create_event(client, partner, visibility="private")
    cancelled = await create_event(client, partner)
    await client.post(f"/api/v1/events/{cancelled['id']}/cancel", headers=partner.auth)
    ids = await _all_ids(client, "/api/v1/events?limit=500", {})
    assert public["id"] in ids
    assert unlisted["id"] not in ids and private["id"] not in ids and cancelled["id"] not in ids
    # an unlisted event can be read by anyone who has its link
    assert (await client.get(f"/api/v1/events/{unlisted['id']}")).status_code == 200


async def test_hosted_lists_own_and_cohosted_events_in_any_status(
    client: httpx.AsyncClient, db: Any
) -> None:
    from tests.conftest import make_partner

    owner_p = await make_partner(db, "Owner")
    cohost_p = await make_partner(db, "Cohost")
    stranger_p = await make_partner(db, "Other")
    draft = await create_event(client, owner_p, publish=False)
    published = await create_event(client, owner_p)
    cancelled = await create_event(client, owner_p)
    await client.post(f"/api/v1/events/{cancelled['id']}/cancel", headers=owner_p.auth)
    shared = await create_event(client, stranger_p, title="Shared")
    invitation = await client.post(
        f"/api/v1/events/{shared['id']}/cohosts",
        json={"partner": owner_p.slug},
        headers=stranger_p.auth,
    )
    assert invitation.status_code == 201, invitation.text
    accepted = await client.post(
        f"/api/v1/invitations/{invitation.json()['id']}/accept", headers=owner_p.auth
    )
    assert accepted.status_code == 200
    not_mine = await create_event(client, stranger_p, title="Not mine")
    ids = await _all_ids(client, "/api/v1/events?hosted=1", owner_p.auth)
    assert ids == [draft["id"], published["id"], cancelled["id"], shared["id"]]
    assert not_mine["id"] not in ids
    assert await _all_ids(client, "/api/v1/events?hosted=1", cohost_p.auth) == []
    assert_problem(await client.get("/api/v1/events?hosted=1"), 401, "unauthenticated")


async def test_pagination_with_cursor_and_limit(client: httpx.AsyncClient, db: Any) -> None:
    from tests.conftest import make_partner

    partner = await make_partner(db)
    made = [(await create_event(client, partner, publish=False))["id"] for _ in range(5)]
    first = await client.get("/api/v1/events?hosted=1&limit=2", headers=partner.auth)
    assert first.status_code == 200
    page = first.json()
    assert [e["id"] for e in page["items"]] == made[:2]
    assert isinstance(page["next_cursor"], str)
    second = await client.get(
        f"/api/v1/events?hosted=1&limit=2&cursor={page['next_cursor']}", headers=partner.auth
    )
    assert [e["id"] for e in second.json()["items"]] == made[2:4]
    third = await client.get(
        f"/api/v1/events?hosted=1&limit=2&cursor={second.json()['next_cursor']}",
        headers=partner.auth,
    )
    assert [e["id"] for e in third.json()["items"]] == made[4:]
    assert third.json()["next_cursor"] is None
    exact = await client.get("/api/v1/events?hosted=1&limit=5", headers=partner.auth)
    assert len(exact.json()["items"]) == 5 and exact.json()["next_cursor"] is None
    default = await client.get("/api/v1/events?hosted=1", headers=partner.auth)
    assert [e["id"] for e in default.json()["items"]] == made


async def test_patch_changes_fields_and_bumps_revision_only_for_time_place_title(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}"

    async def patch(**fields: Any) -> dict[str, Any]:
        response = await client.patch(url, json=fields, headers=partner.auth)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    assert (await patch(description="New words", capacity=120, waitlist=False))["revision"] == 0
    assert (await patch(title=event["title"]))["revision"] == 0  # unchanged value: no bump
    changed = await patch(title="Global Talent Summit 2027 (day one)")
    assert changed["revision"] == 1 and changed["title"].endswith("(day one)")
    later = datetime.fromisoformat(event["starts_at"]) + timedelta(hours=1)
    assert (await patch(starts_at=later.isoformat()))["revision"] == 2
    moved = await patch(venue={"name": "AsiaWorld-Expo", "address": "Lantau"})
    assert moved["revision"] == 3 and moved["venue"]["name"] == "AsiaWorld-Expo"
    assert (await patch(visibility="unlisted"))["revision"] == 3
    final = (await client.get(url, headers=partner.auth)).json()
    assert final["description"] == "New words" and final["capacity"] == 120
    assert final["waitlist"] is False and final["visibility"] == "unlisted"


async def test_patch_refuses_status_unknown_fields_and_bad_values(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False)
    url = f"/api/v1/events/{event['id']}"
    body = assert_problem(
        await client.patch(url, json={"status": "published"}, headers=partner.auth),
        422,
        "invalid-input",
    )
    assert body["errors"] == [{"field": "status", "message": "is not a known field"}]
    for field in ("id", "slug", "hosts", "revision"):
        assert_problem(
            await client.patch(url, json={field: "x"}, headers=partner.auth), 422, "invalid-input"
        )
    early = (datetime.fromisoformat(event["starts_at"]) - timedelta(days=1)).isoformat()
    body = assert_problem(
        await client.patch(url, json={"ends_at": early}, headers=partner.auth),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["field"] == "ends_at"
    assert_problem(
        await client.patch(url, json={"timezone": "Nowhere/City"}, headers=partner.auth),
        422,
        "invalid-input",
    )
    after = (await client.get(url, headers=partner.auth)).json()
    assert after["status"] == "draft" and after["ends_at"] == event["ends_at"]


async def test_lowering_capacity_below_confirmed_is_409(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=5, waitlist=False)
    await _register(client, event["id"], 3)
    url = f"/api/v1/events/{event['id']}"
    assert_problem(
        await client.patch(url, json={"capacity": 2}, headers=partner.auth),
        409,
        "capacity-below-confirmed",
    )
    assert (await client.get(url)).json()["capacity"] == 5
    lowered = await client.patch(url, json={"capacity": 3}, headers=partner.auth)
    assert lowered.status_code == 200 and lowered.json()["capacity"] == 3
    full = await client.post(
        f"{url}/registrations", json={"name": "Late", "email": "late@example.org"}
    )
    assert_problem(full, 409, "event-full")


async def test_publish_and_cancel(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, publish=False)
    url = f"/api/v1/events/{event['id']}"
    first = await client.post(f"{url}/publish", headers=partner.auth)
    assert first.status_code == 200 and first.json()["status"] == "published"
    again = await client.post(f"{url}/publish", headers=partner.auth)
    assert again.status_code == 200 and again.json()["status"] == "published"
    cancelled = await client.post(f"{url}/cancel", headers=partner.auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["revision"] == event["revision"] + 1
    assert_problem(await client.post(f"{url}/publish", headers=partner.auth), 409, "invalid-state")
    assert_problem(
        await client.patch(url, json={"title": "Back"}, headers=partner.auth), 409, "invalid-state"
    )
    assert (await client.post(f"{url}/cancel", headers=partner.auth)).json()["status"] == (
        "cancelled"
    )


async def test_publishing_makes_the_events_signing_key(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    """Made with the publish, not by the first of a surge of registrations all at once."""
    event = await create_event(client, partner, publish=False)

    async def keys() -> int:
        async with db.connection() as conn:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM event_keys WHERE event_id = $1", UUID(event["id"])
            )
            return count

    assert await keys() == 0
    published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    assert published.status_code == 200
    assert await keys() == 1


async def test_sessions_are_created_listed_and_checked(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/sessions"
    start = datetime.fromisoformat(event["starts_at"])
    session = {
        "title": "AI and data science talent",
        "starts_at": (start + timedelta(hours=2)).isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "room": "S421",
        "capacity": 40,
    }
    created = await client.post(url, json=session, headers=partner.auth)
    assert created.status_code == 201, created.text
    assert created.json()["id"] and created.json()["room"] == "S421"
    read = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert [s["id"] for s in read["sessions"]] == [created.json()["id"]]
    assert read["revision"] == event["revision"] + 1
    backwards = {**session, "ends_at": session["starts_at"]}
    assert_problem(
        await client.post(url, json=backwards, headers=partner.auth), 422, "invalid-input"
    )
    assert_problem(
        await client.post(url, json=session, headers=other_partner.auth), 404, "not-found"
    )
    assert_problem(await client.post(url, json=session), 401, "unauthenticated")
    patched = await client.patch(
        f"{url}/{created.json()['id']}", json={"room": "S423"}, headers=partner.auth
    )
    assert patched.status_code == 200 and patched.json()["room"] == "S423"


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    body = event_body(title="Idempotent summit")
    headers = {**partner.auth, "Idempotency-Key": "create-summit-1"}
    first = await client.post("/api/v1/events", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post("/api/v1/events", json=body, headers=headers)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replay") == "true"
    ids = await _all_ids(client, "/api/v1/events?hosted=1", partner.auth)
    assert ids.count(first.json()["id"]) == 1 and len(ids) == 1
    other = await client.post(
        "/api/v1/events", json=event_body(title="Another summit"), headers=headers
    )
    assert_problem(other, 422, "idempotency-key-reused")
    fresh = await client.post(
        "/api/v1/events", json=body, headers={**partner.auth, "Idempotency-Key": "create-summit-2"}
    )
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert len(await _all_ids(client, "/api/v1/events?hosted=1", partner.auth)) == 2


async def test_failed_request_does_not_use_up_the_idempotency_key(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    headers = {**partner.auth, "Idempotency-Key": "retry-after-fixing"}
    bad = await client.post("/api/v1/events", json=event_body(timezone="Bad/Zone"), headers=headers)
    assert_problem(bad, 422, "invalid-input")
    good = await client.post("/api/v1/events", json=event_body(), headers=headers)
    assert good.status_code == 201, good.text
