"""Inbound mail for calendar replies: an SMTP/LMTP listener, or polling an IMAP mailbox.

`EVENTS_INBOUND_SMTP=host:port` (or `lmtp://host:port`): the worker listens there (aiosmtpd);
a mail relay forwards the reply domain to it. It accepts recipients at the reply address's
domain only (it is no relay) and answers each message once it is stored: 250 when handled
(whatever came of it — see `inbound_messages`), 451 when the database cannot be reached, so
the relay keeps the message and tries again.

`EVENTS_INBOUND_IMAP=imaps://user:password@host[:port]/INBOX` (imap:// for a plain
connection on a trusted network): the worker polls the mailbox every `poll_seconds` for unseen
messages, handles each and marks it seen; one it could not store stays unseen for the next
round. The recipient is read from Delivered-To / X-Original-To / To / Cc (a mailbox keeps no
envelope).

Both run only where background work runs (with the mail worker), and both need
`EVENTS_REPLY_ADDRESS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aioimaplib
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from events import itip, replies
from events.db import Database
from events.errors import DatabaseUnavailable
from events.settings import Settings

log = logging.getLogger("events.inbound")

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int
    lmtp: bool


def parse_listen(value: str) -> Listen:
    """`host:port`, `smtp://host:port` or `lmtp://host:port`."""
    lmtp = value.startswith("lmtp://")
    parts = urlsplit(value if "://" in value else f"smtp://{value}")
    if parts.scheme not in ("smtp", "lmtp") or not parts.hostname or not parts.port:
        raise ValueError("EVENTS_INBOUND_SMTP must look like host:port or lmtp://host:port")
    return Listen(parts.hostname, parts.port, lmtp)


class Handler:
    """aiosmtpd's hooks: recipients at the reply domain only; each message handled once."""

    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime]) -> None:
        assert settings.reply_address
        self.db = db
        self.base = settings.reply_address
        self.domain = settings.reply_address.rpartition("@")[2].lower()
        self.clock = clock
        self.via = "smtp"
        self.console_url = settings.base_url

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return "550 5.7.1 Not a reply address of this service"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await replies.receive(
                self.db,
                raw,
                recipients=[str(r) for r in envelope.rcpt_tos],
                base=self.base,
                via=self.via,
                now=self.clock(),
                mail_from=str(envelope.mail_from or ""),
                console_url=self.console_url,
            )
        except DatabaseUnavailable:
            return "451 4.3.0 Try again later"
        except Exception:
            log.exception("inbound message could not be handled")
            return "451 4.3.0 Try again later"
        log.info("calendar reply: %s (%s)", outcome.outcome, outcome.detail)
        return "250 OK"


@contextlib.asynccontextmanager
async def smtp_listening(
    db: Database, settings: Settings, clock: Callable[[], datetime]
) -> AsyncIterator[asyncio.AbstractServer]:
    assert settings.inbound_smtp
    where = parse_listen(settings.inbound_smtp)
    handler = Handler(db, settings, clock)
    handler.via = "lmtp" if where.lmtp else "smtp"
    kind = LMTP if where.lmtp else SMTP

    def protocol() -> SMTP:
        return kind(handler, data_size_limit=MAX_MESSAGE_BYTES, enable_SMTPUTF8=True)

    server = await asyncio.get_running_loop().create_server(protocol, where.host, where.port)
    log.info("listening for calendar replies on %s:%s (%s)", where.host, where.port, handler.via)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


# --- IMAP -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mailbox:
    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str


def parse_mailbox(url: str) -> Mailbox:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValueError("EVENTS_INBOUND_IMAP must look like imaps://user:password@host/INBOX")
    tls = parts.scheme == "imaps"
    return Mailbox(
        parts.hostname,
        parts.port or (993 if tls else 143),
        tls,
        unquote(parts.username),
        unquote(parts.password or ""),
        unquote(parts.path.lstrip("/")) or "INBOX",
    )


async def poll_once(db: Database, settings: Settings, now: datetime) -> int:
    """Handle every unseen message of the mailbox; returns how many were handled."""
    assert settings.inbound_imap and settings.reply_address
    box = parse_mailbox(settings.inbound_imap)
    client: aioimaplib.IMAP4
    if box.tls:
        client = aioimaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context())
    else:
        client = aioimaplib.IMAP4(box.host, box.port)
    await client.wait_hello_from_server()
    try:
        await _ok(client.login(box.user, box.password), "login")
        await _ok(client.select(box.folder), "select")
        found = await _ok(client.uid_search("UNSEEN"), "search")
        uids = [u for line in found.lines[:1] for u in bytes(line).decode().split() if u.isdigit()]
        handled = 0
        for uid in uids:
            fetched = await _ok(client.uid("fetch", uid, "(BODY.PEEK[])"), "fetch")
            raw = next((bytes(x) for x in fetched.lines if isinstance(x, bytearray)), None)
            if raw is None:
                continue
            message = itip.parse_message(raw)
            await replies.receive(
                db,
                raw,
                recipients=itip.recipients(message),
                base=settings.reply_address,
                via="imap",
                now=now,
                console_url=settings.base_url,
            )
            await _ok(client.uid("store", uid, "+FLAGS", "(\\Seen)"), "store")
            handled += 1
        return handled
    finally:
        with contextlib.suppress(Exception):
            await client.logout()


async def _ok(call: Any, what: str) -> Any:
    response = await call
    if response.result != "OK":
        raise ConnectionError(f"IMAP {what}: {response.result} {response.lines[-1:]!r}")
    return response


class Poller:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        poll_seconds: float = 30.0,
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.poll_seconds = poll_seconds
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await poll_once(self.db, self.settings, self.clock())
            except Exception as exc:  # the mailbox or the database is away: next round
                log.warning("IMAP poll failed: %s: %s", exc.__class__.__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    def stop(self) -> None:
        self._stopping.set()


@contextlib.asynccontextmanager
async def running(
    db: Database, settings: Settings, *, clock: Callable[[], datetime]
) -> AsyncIterator[None]:
    """The inbound listener and poller that the settings ask for (with background work)."""
    if not settings.mail_worker or not settings.reply_address:
        yield
        return
    async with contextlib.AsyncExitStack() as stack:
        if settings.inbound_smtp:
            await stack.enter_async_context(smtp_listening(db, settings, clock))
        if settings.inbound_imap:
            poller = Poller(db, settings, clock)
            task = asyncio.create_task(poller.run(), name="imap-poller")
            stack.callback(task.cancel)
            stack.callback(poller.stop)
        yield
