"""Online and hybrid events (API.md "Online and hybrid events"): the contract, the secrecy of
the host's meeting link, personal join links and their window, places of each kind, switching."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from hypothesis import given
from hypothesis import strategies as st

from events import online
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.factories import post_registration as register

MEETING = "https://meet.example.com/secret-room-8841?pwd=hunter2"
ONLINE = {"url": MEETING, "instructions": "Mute on entry.", "reveal_before": "PT30M"}


async def stats(client: httpx.AsyncClient, event: dict[str, Any], partner: Partner) -> Any:
    response = await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)
    assert response.status_code == 200, response.text
    return response.json()


def join_path(registration: dict[str, Any]) -> str:
    return urlsplit(registration["join_url"]).path


# --- the event's fields ----------------------------------------------------------------------


async def test_formats_default_and_round_trip(client: httpx.AsyncClient, partner: Partner) -> None:
    plain = await create_event(client, partner)
    assert plain["format"] == "in_person" and plain["online"] is None
    made = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=10, online_capacity=5
    )
    assert made["format"] == "hybrid" and made["online_capacity"] == 5
    assert made["online"] == ONLINE  # the host sees the link
    defaulted = await create_event(client, partner, format="online", online={"url": MEETING})
    assert defaulted["online"] == {"url": MEETING, "instructions": "", "reveal_before": "PT1H"}
    patched = await client.patch(
        f"/api/v1/events/{made['id']}",
        headers=partner.auth,
        json={"online": {"url": "https://other.example.com/x"}, "online_capacity": None},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["online"]["url"] == "https://other.example.com/x"
    assert patched.json()["online_capacity"] is None


async def test_online_is_required_and_https(client: httpx.AsyncClient, partner: Partner) -> None:
    from tests.conftest import event_body

    bad = [
        ({"format": "online"}, "online"),
        ({"format": "hybrid"}, "online"),
        ({"format": "online", "online": {"url": "http://meet.example.com/x"}}, "online.url"),
        ({"format": "online", "online": {"url": "javascript:alert(1)//x"}}, "online.url"),
        ({"format": "online", "online": {"url": MEETING, "reveal_before": "1 hour"}}, None),
        ({"format": "online", "online": {"url": MEETING}, "online_capacity": 3}, None),
        ({"format": "webinar", "online": {"url": MEETING}}, None),
        ({"format": "online", "online": {"url": MEETING, "extra": 1}}, None),
    ]
    for changes, field in bad:
        response = await client.post(
            "/api/v1/events", headers=partner.auth, json=event_body(**changes)
        )
        problem = assert_problem(response, 422, "invalid-input")
        if field is not None:
            assert field in [e["field"] for e in problem.get("errors", [])], problem
    event = await create_event(client, partner, format="online", online={"url": MEETING})
    response = await client.patch(
        f"/api/v1/events/{event['id']}", headers=partner.auth, json={"online": None}
    )
    assert_problem(response, 422, "invalid-input")


@given(st.text(max_size=20))
def test_durations_parse_or_are_refused(text: str) -> None:
    parsed = online.parse_duration(text)
    assert parsed is None or (text.startswith("P") and parsed >= timedelta())


def test_durations() -> None:
    assert online.parse_duration("PT1H") == timedelta(hours=1)
    assert online.parse_duration("P1DT30M") == timedelta(days=1, minutes=30)
    assert online.parse_duration("P2W") == timedelta(weeks=2)
    for bad in ("P", "PT", "1H", "PT1.5H", "P1H", "-PT1H", ""):
        assert online.parse_duration(bad) is None, bad


# --- the host's link stays secret --------------------------------------------------------------


async def test_the_meeting_link_never_reaches_the_public(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, format="hybrid", online=ONLINE, capacity=10)
    secret = "secret-room-8841"
    public = await client.get(f"/api/v1/events/{event['id']}")
    assert public.status_code == 200 and secret not in public.text
    assert public.json()["online"]["url"] is None
    assert public.json()["online"]["instructions"] == "Mute on entry."
    listed = await client.get("/api/v1/events?limit=500")
    assert secret not in listed.text
    ics = await client.get(f"/api/v1/events/{event['id']}/calendar.ics")
    assert ics.status_code == 200 and secret not in ics.text
    page = await client.get(f"/events/{event['slug']}")
    assert page.status_code == 200 and secret not in page.text
    home = await client.get("/")
    assert secret not in home.text
    me = (await register(client, event, "me@example.org", attendance="online")).json()
    other = (await register(client, event, "other@example.org", attendance="online")).json()
    assert secret not in str(me) and secret not in str(other)
    mine = await client.get(f"/api/v1/registrations/{me['id']}?token={me['access_token']}")
    assert secret not in mine.text and mine.json()["join_url"] == me["join_url"]
    invite = await client.get(me["calendar"])
    assert secret not in invite.text and me["join_url"] in invite.text.replace("\r\n ", "")
    ticket = await client.get(me["ticket_url"])
    assert secret not in ticket.text and me["join_url"] in ticket.text
    [google] = re.findall(r'href="(https://calendar\.google\.com[^"]+)"', ticket.text)
    query = parse_qs(urlsplit(html.unescape(google)).query)
    assert query["location"] == [me["join_url"]]  # an online attendee goes to their link
    assert "Open in a map" not in ticket.text and "HKCEC" not in ticket.text  # no venue
    # another attendee's registration is not theirs to read
    theirs = await client.get(f"/api/v1/registrations/{other['id']}?token={me['access_token']}")
    assert theirs.status_code == 404
    hosted = await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)
    assert hosted.json()["online"]["url"] == MEETING


# --- attendance ----------------------------------------------------------------------------------


async def test_attendance_by_format(client: httpx.AsyncClient, partner: Partner) -> None:
    remote = await create_event(client, partner, format="online", online=ONLINE, capacity=5)
    made = (await register(client, remote, "a@example.org")).json()
    assert made["attendance"] == "online" and made["ticket"] is None
    assert made["status"] == "confirmed" and made["join_url"].startswith("http://")
    assert "/join/" in made["join_url"]
    refused = await register(client, remote, "b@example.org", attendance="in_person")
    assert_problem(refused, 422, "invalid-input")
    room = await create_event(client, partner)
    refused = await register(client, room, "c@example.org", attendance="online")
    assert_problem(refused, 422, "invalid-input")
    plain = (await register(client, room, "d@example.org")).json()
    assert plain["attendance"] == "in_person" and plain["join_url"] is None
    assert plain["ticket"] is not None
    both = await create_event(client, partner, format="hybrid", online=ONLINE, capacity=5)
    seat = (await register(client, both, "e@example.org")).json()
    assert seat["attendance"] == "in_person" and seat["ticket"] is not None


async def test_each_kind_fills_and_waitlists_on_its_own(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client,
        partner,
        format="hybrid",
        online=ONLINE,
        capacity=2,
        online_capacity=1,
        waitlist=True,
    )
    room = [(await register(client, event, f"r{i}@example.org")).json() for i in range(3)]
    web = [
        (await register(client, event, f"w{i}@example.org", attendance="online")).json()
        for i in range(3)
    ]
    assert [r["status"] for r in room] == ["confirmed", "confirmed", "waitlisted"]
    assert [r["status"] for r in web] == ["confirmed", "waitlisted", "waitlisted"]
    assert room[2]["waitlist_position"] == 1 and web[2]["waitlist_position"] == 2
    counts = await stats(client, event, partner)
    assert counts["confirmed"] == 3 and counts["waitlisted"] == 3
    assert counts["online_confirmed"] == 1 and counts["online_waitlisted"] == 2
    assert counts["online_capacity"] == 1 and counts["capacity"] == 2
    # a freed online place goes to the head of the online waitlist, not the room's
    cancelled = await client.post(
        f"/api/v1/registrations/{web[0]['id']}/cancel?token={web[0]['access_token']}"
    )
    assert cancelled.status_code == 200
    moved = await client.get(f"/api/v1/registrations/{web[1]['id']}", headers=partner.auth)
    assert moved.json()["status"] == "confirmed" and moved.json()["ticket"] is None
    still = await client.get(f"/api/v1/registrations/{room[2]['id']}", headers=partner.auth)
    assert still.json()["status"] == "waitlisted"
    # raising the online places promotes the online waitlist
    await client.patch(
        f"/api/v1/events/{event['id']}", headers=partner.auth, json={"online_capacity": 2}
    )
    last = await client.get(f"/api/v1/registrations/{web[2]['id']}", headers=partner.auth)
    assert last.json()["status"] == "confirmed"
    lowered = await client.patch(
        f"/api/v1/events/{event['id']}", headers=partner.auth, json={"online_capacity": 1}
    )
    assert_problem(lowered, 409, "capacity-below-confirmed")


async def test_full_without_waitlist_refuses_each_kind(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client,
        partner,
        format="hybrid",
        online=ONLINE,
        capacity=1,
        online_capacity=1,
        waitlist=False,
    )
    assert (await register(client, event, "a@example.org")).status_code == 201
    assert_problem(await register(client, event, "b@example.org"), 409, "event-full")
    assert (await register(client, event, "c@example.org", attendance="online")).status_code == 201
    full = await register(client, event, "d@example.org", attendance="online")
    assert_problem(full, 409, "event-full")


async def test_unlimited_online_places(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=0, waitlist=False
    )
    for i in range(20):
        made = await register(client, event, f"u{i}@example.org", attendance="online")
        assert made.json()["status"] == "confirmed"
    assert_problem(await register(client, event, "room@example.org"), 409, "event-full")
    counts = await stats(client, event, partner)
    assert counts["online_confirmed"] == 20 and counts["online_capacity"] is None


# --- switching ---------------------------------------------------------------------------------


async def test_switching_needs_room_of_the_other_kind(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=1, online_capacity=1
    )
    a = (await register(client, event, "a@example.org")).json()
    b = (await register(client, event, "b@example.org", attendance="online")).json()
    url = f"/api/v1/registrations/{a['id']}?token={a['access_token']}"
    full = await client.patch(url, json={"attendance": "online"})
    assert_problem(full, 409, "event-full")
    unchanged = (await client.get(url)).json()
    assert unchanged["attendance"] == "in_person" and unchanged["ticket"] is not None
    await client.post(f"/api/v1/registrations/{b['id']}/cancel?token={b['access_token']}")
    switched = await client.patch(url, json={"attendance": "online"})
    assert switched.status_code == 200, switched.text
    body = switched.json()
    assert body["attendance"] == "online" and body["ticket"] is None and body["join_url"]
    counts = await stats(client, event, partner)
    assert counts["online_confirmed"] == 1 and counts["confirmed"] == 1
    back = await client.patch(url, json={"attendance": "in_person"})
    assert back.json()["attendance"] == "in_person" and back.json()["ticket"] is not None
    assert_problem(await client.patch(url, json={"status": "cancelled"}), 422, "invalid-input")
    assert (await client.patch(f"/api/v1/registrations/{a['id']}", json={})).status_code == 401


async def test_switching_frees_the_old_place_for_its_waitlist(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=1, online_capacity=2
    )
    a = (await register(client, event, "a@example.org")).json()
    waiting = (await register(client, event, "b@example.org")).json()
    assert waiting["status"] == "waitlisted"
    switched = await client.patch(
        f"/api/v1/registrations/{a['id']}?token={a['access_token']}", json={"attendance": "online"}
    )
    assert switched.status_code == 200
    moved = await client.get(f"/api/v1/registrations/{waiting['id']}", headers=partner.auth)
    assert moved.json()["status"] == "confirmed" and moved.json()["attendance"] == "in_person"


async def test_one_patch_changes_the_name_and_switches_or_neither(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    """Switching is part of the self-service PATCH: one body may also change the name; when
    the other kind is full, nothing of the body is applied."""
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=2, online_capacity=1
    )
    a = (await register(client, event, "a@example.org")).json()
    b = (await register(client, event, "b@example.org")).json()
    url = f"/api/v1/registrations/{a['id']}?token={a['access_token']}"
    both = await client.patch(url, json={"attendance": "online", "name": "Wong Siu Ming"})
    assert both.status_code == 200, both.text
    assert both.json()["attendance"] == "online" and both.json()["name"] == "Wong Siu Ming"
    url_b = f"/api/v1/registrations/{b['id']}?token={b['access_token']}"
    full = await client.patch(url_b, json={"attendance": "online", "name": "Lee Ka Yan"})
    assert_problem(full, 409, "event-full")
    unchanged = (await client.get(url_b)).json()
    assert unchanged["name"] == "Chan Tai Man" and unchanged["attendance"] == "in_person"
    by_host = await client.patch(
        f"/api/v1/registrations/{a['id']}", json={"attendance": "in_person"}, headers=partner.auth
    )
    assert by_host.status_code == 200 and by_host.json()["attendance"] == "in_person"
    spec = (await client.get("/api/v1/openapi.json")).json()
    patch = spec["paths"]["/api/v1/registrations/{registration_id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/RegistrationPatch")
    fields = spec["components"]["schemas"]["RegistrationPatch"]["properties"]
    assert {"attendance", "name", "answers", "sessions", "locale"} <= set(fields)


# --- the join link ---------------------------------------------------------------------------


async def test_join_window_and_first_join(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event = await create_event(client, partner, format="online", online=ONLINE, capacity=5)
    me = (await register(client, event, "me@example.org")).json()
    starts = datetime.fromisoformat(event["starts_at"]).astimezone(UTC)
    ends = datetime.fromisoformat(event["ends_at"]).astimezone(UTC)
    path = join_path(me)

    def at(moment: datetime) -> None:
        clock.offset = moment - datetime.now(UTC)

    at(starts - timedelta(minutes=31))
    early = await client.get(path, headers={"Accept-Language": "zh-Hant"})
    assert early.status_code == 200 and "secret-room" not in early.text
    assert "location" not in early.headers
    assert (await stats(client, event, partner))["joined"] == 0
    at(starts - timedelta(minutes=29))
    opened = await client.get(path)
    assert opened.status_code in (302, 303) and opened.headers["location"] == MEETING
    first = (await client.get(f"/api/v1/registrations/{me['id']}", headers=partner.auth)).json()
    assert first["joined_at"] is not None
    at(starts + timedelta(hours=2))
    again = await client.get(path)
    assert again.status_code in (302, 303)
    later = (await client.get(f"/api/v1/registrations/{me['id']}", headers=partner.auth)).json()
    assert later["joined_at"] == first["joined_at"]  # the first join only
    assert (await stats(client, event, partner))["joined"] == 1
    export = await client.get(
        f"/api/v1/events/{event['id']}/registrations.csv", headers=partner.auth
    )
    [row] = csv.DictReader(io.StringIO(export.text.removeprefix("\ufeff")))
    assert row["attendance"] == "online" and row["checked_in_at"] == ""
    assert datetime.fromisoformat(row["joined_at"]) == datetime.fromisoformat(first["joined_at"])
    at(ends + timedelta(minutes=1))
    over = await client.get(path)
    assert over.status_code == 410 and "location" not in over.headers


async def test_join_link_refused_when_cancelled_or_forged(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event = await create_event(client, partner, format="online", online=ONLINE, capacity=5)
    me = (await register(client, event, "me@example.org")).json()
    await client.post(f"/api/v1/registrations/{me['id']}/cancel?token={me['access_token']}")
    starts = datetime.fromisoformat(event["starts_at"]).astimezone(UTC)
    clock.offset = starts - datetime.now(UTC)
    refused = await client.get(join_path(me))
    assert refused.status_code == 410 and "secret-room" not in refused.text
    path = join_path(me)
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await client.get(forged)).status_code == 404
    assert (await client.get("/join/nonsense")).status_code == 404
    assert (await stats(client, event, partner))["joined"] == 0


async def test_pages_in_three_languages(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=3, online_capacity=4
    )
    en = await client.get(f"/events/{event['slug']}?lang=en")
    assert "Hybrid" in en.text and 'name="attendance"' in en.text
    hant = await client.get(f"/events/{event['slug']}?lang=zh-Hant")
    assert "線上" in hant.text
    hans = await client.get(f"/events/{event['slug']}?lang=zh-Hans")
    assert "线上" in hans.text
    me = (await register(client, event, "me@example.org", attendance="online")).json()
    page = await client.get(join_path(me) + "?lang=zh-Hans")
    assert page.status_code == 200 and "线上" in page.text


async def test_register_online_through_the_page(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=3, online_capacity=4
    )
    page = await client.get(f"/events/{event['slug']}")
    csrf = page.cookies.get("csrf") or client.cookies.get("csrf")
    import re

    form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
    data = {"name": "Web Person", "email": "web@example.org", "attendance": "online"}
    if csrf:
        data["csrf"] = csrf
    if form_id:
        data["form_id"] = form_id.group(1)
    sent = await client.post(f"/events/{event['slug']}", data=data)
    assert sent.status_code in (200, 303), sent.text
    listed = await client.get(
        f"/api/v1/events/{event['id']}/registrations?q=web@example.org", headers=partner.auth
    )
    assert listed.json()["items"][0]["attendance"] == "online"


async def test_switching_on_the_change_page(client: httpx.AsyncClient, partner: Partner) -> None:
    """The attendee's own page offers the other kind with its places left, switches, and says
    so when that kind is full."""
    from tests.test_web import csrf_of

    event = await create_event(
        client, partner, format="hybrid", online=ONLINE, capacity=2, online_capacity=1
    )
    me = (await register(client, event, "me@example.org")).json()
    edit_url = f"/tickets/{me['id']}/edit?token={me['access_token']}"
    page = await client.get(edit_url)
    assert 'name="attendance" value="online"' in page.text and "1 places left" in page.text
    form = {"csrf": csrf_of(page), "token": me["access_token"], "name": "Chan Tai Man"}
    moved = await client.post(f"/tickets/{me['id']}/edit", data={**form, "attendance": "online"})
    assert moved.status_code == 303, moved.text
    mine = (await client.get(f"/api/v1/registrations/{me['id']}?token={me['access_token']}")).json()
    assert mine["attendance"] == "online" and mine["join_url"] and mine["ticket"] is None
    other = (await register(client, event, "other@example.org")).json()
    assert (
        await client.post(f"/api/v1/registrations/{me['id']}/cancel?token={me['access_token']}")
    ).status_code == 200
    taker = (await register(client, event, "taker@example.org", attendance="online")).json()
    assert taker["status"] == "confirmed"
    page = await client.get(f"/tickets/{other['id']}/edit?token={other['access_token']}")
    assert 'value="online" disabled' in page.text or "0 places left" in page.text
    full = await client.post(
        f"/tickets/{other['id']}/edit",
        data={**form, "token": other["access_token"], "attendance": "online"},
    )
    assert full.status_code == 409 and "full" in full.text
