"""The partner console over HTTP: sign in, create and publish, sessions, questions,
co-hosts, attendees and CSV, door tokens with their pairing QR, counts; and the CLI."""

from __future__ import annotations

import csv as csv_module
import io
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from events import accounts, cli, ratelimit
from events.db import Database
from events.web import console as console_module
from tests.conftest import BASE_URL, Partner, create_event, make_partner
from tests.test_exports import read_xlsx
from tests.test_web import csrf_of, register_form

PASSWORD = "correct horse battery"


async def console_user(db: Database, partner: Partner) -> str:
    email = f"staff-{secrets.token_hex(3)}@{partner.slug}.example.org"
    async with db.transaction() as conn:
        await accounts.create_user(conn, partner.slug, email, PASSWORD)
    return email


async def signed_in(app: Starlette, db: Database, partner: Partner) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    email = await console_user(db, partner)
    page = await browser.get("/console")
    answer = await browser.post(
        "/console/sign-in", data={"csrf": csrf_of(page), "email": email, "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    return browser


@pytest.fixture
async def console(app: Starlette, db: Database, partner: Partner) -> Any:
    browser = await signed_in(app, db, partner)
    yield browser
    await browser.aclose()


def local(days: int, hour: int) -> str:
    day = datetime.now(UTC) + timedelta(days=days)
    return day.strftime(f"%Y-%m-%dT{hour:02d}:00")


def event_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": csrf,
        "title": "Fintech Seminar",
        "description": "Talent for fintech",
        "timezone": "Asia/Hong_Kong",
        "starts_at": local(20, 14),
        "ends_at": local(20, 17),
        "venue_name": "Central Government Offices",
        "venue_address": "Tamar",
        "capacity": "120",
        "waitlist": "yes",
        "visibility": "public",
        "registration_opens_at": "",
        "registration_closes_at": "",
    }
    form.update(changes)
    return form


async def new_event(console: httpx.AsyncClient, **changes: str) -> tuple[str, httpx.Response]:
    page = await console.get("/console/events/new")
    assert page.status_code == 200
    created = await console.post("/console/events/new", data=event_form(csrf_of(page), **changes))
    assert created.status_code == 303, created.text
    event_id = created.headers["location"].rsplit("/", 1)[1]
    return event_id, await console.get(created.headers["location"])


async def test_the_console_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    page = await client.get("/console")
    assert page.status_code == 200
    assert 'name="password"' in page.text and "Sign in" in page.text
    for path in ("/console/events/new", f"/console/events/{'0' * 8}-0000-0000-0000-{'0' * 12}"):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/console"


async def test_wrong_password_is_refused(
    client: httpx.AsyncClient, db: Database, partner: Partner
) -> None:
    email = await console_user(db, partner)
    page = await client.get("/console")
    for who, password in [(email, "wrong password!"), ("nobody@example.org", PASSWORD)]:
        answer = await client.post(
            "/console/sign-in", data={"csrf": csrf_of(page), "email": who, "password": password}
        )
        assert answer.status_code == 401
        assert "Wrong email or password." in answer.text
        assert "console_session" not in answer.headers.get("set-cookie", "")


async def test_sign_in_is_rate_limited(
    client: httpx.AsyncClient, app: Starlette, db: Database, partner: Partner
) -> None:
    email = await console_user(db, partner)
    page = await client.get("/console")
    saved = app.state.limiter
    app.state.limiter = ratelimit.Limiter(ratelimit.parse("signin=3/60"))
    try:
        codes = []
        for _ in range(5):
            answer = await client.post(
                "/console/sign-in",
                data={"csrf": csrf_of(page), "email": email, "password": "wrong password!"},
            )
            codes.append(answer.status_code)
    finally:
        app.state.limiter = saved
    assert codes == [401, 401, 401, 429, 429]


async def test_passwords_are_stored_as_argon2_hashes(db: Database, partner: Partner) -> None:
    email = await console_user(db, partner)
    async with db.connection() as conn:
        stored = await conn.fetchval(
            "SELECT password_hash FROM partner_users WHERE email = $1", email
        )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_create_edit_publish_an_event(console: httpx.AsyncClient) -> None:
    event_id, page = await new_event(console)
    assert "Draft" in page.text and ">Publish</button>" in page.text
    csrf = csrf_of(page)
    changed = await console.post(
        f"/console/events/{event_id}", data=event_form(csrf, title="Fintech Seminar 2027")
    )
    assert changed.status_code == 303
    session = await console.post(
        f"/console/events/{event_id}/sessions",
        data={
            "csrf": csrf,
            "title": "Panel",
            "room": "S1",
            "starts_at": local(20, 14),
            "ends_at": local(20, 15),
            "capacity": "",
        },
    )
    assert session.status_code == 303, session.text
    questions = await console.post(
        f"/console/events/{event_id}/questions",
        data={
            "csrf": csrf,
            "q-0-id": "",
            "q-0-label": "Company",
            "q-0-kind": "choice",
            "q-0-options": "Bank\nStartup",
            "q-0-required": "yes",
        },
    )
    assert questions.status_code == 303, questions.text
    published = await console.post(f"/console/events/{event_id}/publish", data={"csrf": csrf})
    assert published.status_code == 303
    event = (await console.get(f"/api/v1/events/{event_id}")).json()
    assert event["status"] == "published"
    assert event["title"] == "Fintech Seminar 2027"
    assert event["starts_at"] == local(20, 14) + ":00+08:00"
    assert event["venue"] == {"name": "Central Government Offices", "address": "Tamar"}
    assert event["capacity"] == 120 and event["waitlist"] is True
    assert [s["title"] for s in event["sessions"]] == ["Panel"]
    assert event["questions"] == [
        {
            "id": "company",
            "label": "Company",
            "kind": "choice",
            "required": True,
            "options": ["Bank", "Startup"],
        }
    ]
    public = await console.get(f"/events/{event['slug']}")
    assert "Company" in public.text and "Panel" in public.text


async def test_form_errors_stay_on_the_form(console: httpx.AsyncClient) -> None:
    page = await console.get("/console/events/new")
    answer = await console.post(
        "/console/events/new",
        data=event_form(csrf_of(page), title="", timezone="Mars/Olympus", capacity="many"),
    )
    assert answer.status_code == 422
    assert "Please enter a title." in answer.text
    assert "Please enter a time zone such as Asia/Hong_Kong." in answer.text
    assert "Please enter a whole number of seats" in answer.text
    bad_end = await console.post(
        "/console/events/new",
        data=event_form(csrf_of(page), ends_at=local(19, 9)),
    )
    assert "The end must be a date and time after the start." in bad_end.text


async def test_cohost_invitation_is_answered_in_the_console(
    console: httpx.AsyncClient, app: Starlette, db: Database
) -> None:
    other = await make_partner(db, "Other Office")
    event_id, page = await new_event(console)
    invited = await console.post(
        f"/console/events/{event_id}/cohosts", data={"csrf": csrf_of(page), "partner": other.slug}
    )
    assert invited.status_code == 303
    unknown = await console.post(
        f"/console/events/{event_id}/cohosts", data={"csrf": csrf_of(page), "partner": "nobody-x"}
    )
    assert unknown.status_code == 422 and "No partner has this name" in unknown.text
    guest = await signed_in(app, db, other)
    try:
        hidden = await guest.get(f"/console/events/{event_id}")
        assert hidden.status_code == 404
        home = await guest.get("/console")
        assert "invites you to co-host" in home.text
        action = re.search(r'action="(/console/invitations/[^"]+/accept)"', home.text)
        assert action
        accepted = await guest.post(action.group(1), data={"csrf": csrf_of(home)})
        assert accepted.status_code == 303
        shared = await guest.get(f"/console/events/{event_id}")
        assert shared.status_code == 200
        assert "Cancel the event" not in shared.text  # the owner's right
    finally:
        await guest.aclose()


async def test_attendees_search_and_csv(
    console: httpx.AsyncClient, client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    for name in ("Chan Tai Man", "Wong Siu Ming"):
        _, data = await register_form(
            client, event["slug"], name=name, email=f"{name.split()[0].lower()}@example.org"
        )
        assert (await client.post(f"/events/{event['slug']}", data=data)).status_code == 303
    listing = await console.get(f"/console/events/{event['id']}/attendees", params={"q": "wong"})
    assert listing.status_code == 200
    assert "Wong Siu Ming" in listing.text and "Chan Tai Man" not in listing.text
    csv = await console.get(f"/console/events/{event['id']}/attendees.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Chan Tai Man" in csv.text and "Wong Siu Ming" in csv.text
    assert 'filename="' in csv.headers["content-disposition"]
    xlsx = await console.get(f"/console/events/{event['id']}/attendees.xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = read_xlsx(xlsx.content)
    assert sheet[0] == next(iter(csv_module.reader(io.StringIO(csv.text.removeprefix("\ufeff")))))
    assert sorted(row[3] for row in sheet[1:]) == ["Chan Tai Man", "Wong Siu Ming"]
    counts = (await console.get(f"/console/events/{event['id']}/stats")).json()
    assert counts["confirmed"] == 2 and counts["capacity"] == 100


async def test_door_token_pairing_qr_opens_the_scanner(
    console: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    event_id, page = await new_event(console)
    answer = await console.post(
        f"/console/events/{event_id}/door-tokens", data={"csrf": csrf_of(page), "label": "North"}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    url = re.search(r'href="([^"]+)" id="pairing-url"', answer.text)
    assert url and url.group(1).startswith(f"{BASE_URL}/scan?token=dt_")
    assert "<svg" in answer.text
    scanner = await client.get(url.group(1).removeprefix(BASE_URL))
    assert scanner.status_code == 200
    assert 'id="code"' in scanner.text and "scan.js" in scanner.text
    again = await console.get(f"/console/events/{event_id}")
    assert "dt_" not in again.text  # shown once


async def test_cancel_needs_the_confirmation_box(
    console: httpx.AsyncClient, partner: Partner
) -> None:
    event_id, page = await new_event(console)
    unconfirmed = await console.post(
        f"/console/events/{event_id}/cancel", data={"csrf": csrf_of(page)}
    )
    assert unconfirmed.status_code == 422
    assert (await console.get(f"/api/v1/events/{event_id}", headers=partner.auth)).json()[
        "status"
    ] == "draft"
    done = await console.post(
        f"/console/events/{event_id}/cancel", data={"csrf": csrf_of(page), "confirm": "yes"}
    )
    assert done.status_code == 303
    assert (await console.get(f"/api/v1/events/{event_id}", headers=partner.auth)).json()[
        "status"
    ] == "cancelled"


async def test_sign_out_ends_the_session(console: httpx.AsyncClient) -> None:
    home = await console.get("/console")
    assert "Your events" in home.text
    out = await console.post("/console/sign-out", data={"csrf": csrf_of(home)})
    assert out.status_code == 303
    assert (await console.get("/console/events/new")).status_code == 303


def test_cli_creates_a_console_user(
    settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    slug = f"cli-{secrets.token_hex(3)}"
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli.main(["partner", "create", "--slug", slug, "--name", "CLI Partner"]) == 0
    args = ["partner", "user", "--slug", slug, "--email", f"a@{slug}.org", "--password", PASSWORD]
    assert cli.main(args) == 0
    assert f'"email":"a@{slug}.org"' in capsys.readouterr().out
    assert cli.main(args) == 1  # exists already
    assert cli.main([*args[:-1], "short"]) == 1


async def test_the_dashboard_pages_through_many_events(
    console: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_module, "EVENTS_PAGE", 2)
    made = [(await new_event(console, title=f"Seminar {i}"))[0] for i in range(3)]
    first = await console.get("/console")
    assert [i for i in made if f"/console/events/{i}" in first.text] == made[:2]
    more = re.search(r'href="(\?cursor=[^"]+)">More<', first.text)
    assert more, "a link to the rest"
    rest = await console.get("/console" + more.group(1))
    assert [i for i in made if f"/console/events/{i}" in rest.text] == made[2:]
    assert ">More<" not in rest.text


async def test_moving_the_start_asks_first_and_shows_each_session_moving(
    console: httpx.AsyncClient,
) -> None:
    event_id, page = await new_event(console)
    csrf = csrf_of(page)
    made = await console.post(
        f"/console/events/{event_id}/sessions",
        data={
            "csrf": csrf,
            "title": "Panel",
            "room": "S1",
            "starts_at": local(20, 15),
            "ends_at": local(20, 16),
            "capacity": "",
        },
    )
    assert made.status_code == 303, made.text
    published = await console.post(f"/console/events/{event_id}/publish", data={"csrf": csrf})
    assert published.status_code == 303
    later = event_form(csrf, starts_at=local(20, 16), ends_at=local(20, 19), title="Moved")
    asked = await console.post(f"/console/events/{event_id}", data=later)
    assert asked.status_code == 200
    assert "Moving the start moves every session by the same amount" in asked.text
    assert "Panel:" in asked.text and "15:00" in asked.text and "17:00" in asked.text
    assert 'name="move_sessions" value="yes"' in asked.text
    assert 'value="Moved"' in asked.text  # the form as it was typed
    event = (await console.get(f"/api/v1/events/{event_id}")).json()
    assert event["title"] == "Fintech Seminar"  # nothing changed until it is confirmed
    assert event["sessions"][0]["starts_at"] == local(20, 15) + ":00+08:00"
    done = await console.post(f"/console/events/{event_id}", data={**later, "move_sessions": "yes"})
    assert done.status_code == 303, done.text
    shown = await console.get(done.headers["location"])
    assert "1 session moved with the event." in shown.text
    event = (await console.get(f"/api/v1/events/{event_id}")).json()
    assert event["title"] == "Moved" and event["starts_at"] == local(20, 16) + ":00+08:00"
    assert event["sessions"][0]["starts_at"] == local(20, 17) + ":00+08:00"
