"""Calendar replies: declining the invite in a calendar frees the seat; forgeries change nothing.

Replies are real messages (tests/itip_messages.py: Outlook, Gmail and Apple Calendar shapes),
sent over real SMTP to the service's listener (aiosmtpd on loopback).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID, uuid4

import aiosmtplib
import httpx
import icalendar
import pytest
from aiosmtpd.smtp import Envelope
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from events import inbound, replies, reply_address
from events.db import Database
from events.queries import partner_mail as partner_mail_q
from events.settings import Settings
from tests import dovecot
from tests.conftest import Clock, Partner, create_event
from tests.factories import register
from tests.itip_messages import PROGRAMS, reply_mail
from tests.test_mail import Inbox, address, calendar_of, drain, free_port, make_worker
from tests.test_web_console import new_event, signed_in
from tests.test_web_console_desk import rows

REPLY_BASE = "events-reply@replies.example.org"


@pytest.fixture
def mailbox() -> Iterator[Inbox]:
    box = Inbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def replying(app: Starlette, settings: Settings) -> Iterator[Settings]:
    """The app with EVENTS_REPLY_ADDRESS set (restored afterwards)."""
    changed = settings.replace(reply_address=REPLY_BASE)
    app.state.settings = changed
    yield changed
    app.state.settings = settings


@pytest.fixture
async def listener(db: Database, replying: Settings, clock: Clock) -> AsyncIterator[int]:
    port = free_port()
    with_smtp = replying.replace(inbound_smtp=f"127.0.0.1:{port}")
    async with inbound.smtp_listening(db, with_smtp, clock):
        yield port


async def invite_of(client: httpx.AsyncClient, registration: dict[str, Any]) -> icalendar.Calendar:
    response = await client.get(registration["calendar"])
    assert response.status_code == 200, response.text
    return icalendar.Calendar.from_ical(response.content)


def organizer_of(invite: icalendar.Calendar) -> str:
    return str(invite.events[0]["organizer"]).removeprefix("mailto:")


async def status(client: httpx.AsyncClient, registration: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/registrations/{registration['id']}",
        params={"token": registration["access_token"]},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(port: int, raw: bytes, to: str, sender: str = "someone@example.org") -> None:
    await aiosmtplib.send(raw, sender=sender, recipients=[to], hostname="127.0.0.1", port=port)


async def inbound_rows(db: Database, registration_id: str | None = None) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        found = await replies.inbound(conn, limit=500)
    if registration_id is None:
        return found
    return [r for r in found if str(r["registration_id"]) == registration_id]


async def full_event(
    client: httpx.AsyncClient, partner: Partner, **changes: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An event of one seat: a confirmed attendee and one on the waitlist."""
    event = await create_event(client, partner, capacity=1, waitlist=True, **changes)
    seated = await register(client, event["id"], address("seated"))
    waiting = await register(client, event["id"], address("waiting"))
    assert (seated["status"], waiting["status"]) == ("confirmed", "waitlisted")
    return event, seated, waiting


async def test_each_invite_names_its_registrations_reply_address(
    client: httpx.AsyncClient, partner: Partner, replying: Settings, db: Database
) -> None:
    event = await create_event(client, partner)
    one = await register(client, event["id"], address("one"))
    two = await register(client, event["id"], address("two"))
    invite_one, invite_two = await invite_of(client, one), await invite_of(client, two)
    first, second = organizer_of(invite_one), organizer_of(invite_two)
    assert first != second
    for found, registration in ((first, one), (second, two)):
        assert found.startswith("events-reply+") and found.endswith("@replies.example.org")
        assert len(found.partition("@")[0]) <= 64
        async with db.connection() as conn:
            secret = await replies.keys.server_secret(conn, "reply")
        assert reply_address.registration_of(REPLY_BASE, secret, found) == UUID(registration["id"])
    # every VEVENT carries it, and the organiser's own name stays as CN
    for vevent in invite_one.events:
        assert str(vevent["organizer"]).removeprefix("mailto:") == first
        assert vevent["organizer"].params["CN"] == "Hong Kong Talent Engage"


async def test_without_a_reply_address_invites_name_the_organiser(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    one = await register(client, event["id"], address("one"))
    assert "events-reply" not in organizer_of(await invite_of(client, one))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
async def test_a_decline_frees_the_seat_for_the_waitlist_head(
    client: httpx.AsyncClient,
    partner: Partner,
    listener: int,
    db: Database,
    program: str,
) -> None:
    event, seated, waiting = await full_event(client, partner)
    invite = await invite_of(client, seated)
    raw = reply_mail(invite, to=organizer_of(invite), attendee=seated["email"], program=program)
    await send(listener, raw, organizer_of(invite), seated["email"])

    assert (await status(client, seated))["status"] == "cancelled"
    promoted = await status(client, waiting)
    assert promoted["status"] == "confirmed" and promoted["ticket"] is not None
    # a CANCEL goes back to the decliner, exactly as for their own cancellation
    cancelled_invite = await invite_of(client, seated)
    assert str(cancelled_invite["method"]) == "CANCEL"
    async with db.connection() as conn:
        kinds = await conn.fetch(
            "SELECT kind FROM mail_outbox WHERE registration_id = ANY($1::uuid[]) ORDER BY id",
            [seated["id"], waiting["id"]],
        )
    assert [k["kind"] for k in kinds][-2:] == ["cancellation", "promotion"]
    [kept] = await inbound_rows(db, seated["id"])
    assert (kept["outcome"], kept["partstat"], kept["via"]) == ("applied", "DECLINED", "smtp")
    stats = await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)
    assert stats.json()["confirmed"] == 1 and stats.json()["waitlisted"] == 0


async def test_the_same_decline_twice_changes_nothing_more(
    client: httpx.AsyncClient, partner: Partner, listener: int, db: Database
) -> None:
    event, seated, waiting = await full_event(client, partner)
    third = await register(client, event["id"], address("third"))
    invite = await invite_of(client, seated)
    raw = reply_mail(invite, to=organizer_of(invite), attendee=seated["email"])
    await send(listener, raw, organizer_of(invite))
    await send(listener, raw, organizer_of(invite))
    assert (await status(client, waiting))["status"] == "confirmed"
    assert (await status(client, third))["status"] == "waitlisted"  # one seat freed, not two
    assert [r["outcome"] for r in await inbound_rows(db, seated["id"])] == [
        "unchanged",
        "applied",
    ]


async def test_forged_replies_change_nothing_and_are_kept(
    client: httpx.AsyncClient, partner: Partner, listener: int, db: Database
) -> None:
    _, seated, waiting = await full_event(client, partner)
    invite = await invite_of(client, seated)
    own = organizer_of(invite)
    other = await register(client, (await create_event(client, partner))["id"], address("o"))
    other_invite = await invite_of(client, other)

    # a made-up secret for a real registration id
    async with db.connection() as conn:
        secret = await replies.keys.server_secret(conn, "reply")
    forged = reply_address.make_address(REPLY_BASE, b"x" * 32, UUID(seated["id"]))
    assert reply_address.registration_of(REPLY_BASE, secret, forged) is None
    attempts = [
        (forged, reply_mail(invite, to=forged, attendee=seated["email"])),
        # another registration's UID, sent to this registration's address
        (own, reply_mail(other_invite, to=own, attendee=seated["email"])),
        # another attendee declining in this registration's name
        (own, reply_mail(invite, to=own, attendee="intruder@example.org")),
        # not a reply: the invite itself bounced back
        (own, reply_mail(invite, to=own, attendee=seated["email"], method="REQUEST")),
    ]
    for to, raw in attempts:
        await send(listener, raw, to)
    assert (await status(client, seated))["status"] == "confirmed"
    assert (await status(client, waiting))["status"] == "waitlisted"
    assert (await status(client, other))["status"] == "confirmed"
    outcomes = [r["outcome"] for r in (await inbound_rows(db))[:4]]
    assert outcomes == ["invalid", "rejected", "rejected", "rejected"]


async def test_messages_without_a_readable_calendar_are_kept_as_invalid(
    client: httpx.AsyncClient, partner: Partner, listener: int, db: Database
) -> None:
    _, seated, _ = await full_event(client, partner)
    to = organizer_of(await invite_of(client, seated))
    plain = (
        f"From: x@example.org\r\nTo: {to}\r\nSubject: Out of office\r\n\r\nI am away.\r\n"
    ).encode()
    broken = (
        f"From: x@example.org\r\nTo: {to}\r\nSubject: Declined\r\n"
        "Content-Type: text/calendar; method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nnot a calendar\r\n"
    ).encode()
    await send(listener, plain, to)
    await send(listener, broken, to)
    kept = await inbound_rows(db, None)
    assert [(r["outcome"], r["registration_id"]) for r in kept[:2]] == [
        ("invalid", None),
        ("invalid", None),
    ]
    assert "calendar" in kept[0]["detail"] and "calendar" in kept[1]["detail"]
    assert (await status(client, seated))["status"] == "confirmed"


async def test_accept_and_tentative_are_recorded(
    client: httpx.AsyncClient, partner: Partner, listener: int, db: Database, clock: Clock
) -> None:
    event = await create_event(client, partner)
    one = await register(client, event["id"], address("one"))
    invite = await invite_of(client, one)
    to = organizer_of(invite)
    await send(listener, reply_mail(invite, to=to, attendee=one["email"], partstat="ACCEPTED"), to)
    first = await status(client, one)
    assert first["status"] == "confirmed" and first["accepted_at"] is not None
    assert first["calendar_reply"] == "ACCEPTED"
    await send(listener, reply_mail(invite, to=to, attendee=one["email"], partstat="TENTATIVE"), to)
    await send(listener, reply_mail(invite, to=to, attendee=one["email"], partstat="ACCEPTED"), to)
    again = await status(client, one)
    assert again["accepted_at"] == first["accepted_at"]  # the first accept is what counts
    assert again["status"] == "confirmed" and again["calendar_reply"] == "ACCEPTED"


@pytest.mark.parametrize(("rule", "outcome"), [("notify", "notified"), ("ignore", "ignored")])
async def test_notify_and_ignore_keep_the_seat(
    client: httpx.AsyncClient,
    partner: Partner,
    listener: int,
    db: Database,
    app: Starlette,
    rule: str,
    outcome: str,
) -> None:
    event, seated, waiting = await full_event(client, partner, calendar_replies=rule)
    assert event["calendar_replies"] == rule
    invite = await invite_of(client, seated)
    to = organizer_of(invite)
    await send(listener, reply_mail(invite, to=to, attendee=seated["email"]), to)
    assert (await status(client, seated))["status"] == "confirmed"
    assert (await status(client, waiting))["status"] == "waitlisted"
    [kept] = await inbound_rows(db, seated["id"])
    assert kept["outcome"] == outcome
    listed = await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    mine = next(r for r in listed.json()["items"] if r["id"] == seated["id"])
    assert mine["calendar_reply"] == "DECLINED"  # the hosts see the decline, in the API ...
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}/attendees")
    row = next(r for r in rows(page) if seated["email"] in r)
    assert "Declined in their calendar" in row  # ... and on the console's attendee desk
    await console.aclose()
    async with db.connection() as conn:  # ... and with notify, each host is mailed
        mailed = await partner_mail_q.sent_to(conn, f"{partner.slug}@example.org")
    notices = [m for m in mailed if m["kind"] == "calendar-decline"]
    assert len(notices) == (1 if rule == "notify" else 0)
    if notices:
        assert seated["email"] in notices[0]["body"] and "/attendees" in notices[0]["body"]


async def test_the_rule_is_an_event_field(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, publish=False)
    assert event["calendar_replies"] == "cancel"
    patched = await client.patch(
        f"/api/v1/events/{event['id']}", json={"calendar_replies": "notify"}, headers=partner.auth
    )
    assert patched.status_code == 200 and patched.json()["calendar_replies"] == "notify"
    bad = await client.patch(
        f"/api/v1/events/{event['id']}", json={"calendar_replies": "maybe"}, headers=partner.auth
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "calendar_replies"


async def test_the_listener_is_not_a_relay(listener: int) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(listener, b"Subject: hi\r\n\r\nhello\r\n", "someone@elsewhere.example.com")


async def test_a_database_outage_defers_the_message(
    db: Database, replying: Settings, clock: Clock
) -> None:
    """The listener answers 451 (try again later) when it cannot store what it received."""
    broken = Database("postgresql://nobody@127.0.0.1:1/none", connect_timeout=0.5)
    handler = inbound.Handler(broken, replying, clock)

    envelope = Envelope()
    envelope.original_content = b"Subject: x\r\n\r\ny\r\n"
    envelope.rcpt_tos = [reply_address.make_address(REPLY_BASE, b"k" * 32, uuid4())]
    envelope.mail_from = "x@example.org"
    answer = await handler.handle_DATA(None, None, envelope)  # type: ignore[arg-type]
    assert answer.startswith("451")


@given(
    st.uuids(), st.binary(min_size=32, max_size=32), st.integers(0, 41), st.sampled_from("abz27")
)
def test_reply_addresses_round_trip_and_any_change_is_refused(
    registration_id: UUID, secret: bytes, position: int, replacement: str
) -> None:
    made = reply_address.make_address(REPLY_BASE, secret, registration_id)
    assert reply_address.registration_of(REPLY_BASE, secret, made) == registration_id
    assert reply_address.registration_of(REPLY_BASE, secret, made.upper()) == registration_id
    local, _, domain = made.partition("@")
    prefix, _, token = local.partition("+")
    if token[position] != replacement:
        changed = f"{prefix}+{token[:position]}{replacement}{token[position + 1 :]}@{domain}"
        assert reply_address.registration_of(REPLY_BASE, secret, changed) is None
    assert reply_address.registration_of(REPLY_BASE, secret, f"{prefix}+{token}@other.org") is None
    assert reply_address.registration_of(REPLY_BASE, secret, f"{prefix}@{domain}") is None


@pytest.fixture
def imap_box() -> Iterator[dovecot.Dovecot]:
    if not dovecot.available():
        if os.environ.get("CI"):
            pytest.fail("dovecot is missing (scripts/test installs dovecot-imapd)")
        pytest.skip("Debian's dovecot-imapd is not installed")
    with dovecot.running() as box:
        yield box


async def test_replies_polled_from_an_imap_mailbox(
    client: httpx.AsyncClient,
    partner: Partner,
    replying: Settings,
    db: Database,
    clock: Clock,
    imap_box: dovecot.Dovecot,
) -> None:
    event, seated, waiting = await full_event(client, partner)
    accepting = await register(client, event["id"], address("accepting"))
    declined_invite = await invite_of(client, seated)
    accepted_invite = await invite_of(client, accepting)
    # as a mailbox holds them: the envelope is gone, the reply address is in Delivered-To/To
    imap_box.deliver(
        b"Delivered-To: "
        + organizer_of(declined_invite).encode()
        + b"\r\n"
        + reply_mail(
            declined_invite,
            to="Organiser <events-reply@replies.example.org>",
            attendee=seated["email"],
            program="outlook",
        )
    )
    imap_box.deliver(
        reply_mail(
            accepted_invite,
            to=organizer_of(accepted_invite),
            attendee=accepting["email"],
            partstat="ACCEPTED",
            program="apple",
        )
    )
    imap_box.deliver(
        b"From: x@example.org\r\nTo: postmaster@replies.example.org\r\n"
        b"Subject: hello\r\n\r\nnot a reply\r\n"
    )
    polling = replying.replace(inbound_imap=imap_box.url())

    assert await inbound.poll_once(db, polling, clock()) == 3
    assert (await status(client, seated))["status"] == "cancelled"
    assert (await status(client, waiting))["status"] == "confirmed"
    assert (await status(client, accepting))["accepted_at"] is not None
    assert len(imap_box.seen()) == 3  # each handled message is marked seen ...
    assert await inbound.poll_once(db, polling, clock()) == 0  # ... and not read again
    kept = await inbound_rows(db)
    assert [(r["via"], r["outcome"]) for r in kept[:3]] == [
        ("imap", "rejected"),
        ("imap", "applied"),
        ("imap", "applied"),
    ]


async def test_a_wrong_imap_password_raises_and_handles_nothing(
    db: Database, replying: Settings, clock: Clock, imap_box: dovecot.Dovecot
) -> None:
    wrong = imap_box.url().replace(imap_box.password, "wrong-password")
    with pytest.raises(ConnectionError):
        await inbound.poll_once(db, replying.replace(inbound_imap=wrong), clock())


async def test_the_operator_lists_inbound_messages(
    client: httpx.AsyncClient, partner: Partner, listener: int, settings: Settings
) -> None:
    _, seated, _ = await full_event(client, partner)
    invite = await invite_of(client, seated)
    to = organizer_of(invite)
    await send(listener, reply_mail(invite, to=to, attendee="intruder@example.org"), to)
    env = {**os.environ, "DATABASE_URL": str(settings.database_url)}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "events", "inbound", "list", "--outcome", "rejected"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line) for line in done.stdout.splitlines()]
    assert listed and all(m["outcome"] == "rejected" for m in listed)
    assert any(m["recipient"] == to and "another attendee" in m["detail"] for m in listed)


async def test_the_mailed_invite_carries_the_same_reply_address(
    client: httpx.AsyncClient,
    partner: Partner,
    replying: Settings,
    db: Database,
    clock: Clock,
    mailbox: Inbox,
) -> None:
    event = await create_event(client, partner)
    one = await register(client, event["id"], address("mailed"))
    await drain(make_worker(db, replying, clock, mailbox))
    [mail] = mailbox.to(one["email"])
    mailed = calendar_of(mail)
    assert mailed is not None
    assert organizer_of(mailed) == organizer_of(await invite_of(client, one))
    assert organizer_of(mailed).startswith("events-reply+")


async def test_the_console_sets_the_events_rule(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    console = await signed_in(app, db, partner)
    event_id, page = await new_event(console, calendar_replies="notify")
    assert '<option value="notify" selected>' in page.text
    read = await client.get(f"/api/v1/events/{event_id}", headers=partner.auth)
    assert read.json()["calendar_replies"] == "notify"
    await console.aclose()
