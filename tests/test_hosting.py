"""Partners' tokens, co-host invitations, and who may do what to an event (API.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from events.db import Database
from tests.conftest import Partner, assert_problem, create_event, make_partner

# --- partner tokens -----------------------------------------------------------------------


async def test_tokens_are_stored_only_as_hashes(db: Database, partner: Partner) -> None:
    async with db.connection() as conn:
        stored = await conn.fetch(
            "SELECT token_hash FROM api_tokens t JOIN partners p ON p.id = t.partner_id"
            " WHERE p.slug = $1",
            partner.slug,
        )
    assert len(stored) == 1
    assert partner.token.encode() not in bytes(stored[0]["token_hash"])
    assert len(bytes(stored[0]["token_hash"])) == 32


async def test_create_list_and_revoke_partner_tokens(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    created = await client.post(
        "/api/v1/tokens", json={"label": "booking system"}, headers=partner.auth
    )
    assert created.status_code == 201, created.text
    second = created.json()
    assert second["token"].startswith("pt_") and second["label"] == "booking system"
    second_auth = {"Authorization": f"Bearer {second['token']}"}
    assert (await client.get("/api/v1/events?hosted=1", headers=second_auth)).status_code == 200
    listed = await client.get("/api/v1/tokens", headers=partner.auth)
    assert listed.status_code == 200
    tokens = _items(listed.json())
    assert [t["label"] for t in tokens] == ["initial", "booking system"]
    assert all("token" not in t for t in tokens)  # secrets are shown once
    assert _items((await client.get("/api/v1/tokens", headers=other_partner.auth)).json())[0][
        "id"
    ] not in {t["id"] for t in tokens}
    # another partner cannot revoke it
    assert_problem(
        await client.post(f"/api/v1/tokens/{second['id']}/revoke", headers=other_partner.auth),
        404,
        "not-found",
    )
    revoked = await client.post(f"/api/v1/tokens/{second['id']}/revoke", headers=partner.auth)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_problem(
        await client.get("/api/v1/events?hosted=1", headers=second_auth), 401, "unauthenticated"
    )
    assert (await client.get("/api/v1/events?hosted=1", headers=partner.auth)).status_code == 200
    assert_problem(
        await client.post("/api/v1/tokens/not-a-uuid/revoke", headers=partner.auth),
        404,
        "not-found",
    )


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body["items"] if isinstance(body, dict) else body)


async def test_a_partner_can_revoke_the_token_it_is_using(
    client: httpx.AsyncClient, db: Database
) -> None:
    partner = await make_partner(db)
    mine = _items((await client.get("/api/v1/tokens", headers=partner.auth)).json())[0]
    done = await client.post(f"/api/v1/tokens/{mine['id']}/revoke", headers=partner.auth)
    assert done.status_code == 200
    assert_problem(await client.get("/api/v1/tokens", headers=partner.auth), 401, "unauthenticated")


async def test_unknown_and_malformed_tokens_are_401(client: httpx.AsyncClient) -> None:
    for header in ("Bearer pt_nope", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer dt_x", "pt_x"):
        response = await client.get("/api/v1/events?hosted=1", headers={"Authorization": header})
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(await client.get("/api/v1/tokens"), 401, "unauthenticated")
    # an unknown token is refused even where none is needed
    assert_problem(
        await client.get("/api/v1/events", headers={"Authorization": "Bearer pt_nope"}),
        401,
        "unauthenticated",
    )


# --- co-hosting -----------------------------------------------------------------------------


async def _invite(
    client: httpx.AsyncClient, event: dict[str, Any], owner: Partner, guest: Partner
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/events/{event['id']}/cohosts", json={"partner": guest.slug}, headers=owner.auth
    )
    assert response.status_code == 201, response.text
    invitation: dict[str, Any] = response.json()
    return invitation


async def test_invite_accept_and_cohost_manages(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_partner(db, "Owner")
    guest = await make_partner(db, "Guest")
    stranger = await make_partner(db, "Stranger")
    event = await create_event(client, owner, publish=False)
    invitation = await _invite(client, event, owner, guest)
    assert invitation["status"] == "pending" and invitation["id"]
    assert invitation["partner"] == guest.slug and invitation["event_id"] == event["id"]
    # only the invited partner sees it, and only it may answer it
    listed = await client.get("/api/v1/invitations", headers=guest.auth)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [invitation["id"]]
    assert (await client.get("/api/v1/invitations", headers=stranger.auth)).json()["items"] == []
    assert (await client.get("/api/v1/invitations", headers=owner.auth)).json()["items"] == []
    for other in (stranger, owner):
        assert_problem(
            await client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=other.auth),
            404,
            "not-found",
        )
    # before accepting, the guest sees nothing of the draft
    url = f"/api/v1/events/{event['id']}"
    assert_problem(await client.get(url, headers=guest.auth), 404, "not-found")
    accepted = await client.post(
        f"/api/v1/invitations/{invitation['id']}/accept", headers=guest.auth
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["answered_at"]
    assert (await client.get("/api/v1/invitations", headers=guest.auth)).json()["items"] == []
    hosts = (await client.get(url, headers=guest.auth)).json()["hosts"]
    assert hosts == [
        {"partner": owner.slug, "role": "owner"},
        {"partner": guest.slug, "role": "cohost"},
    ]
    patched = await client.patch(url, json={"title": "Co-hosted summit"}, headers=guest.auth)
    assert patched.status_code == 200 and patched.json()["title"] == "Co-hosted summit"
    assert (await client.post(f"{url}/publish", headers=guest.auth)).json()["status"] == "published"
    # ... but cannot cancel it or change who hosts it
    assert_problem(await client.post(f"{url}/cancel", headers=guest.auth), 403, "forbidden")
    assert_problem(
        await client.post(f"{url}/cohosts", json={"partner": stranger.slug}, headers=guest.auth),
        403,
        "forbidden",
    )
    assert_problem(
        await client.post(f"{url}/cohosts/{owner.slug}/remove", headers=guest.auth),
        403,
        "forbidden",
    )
    assert_problem(
        await client.post(f"/api/v1/invitations/{invitation['id']}/decline", headers=guest.auth),
        409,
        "invalid-state",
    )
    # the owner removes the co-host: it loses access
    removed = await client.post(f"{url}/cohosts/{guest.slug}/remove", headers=owner.auth)
    assert removed.status_code == 204
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=guest.auth), 404, "not-found"
    )


async def test_decline_leaves_the_hosts_unchanged(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False)
    invitation = await _invite(client, event, partner, other_partner)
    declined = await client.post(
        f"/api/v1/invitations/{invitation['id']}/decline", headers=other_partner.auth
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    url = f"/api/v1/events/{event['id']}"
    assert (await client.get(url, headers=partner.auth)).json()["hosts"] == [
        {"partner": partner.slug, "role": "owner"}
    ]
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert_problem(
        await client.post(
            f"/api/v1/invitations/{invitation['id']}/accept", headers=other_partner.auth
        ),
        409,
        "invalid-state",
    )
    # it can be invited again
    again = await _invite(client, event, partner, other_partner)
    assert again["status"] == "pending" and again["id"] != invitation["id"]


async def test_invitation_rules(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/cohosts"
    body = assert_problem(
        await client.post(url, json={"partner": "no-such-partner"}, headers=partner.auth),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["field"] == "partner"
    assert_problem(
        await client.post(url, json={"partner": partner.slug}, headers=partner.auth),
        409,
        "already-exists",
    )
    await _invite(client, event, partner, other_partner)
    assert_problem(
        await client.post(url, json={"partner": other_partner.slug}, headers=partner.auth),
        409,
        "already-exists",
    )
    # a partner that does not host the event cannot invite (nor learn it has invitations)
    assert_problem(
        await client.post(url, json={"partner": partner.slug}, headers=other_partner.auth),
        404,
        "not-found",
    )
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    listed = await client.get(url, headers=partner.auth)
    assert [i["partner"] for i in _items(listed.json())] == [other_partner.slug]
    assert_problem(
        await client.post("/api/v1/invitations/not-an-id/accept", headers=partner.auth),
        404,
        "not-found",
    )
    assert_problem(await client.get("/api/v1/invitations"), 401, "unauthenticated")


# --- the permission matrix ------------------------------------------------------------------

# (method, path under the event, body) for each action
ACTIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "read": ("GET", "", None),
    "manage": ("PATCH", "", {"description": "changed"}),
    "publish": ("POST", "/publish", None),
    "session": (
        "POST",
        "/sessions",
        {"title": "S", "starts_at": "__start__", "ends_at": "__start__"},  # the event's times
    ),
    "door_tokens": ("GET", "/door-tokens", None),
    "invitations": ("GET", "/cohosts", None),
    "invite": ("POST", "/cohosts", {"partner": "__fresh__"}),
    "cancel": ("POST", "/cancel", None),
}

# who → expected status per action, on a published event
EXPECTED: dict[str, dict[str, int]] = {
    "owner": {a: 201 if a in ("session", "invite") else 200 for a in ACTIONS},
    "cohost": {
        **{a: 201 if a == "session" else 200 for a in ACTIONS},
        "invite": 403,
        "cancel": 403,
    },
    "other": {**{a: 404 for a in ACTIONS}, "read": 200},
    "door": {**{a: 403 for a in ACTIONS}, "read": 200},
    "other_door": {a: 403 for a in ACTIONS},
    "anonymous": {**{a: 401 for a in ACTIONS}, "read": 200},
}


@pytest.fixture
async def matrix(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    owner = await make_partner(db, "Owner")
    cohost = await make_partner(db, "Cohost")
    other = await make_partner(db, "Other")
    event = await create_event(client, owner)
    invitation = await _invite(client, event, owner, cohost)
    await client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=cohost.auth)
    door = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens", json={"label": "north"}, headers=owner.auth
    )
    assert door.status_code == 201, door.text
    elsewhere = await create_event(client, other)
    other_door = await client.post(
        f"/api/v1/events/{elsewhere['id']}/door-tokens", json={}, headers=other.auth
    )
    return {
        "event": event,
        "auth": {
            "owner": owner.auth,
            "cohost": cohost.auth,
            "other": other.auth,
            "door": {"Authorization": f"Bearer {door.json()['token']}"},
            "other_door": {"Authorization": f"Bearer {other_door.json()['token']}"},
            "anonymous": {},
        },
    }


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_permission_matrix(
    client: httpx.AsyncClient, db: Database, matrix: dict[str, Any], who: str
) -> None:
    event_url = f"/api/v1/events/{matrix['event']['id']}"
    got: dict[str, int] = {}
    for action, (method, suffix, body) in ACTIONS.items():
        if body is not None and body.get("partner") == "__fresh__":
            body = {"partner": (await make_partner(db)).slug}
        if body is not None and body.get("starts_at") == "__start__":  # inside the event
            times = {k: matrix["event"][k] for k in ("starts_at", "ends_at")}
            body = {**body, **times}
        response = await client.request(
            method, event_url + suffix, json=body, headers=matrix["auth"][who]
        )
        got[action] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    assert got == EXPECTED[who]


async def test_a_draft_is_404_to_everyone_but_its_hosts(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    draft = await create_event(client, partner, publish=False)
    url = f"/api/v1/events/{draft['id']}"
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/publish"), ("POST", "/cancel")):
        body = {"title": "x"} if method == "PATCH" else None
        response = await client.request(method, url + suffix, json=body, headers=other_partner.auth)
        assert_problem(response, 404, "not-found")
    assert_problem(await client.get(url), 404, "not-found")
    # writing without a token is a 401 whatever the event (nothing leaks either way)
    assert_problem(await client.post(f"{url}/publish"), 401, "unauthenticated")
    assert_problem(
        await client.post("/api/v1/events/00000000-0000-0000-0000-000000000000/cancel"),
        401,
        "unauthenticated",
    )
    assert (await client.get(url, headers=partner.auth)).json()["status"] == "draft"


async def test_door_token_cannot_create_events_or_tokens(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    door = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens", json={"label": "door"}, headers=partner.auth
    )
    auth = {"Authorization": f"Bearer {door.json()['token']}"}
    from tests.conftest import event_body

    assert_problem(
        await client.post("/api/v1/events", json=event_body(), headers=auth), 403, "forbidden"
    )
    assert_problem(await client.get("/api/v1/events?hosted=1", headers=auth), 403, "forbidden")
    assert_problem(await client.post("/api/v1/tokens", json={}, headers=auth), 403, "forbidden")
    assert_problem(await client.get("/api/v1/invitations", headers=auth), 403, "forbidden")
    # revoked, it is refused altogether
    revoked = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens/{door.json()['id']}/revoke",
        headers=partner.auth,
    )
    assert revoked.status_code == 200
    assert_problem(
        await client.get(f"/api/v1/events/{event['id']}", headers=auth), 401, "unauthenticated"
    )
