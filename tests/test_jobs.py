"""The periodic-jobs runner: jobs run under an advisory lock per job, on the clock they are given."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from events import accounts, jobs
from events.db import Database
from events.queries import Connection
from events.settings import Settings
from tests.conftest import Clock, Partner
from tests.test_web_console import PASSWORD, console_user


async def test_old_idempotency_keys_are_purged_and_recent_ones_kept(
    client: httpx.AsyncClient, db: Database, settings: Settings, clock: Clock, partner: Partner
) -> None:
    body = {
        "title": "Kept for a day",
        "timezone": "Asia/Hong_Kong",
        "starts_at": "2031-05-20T09:00:00+08:00",
        "ends_at": "2031-05-20T18:00:00+08:00",
        "capacity": 10,
    }
    headers = {**partner.auth, "Idempotency-Key": "purge-test-key"}
    first = await client.post("/api/v1/events", json=body, headers=headers)
    assert first.status_code == 201
    # 23 hours later the key is still kept: the same request replays the first answer
    done = await jobs.run_once(
        db, settings, clock() + timedelta(hours=23), names=["purge-idempotency-keys"]
    )
    assert done["purge-idempotency-keys"] is not None  # it ran (None: another held the lock)
    again = await client.post("/api/v1/events", json=body, headers=headers)
    assert again.headers.get("idempotent-replay") == "true" and again.json() == first.json()
    # past 24 hours it is gone: the same key now creates a new event
    done = await jobs.run_once(
        db, settings, clock() + timedelta(hours=25), names=["purge-idempotency-keys"]
    )
    assert (done["purge-idempotency-keys"] or 0) >= 1
    fresh = await client.post("/api/v1/events", json=body, headers=headers)
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]


async def test_expired_console_sessions_are_purged(
    db: Database, settings: Settings, clock: Clock, partner: Partner
) -> None:
    email = await console_user(db, partner)
    async with db.transaction() as conn:
        secret = await accounts.sign_in(conn, email, PASSWORD, clock())
    later = clock() + accounts.SESSION_LIFETIME + timedelta(minutes=1)
    done = await jobs.run_once(db, settings, later, names=["purge-console-sessions"])
    assert (done["purge-console-sessions"] or 0) >= 1
    async with db.connection() as conn:
        assert await accounts.session(conn, secret, clock()) is None  # gone, not only expired


async def test_a_job_runs_in_one_process_at_a_time(db: Database, settings: Settings) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[datetime] = []

    async def slow(conn: Connection, now: datetime, settings: Settings) -> int:
        runs.append(now)
        started.set()
        await release.wait()
        return 1

    job = jobs.Job("test-slow", timedelta(seconds=1), slow)
    now = datetime.now().astimezone()
    first = asyncio.create_task(jobs.run_job(db, job, settings, now))
    await started.wait()
    # a second runner (another process, as far as PostgreSQL knows: another session) skips it
    assert await jobs.run_job(db, job, settings, now) is None
    release.set()
    assert await first == 1
    assert len(runs) == 1
    # the lock was released: it runs again
    release.set()
    assert await jobs.run_job(db, job, settings, now) == 1


async def test_the_loop_runs_due_jobs_and_survives_a_failing_one(
    db: Database, settings: Settings, clock: Clock
) -> None:
    ran: list[str] = []

    async def fails(conn: Connection, now: datetime, settings: Settings) -> int:
        ran.append("fails")
        raise RuntimeError("boom")

    async def works(conn: Connection, now: datetime, settings: Settings) -> int:
        ran.append("works")
        return 2

    runner = jobs.JobRunner(
        db,
        settings,
        clock=clock,
        jobs=[
            jobs.Job("t-fails", timedelta(minutes=5), fails),
            jobs.Job("t-works", timedelta(minutes=5), works),
        ],
    )
    assert await runner.run_due() == {"t-works": 2}
    assert ran == ["fails", "works"]
    # not due again until its period has passed; the failed one is retried at once
    assert await runner.run_due() == {}
    assert ran == ["fails", "works", "fails"]
    clock.offset = timedelta(minutes=6)
    assert await runner.run_due() == {"t-works": 2}


async def test_unknown_job_names_are_refused(db: Database, settings: Settings) -> None:
    with pytest.raises(ValueError, match="no-such-job"):
        await jobs.run_once(db, settings, datetime.now().astimezone(), names=["no-such-job"])
