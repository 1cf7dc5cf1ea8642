"""Mail through the outbox, delivered to a real SMTP server (aiosmtpd) in the test process."""

from __future__ import annotations

import asyncio
import email
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import icalendar
import pytest
from aiosmtpd.controller import Controller
from ical.calendar_stream import IcsCalendarStream

from events import ical, mail
from events.app import create_app
from events.db import Database
from events.embedded import EmbeddedPostgres
from events.errors import DatabaseUnavailable
from events.queries import mail as mail_q
from events.settings import Settings
from tests.conftest import BASE_URL, Clock, Partner, create_event, make_partner
from tests.factories import register


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """An SMTP server's mailbox; addresses containing 'bounce' are refused for good (550)."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if "bounce" in address:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.start()
    yield box
    box.stop()


def make_worker(db: Database, settings: Settings, clock: Clock, inbox: Inbox) -> mail.MailWorker:
    return mail.MailWorker(db, settings.replace(smtp_url=inbox.url), clock=clock)


async def drain(*workers: mail.MailWorker) -> None:
    """Run rounds until nothing is due (the clock does not move)."""
    for _ in range(200):
        claimed = await asyncio.gather(*(w.run_once() for w in workers))
        if not any(claimed):
            return
    raise AssertionError("the outbox never drained")


def address(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(4)}@example.org"


def calendar_of(message: EmailMessage) -> icalendar.Calendar | None:
    """The invite inside a mail; the inline part and the attachment are the same file."""
    inline = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    attached = [p for p in message.walk() if p.get_content_type() == "application/ics"]
    if not inline:
        assert not attached
        return None
    assert len(inline) == 1 and len(attached) == 1
    text = inline[0].get_content()
    assert attached[0].get_content().decode() == text
    cal = icalendar.Calendar.from_ical(text)
    IcsCalendarStream.calendar_from_ics(text)
    assert inline[0].get_param("method") == str(cal["method"])
    assert not cal.get_missing_tzids()
    return cal


def parts(message: EmailMessage) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_attachment():
            found[part.get_content_type()] = part.get_content()
    return found


def sequence(message: EmailMessage) -> int:
    cal = calendar_of(message)
    assert cal is not None
    return int(cal.events[0]["sequence"])


async def outbox(db: Database, registration_id: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        return await mail_q.of_registration(conn, UUID(registration_id))


async def test_every_kind_arrives(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    worker = make_worker(db, settings, clock, inbox)
    event = await create_event(client, partner, capacity=1, waitlist=True)
    a = await register(client, event["id"], address("first"))
    b = await register(client, event["id"], address("second"))
    assert (a["status"], b["status"]) == ("confirmed", "waitlisted")
    await drain(worker)

    [confirmation] = inbox.to(a["email"])
    assert confirmation["Subject"] == f"Registered: {event['title']}"
    text = parts(confirmation)
    assert a["ticket_url"] in text["text/plain"] and "Show the QR ticket" in text["text/plain"]
    assert "calendar.google.com" in text["text/plain"] and "outlook.live.com" in text["text/plain"]
    assert "<img src='cid:" in text["text/html"]
    assert "attached invite puts it in your calendar" in text["text/plain"]
    assert confirmation["Reply-To"] == f"{partner.slug}@example.org"
    [qr] = [p for p in confirmation.walk() if p.get_content_type() == "image/png"]
    assert (
        qr.get_content().startswith(b"\x89PNG")
        and qr["Content-ID"].strip("<>") in text["text/html"]
    )
    invite = calendar_of(confirmation)
    assert invite is not None and str(invite["method"]) == "REQUEST"
    assert str(invite.events[0]["uid"]) == ical.invite_uid(a["id"])
    [waitlisted] = inbox.to(b["email"])
    assert waitlisted["Subject"] == f"On the waitlist: {event['title']}"
    assert "number 1 on the waitlist" in parts(waitlisted)["text/plain"]
    assert calendar_of(waitlisted) is None  # no seat yet: nothing for the calendar

    moved = await client.patch(
        f"/api/v1/events/{event['id']}", json={"title": "Moved Summit"}, headers=partner.auth
    )
    assert moved.status_code == 200
    await drain(worker)
    update = inbox.to(a["email"])[-1]
    assert update["Subject"] == "Changed: Moved Summit"
    assert sequence(update) > sequence(confirmation)
    waitlisted_update = inbox.to(b["email"])[-1]
    assert waitlisted_update["Subject"] == "Changed: Moved Summit"
    assert calendar_of(waitlisted_update) is None
    assert "attached" not in parts(waitlisted_update)["text/plain"]

    cancelled = await client.post(
        f"/api/v1/registrations/{a['id']}/cancel?token={a['access_token']}"
    )
    assert cancelled.status_code == 200
    await drain(worker)
    cancellation = inbox.to(a["email"])[-1]
    assert cancellation["Subject"] == "Registration cancelled: Moved Summit"
    cancel_invite = calendar_of(cancellation)
    assert cancel_invite is not None and str(cancel_invite["method"]) == "CANCEL"
    assert str(cancel_invite.events[0]["status"]) == "CANCELLED"
    assert sequence(cancellation) > sequence(update)
    promotion = inbox.to(b["email"])[-1]
    assert promotion["Subject"] == "A seat is yours: Moved Summit"
    assert [p for p in promotion.walk() if p.get_content_type() == "image/png"]
    promoted_invite = calendar_of(promotion)
    assert promoted_invite is not None and str(promoted_invite["method"]) == "REQUEST"

    await client.post(f"/api/v1/events/{event['id']}/cancel", headers=partner.auth)
    await drain(worker)
    gone = inbox.to(b["email"])[-1]
    assert gone["Subject"] == "Cancelled: Moved Summit"
    gone_invite = calendar_of(gone)
    assert gone_invite is not None and str(gone_invite["method"]) == "CANCEL"
    assert len(inbox.to(a["email"])) == 3 and len(inbox.to(b["email"])) == 4
    for row in await outbox(db, a["id"]) + await outbox(db, b["id"]):
        assert row["status"] == "sent" and row["sent_at"] is not None


async def test_mail_speaks_the_registrations_language(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner, title="環球人才高峰會")
    hant = await register(client, event["id"], address("hant"), locale="zh-Hant", name="陳大文")
    hans = await register(client, event["id"], address("hans"), locale="zh-Hans")
    await drain(make_worker(db, settings, clock, inbox))
    [traditional] = inbox.to(hant["email"])
    assert traditional["Subject"] == "報名成功：環球人才高峰會"
    assert "陳大文 您好" in parts(traditional)["text/plain"]
    assert "加入 Google 日曆" in parts(traditional)["text/html"]
    assert "陳大文" in str(traditional["To"])
    [simplified] = inbox.to(hans["email"])
    assert simplified["Subject"] == "报名成功：環球人才高峰會"
    assert "二维码门票" in parts(simplified)["text/plain"]


async def test_changing_the_time_raises_sequence_in_the_update_mail(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    worker = make_worker(db, settings, clock, inbox)
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("time"))
    await drain(worker)
    later = (clock() + timedelta(days=40)).replace(microsecond=0)
    moved = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat()},
        headers=partner.auth,
    )
    assert moved.status_code == 200
    await drain(worker)
    first, update = inbox.to(a["email"])
    assert sequence(update) == sequence(first) + 1 == moved.json()["revision"]
    cal = calendar_of(update)
    assert cal is not None and cal.events[0].start == later


async def test_smtp_down_at_first_gets_the_mail_once_back(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    inbox = Inbox()  # not started: connections are refused
    worker = make_worker(db, settings, clock, inbox)
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("down"))
    await drain(worker)
    [row] = await outbox(db, a["id"])
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
    inbox.start()
    try:
        await drain(worker)
        assert inbox.to(a["email"]) == []  # backing off: not due yet
        clock.offset += mail.backoff(1) + timedelta(seconds=1)
        await drain(worker)
        assert len(inbox.to(a["email"])) == 1
        [row] = await outbox(db, a["id"])
        assert row["status"] == "sent" and row["attempts"] == 2
    finally:
        inbox.stop()


async def test_permanent_refusal_is_kept_as_failed(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("bounce"))
    await drain(make_worker(db, settings, clock, inbox))
    [row] = await outbox(db, a["id"])
    assert row["status"] == "failed" and "550" in row["last_error"]
    assert inbox.to(a["email"]) == []


async def test_two_workers_never_send_one_message_twice(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner, capacity=50)
    regs = [await register(client, event["id"], address(f"race{i}")) for i in range(24)]
    one = mail.MailWorker(db, settings.replace(smtp_url=inbox.url), clock=clock, batch=3)
    two = mail.MailWorker(db, settings.replace(smtp_url=inbox.url), clock=clock, batch=3)
    await drain(one, two)
    for r in regs:
        assert len(inbox.to(r["email"])) == 1, r["email"]
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == len(set(ids))


async def test_a_mail_no_longer_true_is_superseded(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("gone"))
    await client.post(f"/api/v1/registrations/{a['id']}/cancel?token={a['access_token']}")
    await drain(make_worker(db, settings, clock, inbox))
    [only] = inbox.to(a["email"])
    assert only["Subject"].startswith("Registration cancelled")
    assert [r["status"] for r in await outbox(db, a["id"])] == ["superseded", "sent"]


async def test_same_change_is_queued_once(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    """A registration cancelled after its event was cancelled is not told twice."""
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("once"))
    await client.post(f"/api/v1/events/{event['id']}/cancel", headers=partner.auth)
    await client.post(f"/api/v1/registrations/{a['id']}/cancel", headers=partner.auth)
    kinds = [r["kind"] for r in await outbox(db, a["id"])]
    assert kinds == ["confirmation", "cancellation"]


async def test_without_smtp_mail_is_logged_and_kept(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's own worker (EVENTS_MAIL_WORKER) runs in its lifespan and stops with it."""
    caplog.set_level(logging.INFO, logger="events.mail")
    application = create_app(settings.replace(mail_worker=True, smtp_url=None), clock=clock)
    async with application.router.lifespan_context(application):
        worker = application.state.mail_worker
        assert isinstance(worker, mail.MailWorker) and worker.logging_only
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            partner = await make_partner(application.state.db)
            event = await create_event(client, partner)
            a = await register(client, event["id"], address("logged"))
            rows = await wait_for(lambda: outbox(application.state.db, a["id"]), "logged")
    assert rows[0]["sent_at"] is not None
    assert any(a["email"] in r.getMessage() for r in caplog.records)
    assert worker._stopping.is_set()


async def wait_for(read: Callable[[], Any], status: str) -> list[dict[str, Any]]:
    """Wait for a worker running on its own to get somewhere (real time, not the app's clock)."""
    async with asyncio.timeout(20):
        while True:
            rows: list[dict[str, Any]] = await read()
            if rows and all(r["status"] == status for r in rows):
                return rows
            await asyncio.sleep(0.05)


# --- a PostgreSQL restart, on a server of our own -------------------------------------------


@pytest.fixture(scope="module")
async def own_postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    folder: Path = tmp_path_factory.mktemp("mail-pg")
    await asyncio.to_thread(folder.chmod, 0o755)
    server = EmbeddedPostgres(folder)
    url = await asyncio.to_thread(server.start)
    yield server, url
    await asyncio.to_thread(server.stop)


async def test_postgres_restart_while_mail_is_queued_loses_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], clock: Clock, inbox: Inbox
) -> None:
    server, url = own_postgres
    settings = Settings(database_url=url, base_url=BASE_URL, rate_limits="off", mail_worker=False)
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        db: Database = application.state.db
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            partner = await make_partner(db)
            event = await create_event(client, partner, capacity=100)
            regs = [await register(client, event["id"], address(f"pg{i}")) for i in range(6)]

        # The database goes away after the first mail is handed to SMTP, before its outcome
        # is stored; the loop keeps going until it is back, and then sends the rest.
        killed = asyncio.Event()
        smtp = mail.smtp_sender(inbox.url)

        async def send_then_kill(message: EmailMessage) -> None:
            await smtp(message)
            if not killed.is_set():
                killed.set()
                await asyncio.to_thread(server.kill_for_test)

        worker = mail.MailWorker(
            db, settings, clock=clock, send=send_then_kill, batch=1, poll_seconds=0.05
        )
        with pytest.raises(DatabaseUnavailable):
            await worker.run_once()
        assert len(inbox.messages) == 1 and len(worker._unrecorded) == 1
        running = asyncio.create_task(worker.run())
        while worker.failed_rounds < 2:  # rounds fail while the server is down, the loop goes on
            assert not running.done()
            await asyncio.sleep(0.01)
        await asyncio.to_thread(server.restart_for_test)
        for r in regs:
            await wait_for(lambda r=r: outbox(db, r["id"]), "sent")
        worker.stop()
        await asyncio.wait_for(running, 10)
    for r in regs:
        assert len(inbox.to(r["email"])) == 1, r["email"]


async def test_stop_lets_the_mail_in_hand_finish(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    """SIGTERM: the app stops the worker; a mail being sent is finished and recorded."""
    await drain(make_worker(db, settings, clock, inbox))  # older mail out of the way
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("sigterm"))
    started, release = asyncio.Event(), asyncio.Event()
    smtp = mail.smtp_sender(inbox.url)

    async def slow_send(message: EmailMessage) -> None:
        started.set()
        await release.wait()
        await smtp(message)

    worker = mail.MailWorker(db, settings, clock=clock, send=slow_send, poll_seconds=0.05)
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()
    assert not running.done()
    release.set()
    await asyncio.wait_for(running, 10)
    [row] = await outbox(db, a["id"])
    assert row["status"] == "sent" and len(inbox.to(a["email"])) == 1


async def test_a_lapsed_lease_is_taken_over(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    """A worker that died holding a claim: after the lease another worker sends the mail."""
    await drain(make_worker(db, settings, clock, inbox))
    event = await create_event(client, partner)
    a = await register(client, event["id"], address("lease"))
    async with db.connection() as conn:
        claimed = await mail_q.claim(conn, clock(), lease_seconds=300, limit=100)
    assert UUID(a["id"]) in {r["registration_id"] for r in claimed}
    worker = make_worker(db, settings, clock, inbox)
    await drain(worker)
    assert inbox.to(a["email"]) == []
    clock.offset += timedelta(seconds=301)
    await drain(worker)
    assert len(inbox.to(a["email"])) == 1
