"""Periodic jobs: one loop per process, an advisory lock per job.

A job is a name, a period and a function `run(conn, now, settings) -> int` (how many things
it did) that owns its transactions. Every process that runs background work (where
`settings.mail_worker` is on) runs the loop; before running a job it takes a PostgreSQL
advisory lock keyed by the job's name without waiting, so across processes and machines one
runs a job at a time and the others skip it that round. Each process keeps when it last ran
each job; a job missed because another process held the lock simply runs again next period.

Tests drive jobs with the clock argument: `await run_once(db, settings, now, names=[...])`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from events import accounts, idempotency, loops, partner_mail, privacy, reminders
from events.db import Database
from events.queries import Connection
from events.queries import jobs as q
from events.settings import Settings

log = logging.getLogger("events.jobs")

JobFunction = Callable[[Connection, datetime, Settings], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: JobFunction

    @property
    def lock_key(self) -> int:
        """A stable 31-bit key from the name (the same in every process and release)."""
        return zlib.crc32(self.name.encode()) & 0x7FFF_FFFF


async def purge_idempotency_keys(conn: Connection, now: datetime, settings: Settings) -> int:
    return await idempotency.purge(conn, now)


async def purge_console_sessions(conn: Connection, now: datetime, settings: Settings) -> int:
    return await accounts.purge_expired_sessions(conn, now)


def default_jobs() -> list[Job]:
    """Every periodic job of the service."""
    return [
        Job("purge-idempotency-keys", timedelta(hours=1), purge_idempotency_keys),
        Job("purge-console-sessions", timedelta(hours=1), purge_console_sessions),
        Job("reminders", timedelta(minutes=1), reminders.send_due_reminders),
        Job("send-partner-mail", timedelta(seconds=5), partner_mail.send_due),
        Job("erase-expired", timedelta(hours=1), privacy.erase_expired),
    ]


async def run_job(db: Database, job: Job, settings: Settings, now: datetime) -> int | None:
    """Run `job` once under its lock; None when another process holds the lock.

    The lock is transaction-scoped, held by a transaction of its own that stays open while the
    job runs on another connection: through PgBouncer in transaction pooling a session-level
    lock would be taken on one server connection and "released" on another (so never), and
    a transaction keeps its server connection to the end. The lock goes with the transaction,
    also when the process or its connection dies.
    """
    async with db.transaction() as lock:
        if not await q.try_lock(lock, job.lock_key):
            return None
        async with db.connection() as conn:
            return await job.run(conn, now, settings)


async def run_once(
    db: Database,
    settings: Settings,
    now: datetime,
    *,
    names: Iterable[str] | None = None,
    jobs: Iterable[Job] | None = None,
) -> dict[str, int | None]:
    """Run the named jobs (all when `names` is None) now, whatever their schedule."""
    wanted = None if names is None else set(names)
    chosen = [j for j in (jobs or default_jobs()) if wanted is None or j.name in wanted]
    if wanted is not None and len(chosen) != len(wanted):
        unknown = wanted - {j.name for j in chosen}
        raise ValueError(f"no such job: {', '.join(sorted(unknown))}")
    return {job.name: await run_job(db, job, settings, now) for job in chosen}


class JobRunner:
    """The loop: every `tick` seconds, each job whose period has passed runs (one at a time)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        jobs: list[Job] | None = None,
        tick: float = 5.0,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.jobs = default_jobs() if jobs is None else jobs
        self.tick = tick
        self.last_run: dict[str, datetime] = {}
        self._stopping = asyncio.Event()

    def due(self, now: datetime) -> list[Job]:
        return [
            job
            for job in self.jobs
            if job.name not in self.last_run or now - self.last_run[job.name] >= job.every
        ]

    async def run_due(self) -> dict[str, int | None]:
        done: dict[str, int | None] = {}
        for job in self.due(self.clock()):
            now = self.clock()
            try:
                done[job.name] = await run_job(self.db, job, self.settings, now)
            except Exception:  # one failing job must not stop the others, nor the loop
                log.exception("job %s failed", job.name)
                continue
            self.last_run[job.name] = now
        return done

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.run_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick)

    def stop(self) -> None:
        self._stopping.set()


@contextlib.asynccontextmanager
async def runner_running(
    db: Database, settings: Settings, *, clock: Callable[[], datetime], grace: float = 20.0
) -> AsyncIterator[JobRunner | None]:
    """Run the job loop for the app's lifetime where background work runs (`mail_worker`)."""
    if not settings.mail_worker:
        yield None
        return
    async with loops.running(JobRunner(db, settings, clock=clock), name="jobs", grace=grace) as r:
        yield r
