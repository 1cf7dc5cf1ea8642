"""Mails to online attendees carry their personal join link and the host's instructions, in
their language, and the invite is at the join link; in-person attendees' mails stay at the venue.
The host's own meeting link is in none of them."""

from __future__ import annotations

import httpx

from events.db import Database
from events.settings import Settings
from tests.conftest import Clock, Partner, create_event
from tests.test_mail import Inbox, address, calendar_of, drain, inbox, make_worker, parts, register

__all__ = ["inbox"]  # the fixture, used by name

MEETING = "https://meet.example.com/secret-room-8841"


async def test_online_mail_carries_the_join_link(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(
        client,
        partner,
        format="hybrid",
        online={"url": MEETING, "instructions": "Camera on, please."},
        capacity=5,
    )
    remote = await register(
        client, event["id"], address("remote"), attendance="online", locale="zh-Hant"
    )
    seated = await register(client, event["id"], address("seated"))
    await drain(make_worker(db, settings, clock, inbox))
    [mail] = inbox.to(remote["email"])
    text = parts(mail)["text/plain"]
    assert remote["join_url"] in text and "Camera on, please." in text
    assert "線上參加" in text
    assert "secret-room" not in text + parts(mail)["text/html"] + cal_text(mail)
    assert not [p for p in mail.walk() if p.get_content_type() == "image/png"]  # no QR
    cal = calendar_of(mail)
    assert cal is not None
    assert str(cal.events[0]["location"]) == remote["join_url"]
    assert str(cal.events[0]["url"]) == remote["join_url"]
    [room] = inbox.to(seated["email"])
    room_cal = calendar_of(room)
    assert room_cal is not None and "HKCEC Hall 3" in str(room_cal.events[0]["location"])
    assert "/join/" not in room.as_string()


def cal_text(mail: object) -> str:
    from email.message import EmailMessage

    assert isinstance(mail, EmailMessage)
    return "".join(
        str(p.get_content()) for p in mail.walk() if p.get_content_type() == "text/calendar"
    )


async def test_switching_sends_the_changed_invite(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    """Into the room: a mail with the venue, the new QR ticket and an invite whose SEQUENCE
    passes the one before; back online: the join link, in the invite and the calendar links."""
    event = await create_event(
        client, partner, format="hybrid", online={"url": MEETING}, capacity=5
    )
    me = await register(client, event["id"], address("switcher"), attendance="online")
    await drain(make_worker(db, settings, clock, inbox))
    [first] = inbox.to(me["email"])
    first_cal = calendar_of(first)
    assert first_cal is not None
    google = [u for u in parts(first)["text/plain"].split() if "calendar.google.com" in u]
    assert google and "%2Fjoin%2F" in google[0] and "HKCEC" not in google[0]
    url = f"/api/v1/registrations/{me['id']}?token={me['access_token']}"
    seated = await client.patch(url, json={"attendance": "in_person"})
    assert seated.status_code == 200, seated.text
    await drain(make_worker(db, settings, clock, inbox))
    [_, second] = inbox.to(me["email"])
    assert second["X-Events-Mail"].startswith("edited;")
    cal = calendar_of(second)
    assert cal is not None and "HKCEC Hall 3" in str(cal.events[0]["location"])
    assert int(cal.events[0]["sequence"]) > int(first_cal.events[0]["sequence"])
    assert [p for p in second.walk() if p.get_content_type() == "image/png"]  # the new ticket
    assert "/join/" not in second.as_string()
    back = await client.patch(url, json={"attendance": "online"})
    assert back.status_code == 200, back.text
    await drain(make_worker(db, settings, clock, inbox))
    third = inbox.to(me["email"])[-1]
    third_cal = calendar_of(third)
    assert third_cal is not None
    assert str(third_cal.events[0]["location"]) == back.json()["join_url"]
    assert int(third_cal.events[0]["sequence"]) > int(cal.events[0]["sequence"])
    assert "HKCEC" not in parts(third)["text/plain"]
    assert "secret-room" not in third.as_string()
