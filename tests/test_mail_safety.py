"""Mail headers are built from parts, never from pasted text; a mail that cannot be built
is marked failed with its reason and does not hold up the others (issue 20)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest

from events import cli
from events.db import Database
from events.queries import mail as mail_q
from events.settings import Settings
from tests.conftest import Clock, Partner, create_event
from tests.test_mail import Inbox, address, drain, make_worker, outbox, register


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.start()
    yield box
    box.stop()


async def test_a_name_with_commas_and_quotes_stays_a_name(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner)
    who = address("comma")
    await register(client, event["id"], who, name='Chan, "TM" <boss@example.org>')
    await drain(make_worker(db, settings, clock, inbox))
    [message] = inbox.to(who)
    [to] = message["To"].addresses
    assert to.addr_spec == who
    assert to.display_name == 'Chan, "TM" <boss@example.org>'
    assert inbox.to("boss@example.org") == [message]  # only by its display name
    assert len(message.get_all("To")) == 1


async def test_a_mail_that_cannot_be_built_fails_alone(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = await create_event(client, partner)
    broken = await register(client, event["id"], address("broken"))
    fine = await register(client, event["id"], address("fine"))
    async with db.connection() as conn:  # as a row written before the input policy could be
        await conn.execute(
            "UPDATE registrations SET email = 'a@example.org, b@example.org' WHERE id = $1",
            UUID(broken["id"]),
        )
    await drain(make_worker(db, settings, clock, inbox))
    [failed] = await outbox(db, broken["id"])
    assert failed["status"] == "failed" and "could not be built" in failed["last_error"]
    [sent] = await outbox(db, fine["id"])
    assert sent["status"] == "sent" and len(inbox.to(fine["email"])) == 1
    to = [a.addr_spec for m in inbox.messages for a in m["To"].addresses]
    assert "b@example.org" not in to and "a@example.org" not in to
    async with db.connection() as conn:
        listed = await mail_q.failed(conn, limit=1000)
    assert any(row["registration_id"] == UUID(broken["id"]) for row in listed)
    assert settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["mail", "failed", "--limit", "1000"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [mine] = [line for line in lines if line["registration_id"] == broken["id"]]
    assert "could not be built" in mine["last_error"]
