"""The audit log: an entry for every change (and personal-data read) in the same
transaction, who did it, old and new values, filters and paging; the database refuses
edits; the one scrub door for erasure."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from events import cli
from events.db import Database
from events.settings import Settings
from tests.conftest import Partner, assert_problem, create_event, make_partner
from tests.test_checkin import door_for, register
from tests.test_web import csrf_of
from tests.test_web_console import signed_in


async def audit_of(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], query: str = ""
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/events/{event['id']}/audit{query}", headers=partner.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    items: list[dict[str, Any]] = body["items"]
    return items


def actions(entries: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in entries]


async def test_an_event_s_life_is_logged_newest_first_with_who_and_what(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    patched = await client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Renamed"}, headers=partner.auth
    )
    assert patched.status_code == 200
    moved = {"venue": {"name": "AsiaWorld-Expo", "address": "Lantau"}, "capacity": 1}
    await client.patch(f"/api/v1/events/{event['id']}", json=moved, headers=partner.auth)
    first = await register(client, event, "Chan Tai Man")
    second = await register(client, event, "Wong Siu Ming")
    assert second["status"] == "waitlisted"
    cancelled = await client.post(
        f"/api/v1/registrations/{first['id']}/cancel", headers=partner.auth
    )
    assert cancelled.status_code == 200

    entries = await audit_of(client, partner, event)
    assert actions(entries) == [
        "registration.promoted",
        "registration.cancelled",
        "registration.created",
        "registration.created",
        "event.updated",
        "event.updated",
        "event.published",
        "event.created",
    ]
    assert entries[4]["changes"] == {
        "venue": [
            {"name": "HKCEC Hall 3", "address": "1 Harbour Road, Wan Chai"},
            {"name": "AsiaWorld-Expo", "address": "Lantau"},
        ]
    }
    del entries[4]
    created = entries[-1]
    assert created["actor"] == {"type": "partner", "id": partner.id, "label": partner.slug}
    assert created["subject"] == {"type": "event", "id": event["id"]}
    assert created["changes"]["title"] == [None, "Global Talent Summit 2027"]
    assert entries[-3]["changes"] == {"title": ["Global Talent Summit 2027", "Renamed"]}
    assert entries[-2]["changes"] == {"status": ["draft", "published"]}
    by_attendee = entries[3]
    assert by_attendee["actor"] == {"type": "attendee", "id": first["id"], "label": "Chan Tai Man"}
    assert by_attendee["subject"] == {"type": "registration", "id": first["id"]}
    assert by_attendee["changes"]["status"] == [None, "confirmed"]
    assert entries[2]["changes"]["status"] == [None, "waitlisted"]
    assert entries[1]["actor"]["type"] == "partner"
    assert entries[1]["changes"] == {"status": ["confirmed", "cancelled"]}
    assert entries[0]["subject"]["id"] == second["id"]
    assert entries[0]["changes"] == {"status": ["waitlisted", "confirmed"]}
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True)
    assert entries[0]["at"].endswith("+08:00")  # the event's offset, like every time


async def test_checkins_exports_tokens_cohosts_and_personal_data_reads_are_logged(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    attendee = await register(client, event, "Lee Ka Yan")
    scanned = await client.post(
        door.scans, json={"code": attendee["ticket"]["code"]}, headers=door.auth
    )
    assert scanned.status_code == 200
    again = await client.post(
        door.scans, json={"code": attendee["ticket"]["code"]}, headers=door.auth
    )
    assert again.status_code == 409  # a refused scan changes nothing, and logs nothing
    base = f"/api/v1/events/{event['id']}"
    assert (await client.get(f"{base}/registrations.csv", headers=partner.auth)).status_code == 200
    assert (await client.get(f"{base}/registrations", headers=partner.auth)).status_code == 200
    reg_url = f"/api/v1/registrations/{attendee['id']}"
    assert (await client.get(reg_url, headers=partner.auth)).status_code == 200
    assert (await client.get(f"{reg_url}?token={attendee['access_token']}")).status_code == 200
    invite = await client.post(
        f"{base}/cohosts", json={"partner": other_partner.slug}, headers=partner.auth
    )
    accepted = await client.post(
        f"/api/v1/invitations/{invite.json()['id']}/accept", headers=other_partner.auth
    )
    assert accepted.status_code == 200

    entries = await audit_of(client, partner, event)
    assert actions(entries)[:7] == [
        "cohost.added",
        "cohost.accepted",
        "cohost.invited",
        "registration.read",  # the host's read; the attendee's own read is not logged
        "registrations.listed",
        "export.csv",
        "checkin.created",
    ]
    checked_in = entries[6]
    assert checked_in["actor"]["type"] == "door"
    assert checked_in["actor"]["label"] == "Hall 3 north door"
    assert checked_in["subject"] == {"type": "registration", "id": attendee["id"]}
    assert checked_in["changes"]["checked_in_at"][0] is None
    assert entries[5]["changes"] == {"rows": [None, 1]}
    assert entries[0]["actor"] == {
        "type": "partner",
        "id": other_partner.id,
        "label": other_partner.slug,
    }
    door_token = next(e for e in entries if e["action"] == "door_token.created")
    assert door_token["changes"] == {"label": [None, "Hall 3 north door"]}
    # the accepted co-host reads the same log
    assert await audit_of(client, other_partner, event) == await audit_of(client, partner, event)


async def test_filters_paging_and_who_may_read(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    for name in ("A One", "B Two", "C Three"):
        await register(client, event, name)
    created = await audit_of(client, partner, event, "?action=registration.created")
    assert actions(created) == ["registration.created"] * 3
    assert actions(await audit_of(client, partner, event, "?action=event.")) == [
        "event.published",
        "event.created",
    ]
    assert len(await audit_of(client, partner, event, "?actor=attendee")) == 3
    assert len(await audit_of(client, partner, event, f"?actor={partner.id}")) == 2
    one = created[0]["actor"]["id"]
    assert len(await audit_of(client, partner, event, f"?actor={one}")) == 1
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert await audit_of(client, partner, event, f"?since={later}") == []
    assert len(await audit_of(client, partner, event, f"?until={later}")) == 5

    page = await client.get(f"/api/v1/events/{event['id']}/audit?limit=2", headers=partner.auth)
    seen = page.json()["items"]
    while page.json()["next_cursor"]:
        page = await client.get(
            f"/api/v1/events/{event['id']}/audit?limit=2&cursor={page.json()['next_cursor']}",
            headers=partner.auth,
        )
        seen += page.json()["items"]
    assert seen == await audit_of(client, partner, event)

    url = f"/api/v1/events/{event['id']}/audit"
    assert_problem(
        await client.get(f"{url}?since=2027-01-01T10:00", headers=partner.auth),
        422,
        "invalid-input",
    )
    assert_problem(
        await client.get(f"{url}?since=yesterday", headers=partner.auth), 422, "invalid-input"
    )
    assert_problem(await client.get(f"{url}?limit=501", headers=partner.auth), 422, "invalid-input")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert_problem(await client.get(url), 401, "unauthenticated")
    door = await door_for(client, partner, event)
    assert_problem(await client.get(url, headers=door.auth), 403, "forbidden")


async def test_a_console_user_acts_as_the_partner_with_their_user_as_label(
    app: Starlette, db: Database, client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    browser = await signed_in(app, db, partner)
    try:
        page = await browser.get(f"/console/events/{event['id']}")
        answer = await browser.post(
            f"/console/events/{event['id']}/door-tokens",
            data={"csrf": csrf_of(page), "label": "Side door"},
        )
        assert answer.status_code in (200, 303), answer.text
    finally:
        await browser.aclose()
    made = (await audit_of(client, partner, event, "?action=door_token.created"))[0]
    assert made["actor"]["type"] == "partner" and made["actor"]["id"] == partner.id
    assert made["actor"]["label"].startswith("staff-")


async def test_the_database_refuses_to_edit_the_log_but_scrubs_personal_values(
    client: httpx.AsyncClient, db: Database
) -> None:
    partner = await make_partner(db)
    event = await create_event(client, partner)
    attendee = await register(client, event, "Ho Wing Sze")
    async with db.connection() as conn:
        for statement in (
            "UPDATE audit_log SET action = 'event.updated' WHERE subject_id = $1",
            "DELETE FROM audit_log WHERE subject_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, attendee["id"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE audit_log CASCADE")
        # the scrub door opens only for personal values, not for anything else
        async with conn.transaction():
            await conn.execute("SELECT set_config('events.audit_scrub', 'on', true)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "UPDATE audit_log SET action = 'event.updated' WHERE subject_id = $1",
                    attendee["id"],
                )
        assert await conn.fetchval("SELECT audit_scrub($1)", attendee["id"]) == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # and it closes again
            await conn.execute("DELETE FROM audit_log WHERE subject_id = $1", attendee["id"])
    entry = (await audit_of(client, partner, event, "?action=registration.created"))[0]
    assert entry["changes"] == {
        "status": [None, "confirmed"],
        "name": [None, None],
        "email": [None, None],
    }
    assert entry["actor"] == {"type": "attendee", "id": attendee["id"], "label": ""}


async def test_a_change_that_rolls_back_leaves_no_entry(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=False)
    await register(client, event, "Only One")
    refused = await client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 0}, headers=partner.auth
    )
    assert_problem(refused, 409, "capacity-below-confirmed")
    full = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "Too Late", "email": "late@example.org"},
    )
    assert_problem(full, 409, "event-full")
    assert actions(await audit_of(client, partner, event)) == [
        "registration.created",
        "event.published",
        "event.created",
    ]


async def test_the_console_shows_an_event_s_history(
    app: Starlette, db: Database, client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    await client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "New <b>Title</b>"}, headers=partner.auth
    )
    attendee = await register(client, event, "Lam Ka Ho")
    browser = await signed_in(app, db, partner)
    try:
        page = await browser.get(f"/console/events/{event['id']}")
        assert f"/console/events/{event['id']}/history" in page.text
        history = await browser.get(f"/console/events/{event['id']}/history")
        assert history.status_code == 200
        text = history.text
        assert text.index("<code>registration.created") < text.index("<code>event.updated")
        assert "Lam Ka Ho" in text and attendee["id"] in text
        assert "New &lt;b&gt;Title&lt;/b&gt;" in text or "New \\u003cb\\u003eTitle" in text
        assert "<b>Title</b>" not in text  # values are escaped
        only = await browser.get(f"/console/events/{event['id']}/history?action=event.")
        assert "<code>registration.created" not in only.text
        assert "<code>event.updated" in only.text
        chinese = await browser.get(f"/console/events/{event['id']}/history?lang=zh-Hant")
        assert "記錄" in chinese.text and "參加者" in chinese.text
    finally:
        await browser.aclose()
    other = await make_partner(db)
    stranger = await signed_in(app, db, other)
    try:
        refused = await stranger.get(f"/console/events/{event['id']}/history")
        assert refused.status_code == 404
    finally:
        await stranger.aclose()


def test_the_operator_s_commands_are_logged_as_the_operator(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slug = f"op-{secrets.token_hex(3)}"
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    assert cli.main(["partner", "create", "--slug", slug, "--name", "Operator Made"]) == 0
    made = json.loads(capsys.readouterr().out)

    async def entries() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(settings.database_url)
        try:
            return await conn.fetch(
                "SELECT actor_type, actor_id, action, changes FROM audit_log WHERE partner_id = $1",
                uuid.UUID(made["id"]),
            )
        finally:
            await conn.close()

    [entry] = asyncio.run(entries())
    assert (entry["actor_type"], entry["actor_id"], entry["action"]) == (
        "operator",
        "cli",
        "partner.created",
    )
