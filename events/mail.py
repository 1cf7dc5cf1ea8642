"""Mail to attendees through a transactional outbox, delivered after commit by a worker.

Queueing: triggers (migration 0004) write one `mail_outbox` row per mail in the very
statement that changes a registration or an event, so the registration hot path pays no
extra round trip, a mail is never queued for a change that rolled back, and never lost for
one that committed. A unique (kind, registration, revision) means one change → one mail.

Delivering (`MailWorker`, started by the app when EVENTS_MAIL_WORKER is on): a loop that
never touches the database itself; each round runs in a fresh task that
  1. claims a few due rows in one statement (`FOR UPDATE SKIP LOCKED` + a lease), so two
     workers (or processes) never take the same row;
  2. delivers each in its own task: read what the mail says (its own short read), render,
     send with aiosmtplib to SMTP_URL (or, without SMTP_URL, write it to the log);
  3. records the outcome in one statement guarded by the claim. Transient failures (server
     down, 4xx) retry with exponential backoff (30 s doubling, at most an hour), forever;
     a 5xx refusal marks the row failed, and so does a mail that cannot be built (a header
     it cannot carry): its reason in `last_error`, listed by `python -m events mail failed`;
     the rows behind it go on. Nothing is ever deleted.
A sent mail whose outcome cannot be recorded (the database went away) is remembered and
recorded first thing once the database is back, so a PostgreSQL restart resends nothing.
The loop survives database outages (it backs off and goes on) and stops cleanly: `stop()`
ends claiming, lets the round in hand finish, and returns.

The mail is rendered from the current state when it is sent: a mail that is no longer true
is marked `superseded` instead (a confirmation of a registration cancelled since, an update
overtaken by a newer one). Message-IDs are stable per row, so a receiving system can
discard a duplicate even in the one case left (a worker killed between SMTP and record).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

from events import loops
from events.db import Database
from events.errors import DatabaseUnavailable
from events.letters import Composed as Composed
from events.letters import compose as compose
from events.letters import message_id as message_id
from events.letters import topic as topic
from events.queries import Row
from events.queries import mail as q
from events.settings import Settings

log = logging.getLogger("events.mail")

Send = Callable[[EmailMessage], Awaitable[None]]


class Permanent(Exception):
    """The server refused the message for good (5xx): retrying will not help."""


# --- what a mail says: letters.py composes it from the current state -----------------------

# --- delivering -----------------------------------------------------------------------------


def smtp_sender(url: str, timeout: float = 30.0) -> Send:
    """Deliver to smtp://[user:password@]host:port (smtps:// for implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://[user:password@]host:port")
    options: dict[str, Any] = {
        "hostname": parts.hostname,
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "use_tls": parts.scheme == "smtps",
        "timeout": timeout,
    }
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")

    async def send(message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(message, **options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(e.code >= 500 for e in exc.recipients):
                raise Permanent(str(exc)) from exc
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise Permanent(f"{exc.code} {exc.message}") from exc
            raise

    return send


async def log_sender(message: EmailMessage) -> None:
    log.info(
        "mail (no SMTP_URL, kept in the outbox): to=%s subject=%s id=%s",
        message["To"],
        message["Subject"],
        message["Message-ID"],
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class MailWorker(loops.Poller):
    """Delivers the outbox until `stop()` (the loop is loops.Poller's)."""

    name = "mail worker"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        send: Send | None = None,
        batch: int = 8,
        poll_seconds: float = 2.0,
        lease_seconds: float = 300.0,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.logging_only = send is None and settings.smtp_url is None
        self.send: Send = send or (
            smtp_sender(settings.smtp_url) if settings.smtp_url else log_sender
        )
        super().__init__(batch=batch, poll_seconds=poll_seconds)
        self.lease_seconds = lease_seconds
        self._unrecorded: list[tuple[Row, str, str | None]] = []  # sent, outcome not yet stored
        self._recording = asyncio.Lock()

    # one round -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Record what is pending, claim due rows and deliver them; returns how many were claimed."""
        await self._record_pending()
        async with self.db.connection() as conn:
            jobs = await q.claim(
                conn, self.clock(), lease_seconds=self.lease_seconds, limit=self.batch
            )
        if jobs:
            tasks = [asyncio.create_task(self._deliver(job)) for job in jobs]
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        return len(jobs)

    async def _deliver(self, job: Row) -> None:
        now = self.clock()
        try:
            async with self.db.connection() as conn:
                composed = await compose(conn, job, self.settings, now)
        except DatabaseUnavailable:
            raise  # the lease lapses and another round takes it
        except Exception as exc:  # one mail that cannot be built must not stop the others
            log.exception("mail %s could not be built; marked failed", job["id"])
            reason = f"could not be built: {exc.__class__.__name__}: {exc}"
            await self._record(job, "failed", reason[:500])
            return
        if composed.message is None:
            await self._record(job, "superseded", composed.reason)
            return
        try:
            await self.send(composed.message)
        except Permanent as exc:
            log.error("mail %s refused for good: %s", job["id"], exc)
            await self._record(job, "failed", str(exc)[:500])
            return
        except Exception as exc:  # anything else is worth another try
            log.warning("mail %s not delivered (attempt %s): %s", job["id"], job["attempts"], exc)
            await self._retry(job, now, f"{exc.__class__.__name__}: {exc}")
            return
        await self._record(job, "logged" if self.logging_only else "sent", None)

    async def _retry(self, job: Row, now: datetime, error: str) -> None:
        async with self.db.connection() as conn:
            await q.retry_later(
                conn, job["id"], job["claim"], at=now + backoff(job["attempts"]), error=error[:500]
            )

    async def _record(self, job: Row, status: str, error: str | None) -> None:
        self._unrecorded.append((job, status, error))
        await self._record_pending()

    async def _record_pending(self) -> None:
        """Store outcomes; what cannot be stored now (no database) waits for the next round."""
        async with self._recording:
            await self._store_outcomes()

    async def _store_outcomes(self) -> None:
        while self._unrecorded:
            job, status, error = self._unrecorded[0]
            try:
                async with self.db.connection() as conn:
                    kept = await q.finish(
                        conn, job["id"], job["claim"], status=status, now=self.clock(), error=error
                    )
            except DatabaseUnavailable:
                raise  # kept in memory: stored as soon as the database answers again
            except Exception:
                log.exception("mail %s: outcome %s could not be stored", job["id"], status)
                kept = True
            if not kept:
                log.warning("mail %s: lease lost before its outcome was stored", job["id"])
            self._unrecorded.pop(0)


@contextlib.asynccontextmanager
async def worker_running(
    db: Database, settings: Settings, *, clock: Callable[[], datetime], grace: float = 20.0
) -> AsyncIterator[MailWorker | None]:
    """Run a MailWorker for the app's lifetime when settings.mail_worker is on.

    On shutdown (SIGTERM) it stops claiming, lets the round in hand finish (at most `grace`
    seconds; an unfinished mail is simply claimed again later) and returns.
    """
    if not settings.mail_worker:
        yield None
        return
    worker = MailWorker(db, settings, clock=clock)
    async with loops.running(worker, name="mail-worker", grace=grace):
        yield worker
