"""Background work: the mail and webhook outboxes, the periodic jobs and the inbound mail of
calendar replies (EVENTS_INBOUND_SMTP / _IMAP), in the processes whose role it is.

`python -m events worker` runs only this; `serve` runs it beside the web app unless it is a
web node only (`--no-worker`, `EVENTS_MAIL_WORKER=0`), so web nodes scale apart from the
background work. Any number of workers may run: the outbox is claimed with SKIP LOCKED, each
periodic job runs under an advisory lock of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from events import inbound, jobs, mail, webhook_delivery
from events.db import Database
from events.settings import Settings

log = logging.getLogger("events.worker")


@dataclass(frozen=True, slots=True)
class Background:
    mail: mail.MailWorker | None
    webhooks: webhook_delivery.WebhookWorker | None
    jobs: jobs.JobRunner | None


@contextlib.asynccontextmanager
async def running(
    db: Database, settings: Settings, *, clock: Callable[[], datetime]
) -> AsyncIterator[Background]:
    """The background work of this process for as long as the block lasts (none when
    `settings.mail_worker` is off); on the way out it finishes what it has in hand."""
    if not settings.mail_worker:
        log.info("background work: none here (a web node; `python -m events worker` does it)")
    async with (
        mail.worker_running(db, settings, clock=clock) as mail_worker,
        webhook_delivery.worker_running(db, settings, clock=clock) as webhook_worker,
        jobs.runner_running(db, settings, clock=clock) as job_runner,
        inbound.running(db, settings, clock=clock),
    ):
        yield Background(mail_worker, webhook_worker, job_runner)


async def run_until_stopped(
    db: Database, settings: Settings, *, clock: Callable[[], datetime]
) -> None:
    """`python -m events worker`: run the background work until SIGTERM or SIGINT, then let
    the round in hand finish and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(db, settings.replace(mail_worker=True), clock=clock):
            log.info("worker running: mail outbox and periodic jobs")
            await stop.wait()
            log.info("worker stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
