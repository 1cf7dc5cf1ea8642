"""Calendar files over HTTP: calendar.ics, invites, feeds; parsed by icalendar and `ical`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from events import calendar_links, ical, rendered
from tests.conftest import BASE_URL, Partner, assert_problem, create_event
from tests.factories import register


def parse(response: httpx.Response) -> icalendar.Calendar:
    """Both parsers accept it, and every TZID has its VTIMEZONE."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    strict = IcsCalendarStream.calendar_from_ics(text)
    cal = icalendar.Calendar.from_ical(text)
    assert len(strict.events) == len(cal.events)
    assert cal.get_used_tzids() and not cal.get_missing_tzids()
    for tz in strict.timezones:
        assert tz.tz_id in cal.get_used_tzids()
    return cal


async def add_session(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], title: str, hours: int
) -> str:
    start = datetime.fromisoformat(event["starts_at"]) + timedelta(hours=hours)
    response = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": title,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "room": f"Room {hours}",
        },
        headers=partner.auth,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def summit(client: httpx.AsyncClient, partner: Partner) -> tuple[dict[str, Any], list[str]]:
    event = await create_event(client, partner, publish=False)
    sessions = [await add_session(client, partner, event, f"Track {i}", i) for i in (1, 2)]
    published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    return published.json(), sessions


def email(tag: str) -> str:
    return f"{tag}-{datetime.now(UTC).timestamp()}@example.org"


async def test_event_calendar_has_event_and_sessions(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event, sessions = await summit(client, partner)
    cal = parse(await client.get(f"/api/v1/events/{event['id']}/calendar.ics"))
    assert cal.get("method") is None
    uids = [str(e["uid"]) for e in cal.events]
    assert uids == [ical.event_uid(event["id"])] + [ical.session_uid(s) for s in sessions]
    first = cal.events[0]
    assert str(first["summary"]) == event["title"]
    assert first["dtstart"].params["TZID"] == "Asia/Hong_Kong"
    assert first.start == datetime.fromisoformat(event["starts_at"])
    assert str(first["status"]) == "CONFIRMED"
    assert int(first["sequence"]) == event["revision"]
    assert str(first["organizer"]) == f"mailto:{partner.slug}@example.org"
    assert "HKCEC Hall 3" in str(first["location"])
    assert [str(tz["tzid"]) for tz in cal.timezones] == ["Asia/Hong_Kong"]


async def test_draft_calendar_is_404_and_cancelled_is_cancelled(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    draft = await create_event(client, partner, publish=False)
    assert_problem(await client.get(f"/api/v1/events/{draft['id']}/calendar.ics"), 404, "not-found")
    assert_problem(await client.get("/api/v1/events/nope/calendar.ics"), 404, "not-found")
    event = await create_event(client, partner)
    before = parse(await client.get(f"/api/v1/events/{event['id']}/calendar.ics"))
    await client.post(f"/api/v1/events/{event['id']}/cancel", headers=partner.auth)
    after = parse(await client.get(f"/api/v1/events/{event['id']}/calendar.ics"))
    assert str(after.events[0]["status"]) == "CANCELLED"
    assert int(after.events[0]["sequence"]) > int(before.events[0]["sequence"])


async def test_invite_request(client: httpx.AsyncClient, partner: Partner) -> None:
    event, sessions = await summit(client, partner)
    reg = await register(client, event["id"], email("invite"), sessions=[sessions[1]])
    cal = parse(await client.get(reg["calendar"]))
    assert str(cal["method"]) == "REQUEST"
    uids = [str(e["uid"]) for e in cal.events]
    assert uids == [ical.invite_uid(reg["id"]), ical.invite_uid(reg["id"], sessions[1])]
    for vevent in cal.events:
        organizer = vevent["organizer"]
        assert str(organizer) == f"mailto:{partner.slug}@example.org"
        assert organizer.params["CN"] == "Hong Kong Talent Engage"
        attendee = vevent["attendee"]
        assert str(attendee) == f"mailto:{reg['email']}"
        assert attendee.params["PARTSTAT"] == "ACCEPTED"
        assert attendee.params["CN"] == "Chan Tai Man"
        assert reg["ticket_url"] in str(vevent["description"])
        assert str(vevent["url"]) == reg["ticket_url"]
        assert int(vevent["sequence"]) == event["revision"]
        assert str(vevent["status"]) == "CONFIRMED"
    assert str(cal.events[1]["summary"]).startswith("Track 2")
    assert cal.events[1]["dtstart"].params["TZID"] == "Asia/Hong_Kong"


async def test_invite_needs_the_token(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event["id"], email("token"))
    path = f"/api/v1/registrations/{reg['id']}/invite.ics"
    assert_problem(await client.get(path), 401, "unauthenticated")
    assert_problem(await client.get(path + "?token=wrong"), 404, "not-found")
    host = await client.get(path, headers=partner.auth)
    assert host.status_code == 200


async def test_waitlisted_invite_is_tentative(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, capacity=0, waitlist=True)
    reg = await register(client, event["id"], email("tentative"))
    assert reg["status"] == "waitlisted"
    cal = parse(await client.get(reg["calendar"]))
    assert str(cal["method"]) == "REQUEST"
    assert cal.events[0]["attendee"].params["PARTSTAT"] == "TENTATIVE"


async def test_cancelled_registration_invite_cancels(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event, sessions = await summit(client, partner)
    reg = await register(client, event["id"], email("cancel"), sessions=sessions)
    before = parse(await client.get(reg["calendar"]))
    cancelled = await client.post(
        f"/api/v1/registrations/{reg['id']}/cancel?token={reg['access_token']}"
    )
    assert cancelled.status_code == 200, cancelled.text
    after = parse(await client.get(reg["calendar"]))
    assert str(after["method"]) == "CANCEL"
    assert [str(e["uid"]) for e in after.events] == [str(e["uid"]) for e in before.events]
    for old, new in zip(before.events, after.events, strict=True):
        assert str(new["status"]) == "CANCELLED"
        assert int(new["sequence"]) > int(old["sequence"])
        assert "attendee" in new and "organizer" in new


async def test_cancelled_event_invite_cancels(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event["id"], email("evcancel"))
    before = parse(await client.get(reg["calendar"]))
    await client.post(f"/api/v1/events/{event['id']}/cancel", headers=partner.auth)
    after = parse(await client.get(reg["calendar"]))
    assert str(after["method"]) == "CANCEL"
    assert str(after.events[0]["status"]) == "CANCELLED"
    assert str(after.events[0]["uid"]) == str(before.events[0]["uid"])
    assert int(after.events[0]["sequence"]) > int(before.events[0]["sequence"])


async def test_moving_the_event_raises_sequence_in_invite_and_feeds(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    reg = await register(client, event["id"], email("move"))
    feed = (
        await client.get(f"/api/v1/registrations/{reg['id']}/feed?token={reg['access_token']}")
    ).json()["url"]
    partner_feed = (await client.get("/api/v1/feeds", headers=partner.auth)).json()["partner"]

    async def sequences() -> tuple[int, int, int]:
        invite = parse(await client.get(reg["calendar"]))
        mine = parse(await client.get(feed.removeprefix(BASE_URL)))
        hosted = parse(await client.get(partner_feed.removeprefix(BASE_URL)))
        uid = ical.event_uid(event["id"])
        return (
            int(invite.events[0]["sequence"]),
            int(
                next(e for e in mine.events if str(e["uid"]) == ical.invite_uid(reg["id"]))[
                    "sequence"
                ]
            ),
            int(next(e for e in hosted.events if str(e["uid"]) == uid)["sequence"]),
        )

    before = await sequences()
    later = datetime.fromisoformat(event["starts_at"]) + timedelta(hours=2)
    moved = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": later.isoformat()},
        headers=partner.auth,
    )
    assert moved.status_code == 200, moved.text
    after = await sequences()
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)
    invite = parse(await client.get(reg["calendar"]))
    assert invite.events[0].start == later


async def test_attendee_feed_covers_every_registration_of_the_email(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    address = email("feed")
    first = await create_event(client, partner, title="Fintech Seminar")
    second = await create_event(client, other_partner, title="AI Seminar")
    a = await register(client, first["id"], address)
    b = await register(client, second["id"], address.upper())
    link = await client.get(f"/api/v1/registrations/{a['id']}/feed?token={a['access_token']}")
    url = link.json()["url"]
    assert url.startswith(f"{BASE_URL}/api/v1/feeds/attendee/")
    cal = parse(await client.get(url.removeprefix(BASE_URL)))
    assert cal.get("method") is None
    assert {str(e["uid"]) for e in cal.events} == {
        ical.invite_uid(a["id"]),
        ical.invite_uid(b["id"]),
    }
    other = (
        await client.get(f"/api/v1/registrations/{b['id']}/feed?token={b['access_token']}")
    ).json()["url"]
    assert parse(await client.get(other.removeprefix(BASE_URL))).events
    forged = url[:-8] + "AAAA.ics"
    assert_problem(await client.get(forged.removeprefix(BASE_URL)), 404, "not-found")
    assert_problem(await client.get("/api/v1/feeds/attendee/short.ics"), 404, "not-found")


async def test_partner_feed(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    mine = await create_event(client, partner)
    draft = await create_event(client, partner, publish=False)
    theirs = await create_event(client, other_partner)
    assert_problem(await client.get("/api/v1/feeds"), 401, "unauthenticated")
    url = (await client.get("/api/v1/feeds", headers=partner.auth)).json()["partner"]
    cal = parse(await client.get(url.removeprefix(BASE_URL)))
    uids = {str(e["uid"]) for e in cal.events}
    assert ical.event_uid(mine["id"]) in uids
    assert ical.event_uid(draft["id"]) not in uids
    assert ical.event_uid(theirs["id"]) not in uids
    other_url = (await client.get("/api/v1/feeds", headers=other_partner.auth)).json()["partner"]
    partner_hex = UUID(partner.id).hex
    forged = other_url.replace(UUID(other_partner.id).hex, partner_hex)
    assert_problem(await client.get(forged.removeprefix(BASE_URL)), 404, "not-found")


def test_uid_and_sequence_format_is_stable() -> None:
    """Golden: calendars match copies by these; changing them duplicates every event."""
    rid = "7d1f6c1e-0000-4000-8000-000000000001"
    sid = "7d1f6c1e-0000-4000-8000-000000000002"
    assert ical.event_uid(rid) == f"event-{rid}@events"
    assert ical.session_uid(sid) == f"session-{sid}@events"
    assert ical.invite_uid(rid) == f"registration-{rid}@events"
    assert ical.invite_uid(rid, sid) == f"registration-{rid}-session-{sid}@events"
    assert ical.invite_sequence(3, "confirmed") == 3
    assert ical.invite_sequence(3, "waitlisted") == 3
    assert ical.invite_sequence(3, "cancelled") == 4


def test_calendar_links() -> None:
    zone = ZoneInfo("Asia/Hong_Kong")
    links = calendar_links.links(
        "Summit & Co",
        datetime(2027, 5, 20, 9, tzinfo=zone),
        datetime(2027, 5, 20, 18, tzinfo=zone),
        details="Ticket: https://x/t?token=a",
        location="HKCEC",
    )
    google = urlsplit(links.google)
    assert google.netloc == "calendar.google.com"
    query = parse_qs(google.query)
    assert query["dates"] == ["20270520T010000Z/20270520T100000Z"]
    assert query["text"] == ["Summit & Co"]
    assert query["details"] == ["Ticket: https://x/t?token=a"]
    outlook = parse_qs(urlsplit(links.outlook).query)
    assert urlsplit(links.outlook).netloc == "outlook.live.com"
    assert outlook["startdt"] == ["2027-05-20T01:00:00Z"]
    assert outlook["enddt"] == ["2027-05-20T10:00:00Z"]
    assert outlook["subject"] == ["Summit & Co"]


async def test_locale_and_cjk_text_survive(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, title="環球人才高峰會 2027")
    reg = await register(client, event["id"], email("cjk"), locale="zh-Hant")
    cal = parse(await client.get(reg["calendar"]))
    assert str(cal.events[0]["summary"]) == "環球人才高峰會 2027"
    assert "您的門票" in str(cal.events[0]["description"])


async def test_calendar_files_are_made_once_and_shared_until_they_change(
    client: httpx.AsyncClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second worker (no copy of its own) serves the file the first made, from the database;
    a change to the event makes a new one, never the old one again."""
    event = await create_event(client, partner)
    reg = await register(client, event["id"], email("shared"))
    calendar_url = f"/api/v1/events/{event['id']}/calendar.ics"
    first_invite, first_calendar = await client.get(reg["calendar"]), await client.get(calendar_url)

    def must_not_make(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("made again, though it was made before")

    rendered.forget_local()
    with monkeypatch.context() as patched:
        patched.setattr(ical, "render_invite", must_not_make)
        patched.setattr(ical, "build", must_not_make)
        assert (await client.get(reg["calendar"])).content == first_invite.content
        assert (await client.get(calendar_url)).content == first_calendar.content
    renamed = await client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Renamed Summit"}, headers=partner.auth
    )
    assert renamed.status_code == 200
    for url, before in ((reg["calendar"], first_invite), (calendar_url, first_calendar)):
        after = parse(await client.get(url))
        assert str(after.events[0]["summary"]).startswith("Renamed Summit")
        assert int(after.events[0]["sequence"]) > int(parse(before).events[0]["sequence"])
