"""Test fixtures: the real app on real PostgreSQL, over HTTP (httpx on the ASGI app).

The database: `TEST_DATABASE_URL` names a server on which each run makes a fresh database of
its own (dropped at the end); without it, an embedded PostgreSQL in a temporary folder.
Tests isolate by data, not by rollback: every test makes its own partners (unique slugs)
and events, so tests also prove that partners never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from starlette.applications import Starlette

from events import keys
from events.app import create_app
from events.db import Database
from events.embedded import EmbeddedPostgres
from events.settings import Settings
from tests.live_server import create_database, drop_database

BASE_URL = "http://test"

# Property tests judge outcomes, not speed (speed is scripts/bench's): no per-example deadline,
# which a shared 2-core machine would miss at random.
hypothesis.settings.register_profile("events", deadline=None)
hypothesis.settings.load_profile("events")


@dataclass
class Clock:
    """The app's clock; tests move it instead of sleeping."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="events-test-") as folder:
        os.chmod(folder, 0o755)
        yield Path(folder)


@pytest.fixture(scope="session")
async def database_url(embedded_dir: Path) -> AsyncIterator[str]:
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        url, name = await create_database(server)
        yield url
        await drop_database(server, name)
        return
    embedded = EmbeddedPostgres(embedded_dir)
    yield embedded.start()
    embedded.stop()


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, base_url=BASE_URL, rate_limits="off", mail_worker=False
    )


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: Clock) -> AsyncIterator[Starlette]:
    keys.forget()
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(autouse=True)
def _reset_clock(clock: Clock) -> Iterator[None]:
    yield
    clock.offset = timedelta()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


@pytest.fixture(scope="session")
def db(app: Starlette) -> Database:
    database: Database = app.state.db
    return database


@dataclass
class Partner:
    slug: str
    token: str
    id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_partner(db: Database, name: str = "Partner") -> Partner:
    from events import hosting

    slug = f"p-{secrets.token_hex(4)}"
    async with db.transaction() as conn:
        created = await hosting.create_partner(conn, slug, name, f"{slug}@example.org")
    return Partner(slug, created.token, created.id)


@pytest.fixture
async def partner(db: Database) -> Partner:
    return await make_partner(db, "Hong Kong Talent Engage")


@pytest.fixture
async def other_partner(db: Database) -> Partner:
    return await make_partner(db, "Other Office")


def event_body(**changes: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    body: dict[str, Any] = {
        "title": "Global Talent Summit 2027",
        "description": "Flagship summit",
        "timezone": "Asia/Hong_Kong",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=9)).isoformat(),
        "venue": {"name": "HKCEC Hall 3", "address": "1 Harbour Road, Wan Chai"},
        "capacity": 100,
        "waitlist": True,
        "visibility": "public",
    }
    body.update(changes)
    return body


async def create_event(
    client: httpx.AsyncClient, partner: Partner, *, publish: bool = True, **changes: Any
) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json=event_body(**changes), headers=partner.auth)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    if publish:
        published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
        assert published.status_code == 200, published.text
        event = published.json()
    return event


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].rsplit("/", 1)[-1] == code, body
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
async def hypothesis_event(client: httpx.AsyncClient, partner: Partner) -> dict[str, Any]:
    """A published event with a big capacity and optional questions, for property tests."""
    return await create_event(
        client,
        partner,
        capacity=100_000,
        questions=[{"id": "organisation", "label": "Organisation", "kind": "text"}],
    )
