"""Attendees change their registration and get their link again; hosts write to attendees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from hypothesis import given
from hypothesis import strategies as st

from events import durations, ratelimit
from events.db import Database
from events.queries import mail as mail_q
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.factories import register


async def add_session(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], hour: int, **extra: Any
) -> dict[str, Any]:
    from datetime import datetime

    start = datetime.fromisoformat(event["starts_at"]) + timedelta(hours=hour)
    response = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": f"Session {hour}",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            **extra,
        },
        headers=partner.auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def seq(text: str) -> int:
    return max(int(line.split(":")[1]) for line in text.splitlines() if line.startswith("SEQUENCE"))


async def kinds(db: Database, registration_id: str) -> list[str]:
    async with db.connection() as conn:
        return [r["kind"] for r in await mail_q.of_registration(conn, UUID(registration_id))]


async def test_attendee_changes_name_answers_language_and_sessions(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(
        client, partner, questions=[{"id": "org", "label": "Organisation", "required": True}]
    )
    one = await add_session(client, partner, event, 1, capacity=5)
    two = await add_session(client, partner, event, 3, capacity=5)
    r = await register(
        client, event["id"], "edit@example.org", sessions=[one["id"]], answers={"org": "HKU"}
    )
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    before = (
        await client.get(f"/api/v1/registrations/{r['id']}/invite.ics?token={r['access_token']}")
    ).text.replace("\r\n ", "")
    changed = await client.patch(
        url,
        json={
            "name": "陳大文",
            "answers": {"org": "CUHK"},
            "sessions": [two["id"]],
            "locale": "zh-Hant",
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["answers"], body["sessions"], body["locale"]) == (
        "陳大文",
        {"org": "CUHK"},
        [two["id"]],
        "zh-Hant",
    )
    stats = {
        s["id"]: s for s in (await client.get(f"/api/v1/events/{event['id']}")).json()["sessions"]
    }
    assert stats  # sessions still listed
    after = (
        await client.get(f"/api/v1/registrations/{r['id']}/invite.ics?token={r['access_token']}")
    ).text.replace("\r\n ", "")
    assert seq(after) == seq(before) + 1
    assert f"session-{two['id']}" in after and f"session-{one['id']}" not in after
    assert await kinds(db, r["id"]) == ["confirmation", "sessions-withdrawn", "edited"]
    # name only: no new invite, no mail
    again = await client.patch(url, json={"name": "Chan Tai Man"})
    assert again.status_code == 200
    assert await kinds(db, r["id"]) == ["confirmation", "sessions-withdrawn", "edited"]


async def test_patch_refuses_unknown_fields_and_bad_values(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client, partner, questions=[{"id": "org", "label": "Organisation", "required": True}]
    )
    r = await register(client, event["id"], "bad@example.org", answers={"org": "HKU"})
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    for body, field in [
        ({"status": "confirmed"}, "status"),
        ({"email": "x@example.org"}, "email"),
        ({"answers": {}}, "answers.org"),
        ({"sessions": ["nope"]}, "sessions.0"),
        ({"locale": "fr"}, "locale"),
        ({"name": ""}, "name"),
    ]:
        problem = assert_problem(await client.patch(url, json=body), 422, "invalid-input")
        assert problem["errors"][0]["field"] == field, problem
    assert_problem(
        await client.patch(f"/api/v1/registrations/{r['id']}", json={}), 401, "unauthenticated"
    )
    assert_problem(
        await client.patch(f"/api/v1/registrations/{r['id']}?token=wrong", json={"name": "X"}),
        404,
        "not-found",
    )


async def test_overlapping_sessions_are_refused_naming_them(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    a = await add_session(client, partner, event, 1)
    b = await add_session(client, partner, event, 1, title="Fintech panel")
    c = await add_session(client, partner, event, 2)  # starts as a ends: no overlap
    refused = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "A", "email": "overlap@example.org", "sessions": [a["id"], b["id"]]},
    )
    problem = assert_problem(refused, 422, "invalid-input")
    assert problem["errors"][0]["field"] == "sessions"
    assert "Fintech panel" in problem["errors"][0]["message"] and "Session 1" in problem["detail"]
    r = await register(client, event["id"], "overlap@example.org", sessions=[a["id"], c["id"]])
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    patched = await client.patch(url, json={"sessions": [a["id"], b["id"]]})
    assert assert_problem(patched, 422, "invalid-input")["errors"][0]["field"] == "sessions"


async def test_edits_close_for_attendees_not_for_hosts(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event = await create_event(client, partner)
    assert event["edits_close_at"] == event["starts_at"]  # the default
    r = await register(client, event["id"], "late@example.org")
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    close = (clock() + timedelta(days=1)).replace(microsecond=0)
    patched = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"edits_close_at": close.isoformat()},
        headers=partner.auth,
    )
    assert patched.status_code == 200
    assert (await client.patch(url, json={"name": "Early"})).status_code == 200
    clock.offset += timedelta(days=2)
    assert_problem(await client.patch(url, json={"name": "Late"}), 409, "registration-closed")
    by_host = await client.patch(
        f"/api/v1/registrations/{r['id']}", json={"name": "By Host"}, headers=partner.auth
    )
    assert by_host.status_code == 200 and by_host.json()["name"] == "By Host"
    assert by_host.json()["access_token"] is None


async def test_a_full_session_refuses_the_move_and_keeps_the_old_one(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    small = await add_session(client, partner, event, 1, capacity=1)
    big = await add_session(client, partner, event, 3)
    await register(client, event["id"], "first@example.org", sessions=[small["id"]])
    r = await register(client, event["id"], "second@example.org", sessions=[big["id"]])
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    assert_problem(await client.patch(url, json={"sessions": [small["id"]]}), 409, "session-full")
    assert (await client.get(url)).json()["sessions"] == [big["id"]]


async def test_resend_answers_the_same_and_mails_only_the_registered(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner)
    r = await register(client, event["id"], "Lost.Link@example.org")
    path = f"/api/v1/events/{event['id']}/registrations/resend"
    known = await client.post(path, json={"email": "lost.link@EXAMPLE.org"})
    unknown = await client.post(path, json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert await kinds(db, r["id"]) == ["confirmation", "resend"]
    await client.post(path, json={"email": "lost.link@example.org"})
    assert await kinds(db, r["id"]) == ["confirmation", "resend", "resend"]
    assert_problem(await client.post(path, json={"mail": "x"}), 422, "invalid-input")
    missing = "/api/v1/events/00000000-0000-0000-0000-000000000000/registrations/resend"
    assert_problem(await client.post(missing, json={"email": "a@example.org"}), 404, "not-found")


async def test_resend_is_limited_per_address_and_per_email(
    client: httpx.AsyncClient, partner: Partner, db: Database, app: Any
) -> None:
    event = await create_event(client, partner)
    r = await register(client, event["id"], "limited@example.org")
    path = f"/api/v1/events/{event['id']}/registrations/resend"
    saved = app.state.limiter
    app.state.limiter = ratelimit.Limiter(ratelimit.parse("resend=4/60,resend-email=2/3600"))
    try:
        answers = [
            (await client.post(path, json={"email": "limited@example.org"})).status_code
            for _ in range(4)
        ]
        assert answers == [202, 202, 202, 202]  # the same answer, but two mails at most
        assert await kinds(db, r["id"]) == ["confirmation", "resend", "resend"]
        assert_problem(
            await client.post(path, json={"email": "x@example.org"}), 429, "rate-limited"
        )
    finally:
        app.state.limiter = saved


async def test_messages_reach_their_audience_once(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    s = await add_session(client, partner, event, 1)
    a = await register(client, event["id"], "m1@example.org", sessions=[s["id"]])
    b = await register(client, event["id"], "m2@example.org")
    c = await register(client, event["id"], "m3@example.org")
    assert c["status"] == "waitlisted"
    path = f"/api/v1/events/{event['id']}/messages"
    note = {"subject": "Bring your ID", "body": "Please bring photo ID."}
    dry = await client.post(path, json={**note, "dry_run": True}, headers=partner.auth)
    assert dry.status_code == 202 and dry.json()["recipients"] == 3
    assert await kinds(db, a["id"]) == ["confirmation"]
    confirmed = await client.post(
        path, json={**note, "audience": {"status": ["confirmed"]}}, headers=partner.auth
    )
    assert confirmed.status_code == 202 and confirmed.json()["recipients"] == 2
    in_session = await client.post(
        path, json={**note, "audience": {"session": s["id"]}}, headers=partner.auth
    )
    assert in_session.json()["recipients"] == 1
    checked = await client.post(
        path, json={**note, "audience": {"checked_in": True}, "dry_run": True}, headers=partner.auth
    )
    assert checked.json()["recipients"] == 0
    assert await kinds(db, a["id"]) == ["confirmation", "message", "message"]
    assert await kinds(db, b["id"]) == ["confirmation", "message"]
    assert await kinds(db, c["id"]) == ["waitlisted"]
    listed = await client.get(path, headers=partner.auth)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(m["id"], m["recipients"], m["pending"]) for m in items] == [
        (confirmed.json()["id"], 2, 2),
        (in_session.json()["id"], 1, 1),
    ]
    assert (await client.get(path, headers=other_partner.auth)).status_code == 404
    assert (await client.post(path, json=note)).status_code == 401
    bad = await client.post(path, json={**note, "audience": {"session": "x"}}, headers=partner.auth)
    assert_problem(bad, 422, "invalid-input")
    bad = await client.post(
        path, json={**note, "audience": {"status": ["gone"]}}, headers=partner.auth
    )
    assert_problem(bad, 422, "invalid-input")


async def test_cancel_takes_a_reason_shown_on_the_event(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    done = await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={"reason": "Typhoon signal No. 8"},
        headers=partner.auth,
    )
    assert done.status_code == 200 and done.json()["cancel_reason"] == "Typhoon signal No. 8"
    page = await client.get(f"/events/{event['slug']}")
    assert "Typhoon signal No. 8" in page.text
    plain = await create_event(client, partner)
    assert (
        await client.post(f"/api/v1/events/{plain['id']}/cancel", headers=partner.auth)
    ).status_code == 200


async def test_reminders_are_validated(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, reminders=["P1D", "PT2H"])
    assert event["reminders"] == ["P1D", "PT2H"]
    assert (await create_event(client, partner))["reminders"] == ["P1D"]
    for bad in (["P1M"], ["1 day"], ["P1D", "PT24H"], ["PT0S"], ["P"]):
        response = await client.post(
            "/api/v1/events",
            json={**(await _body()), "reminders": bad},
            headers=partner.auth,
        )
        assert_problem(response, 422, "invalid-input")


async def _body() -> dict[str, Any]:
    from tests.conftest import event_body

    return event_body()


@given(st.integers(0, 50), st.integers(0, 23), st.integers(0, 59))
def test_durations_read_what_they_write(days: int, hours: int, minutes: int) -> None:
    text = (
        "P"
        + (f"{days}D" if days else "")
        + (
            "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
            if hours or minutes
            else ""
        )
    )
    if text == "P":
        return
    assert durations.parse(text) == timedelta(days=days, hours=hours, minutes=minutes)


@given(st.text(max_size=20))
def test_durations_refuse_or_parse_any_text(text: str) -> None:
    try:
        value = durations.parse(text)
    except ValueError:
        return
    assert value > timedelta(0) or value == timedelta(0)


async def test_changes_and_messages_are_in_the_audit_log(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    s = await add_session(client, partner, event, 1)
    r = await register(client, event["id"], f"audit-{event['id'][:8]}@example.org")
    url = f"/api/v1/registrations/{r['id']}?token={r['access_token']}"
    assert (await client.patch(url, json={"name": "Lee", "sessions": [s["id"]]})).status_code == 200
    await client.post(
        f"/api/v1/events/{event['id']}/messages",
        json={"subject": "Hello", "body": "Hi"},
        headers=partner.auth,
    )
    log = (await client.get(f"/api/v1/events/{event['id']}/audit", headers=partner.auth)).json()
    entries = {e["action"]: e for e in log["items"]}
    updated = entries["registration.updated"]
    assert updated["actor"]["type"] == "attendee"
    assert updated["changes"]["name"] == ["Chan Tai Man", "Lee"]
    assert updated["changes"]["sessions"] == [[], [s["id"]]]
    assert entries["message.sent"]["changes"]["recipients"] == [None, 1]
