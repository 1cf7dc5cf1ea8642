"""The attendee pages over HTTP: list, event page, registration form, ticket, cancel."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from events import rendered, tickets
from tests.conftest import BASE_URL, Clock, Partner, create_event

QUESTIONS = [
    {"id": "organisation", "label": "Organisation", "kind": "text"},
    {
        "id": "sector",
        "label": "Sector",
        "kind": "choice",
        "required": True,
        "options": ["Fintech", "Other"],
    },
    {"id": "newcomer", "label": "New to Hong Kong", "kind": "checkbox"},
]


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def form_id_of(page: httpx.Response) -> str:
    found = re.search(r'name="form_id" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def summit(client: httpx.AsyncClient, partner: Partner, **changes: Any) -> dict[str, Any]:
    event = await create_event(client, partner, publish=False, questions=QUESTIONS, **changes)
    start = event["starts_at"]
    end = event["ends_at"]
    created = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={"title": "Fintech talent", "starts_at": start, "ends_at": end, "room": "S421"},
        headers=partner.auth,
    )
    assert created.status_code == 201, created.text
    published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    assert published.status_code == 200
    body: dict[str, Any] = published.json()
    return body


async def register_form(
    client: httpx.AsyncClient, slug: str, **fields: Any
) -> tuple[httpx.Response, dict[str, Any]]:
    page = await client.get(f"/events/{slug}")
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page), "form_id": form_id_of(page), **fields}
    return page, data


async def test_home_lists_upcoming_public_events(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    tag = secrets.token_hex(4)  # the home page lists 200: search, so other tests' do not crowd
    event = await create_event(client, partner, title=f"Fintech Seminar {tag}")
    draft = await create_event(client, partner, title=f"Secret Draft Seminar {tag}", publish=False)
    page = await client.get("/", params={"q": tag})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'href="/events/{event["slug"]}"' in page.text
    assert draft["slug"] not in page.text
    assert '<html lang="en">' in page.text


async def test_home_lists_the_soonest_first_and_not_what_is_over(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    tag = secrets.token_hex(4)  # searched: the home page lists 200, other tests' come sooner
    later = await create_event(client, partner, title=f"Later Seminar {tag}")  # in 30 days
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    soon = await create_event(
        client,
        partner,
        title=f"Soon Seminar {tag}",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    text = (await client.get("/", params={"q": tag})).text
    assert text.index(f'/events/{soon["slug"]}"') < text.index(f'/events/{later["slug"]}"')
    clock.offset = timedelta(days=3)  # the soon one is over
    text = (await client.get("/", params={"q": tag})).text
    assert f'/events/{soon["slug"]}"' not in text and f'/events/{later["slug"]}"' in text


async def test_event_page_shows_time_in_its_zone_venue_map_sessions_and_form(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner, capacity=40)
    page = await client.get(f"/events/{event['slug']}")
    assert page.status_code == 200
    text = page.text
    assert event["title"] in text
    assert "Asia/Hong_Kong" in text
    local = event["starts_at"][11:16]  # the API answers in the event's offset
    assert local in text
    assert "HKCEC Hall 3" in text and "google.com/maps/search" in text
    assert "Fintech talent" in text
    assert "40 seats left" in text
    assert '<label for="name">Name</label>' in text
    assert '<label for="email">Email</label>' in text
    assert ">Register</button>" in text
    assert 'name="answer_sector"' in text and "<option>Fintech</option>" in text


async def test_register_then_see_the_ticket(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await summit(client, partner)
    session_id = event["sessions"][0]["id"]
    _, data = await register_form(
        client,
        event["slug"],
        name="Chan Tai Man",
        email="tm.chan@example.org",
        answer_sector="Fintech",
        answer_newcomer="yes",
        sessions=session_id,
    )
    answer = await client.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 303, answer.text
    ticket_url = answer.headers["location"]
    assert re.fullmatch(r"/tickets/[0-9a-f-]{36}\?token=[\w-]+", ticket_url)
    ticket = await client.get(ticket_url)
    assert ticket.status_code == 200
    assert ticket.headers["cache-control"] == "no-store"
    assert ticket.headers["referrer-policy"] == "no-referrer"
    assert "Chan Tai Man" in ticket.text and "<svg" in ticket.text
    assert "You are registered" in ticket.text
    assert "Fintech talent" in ticket.text
    assert "invite.ics?token=" in ticket.text
    assert "calendar.google.com/calendar/render" in ticket.text
    assert "outlook.live.com" in ticket.text
    rid = ticket_url.split("/")[2].split("?")[0]
    token = ticket_url.split("token=")[1]
    stored = await client.get(f"/api/v1/registrations/{rid}", params={"token": token})
    assert stored.json()["status"] == "confirmed"
    assert stored.json()["answers"] == {"sector": "Fintech", "newcomer": True}
    assert stored.json()["sessions"] == [session_id]


async def test_the_same_form_sent_twice_registers_once(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    _, data = await register_form(
        client, event["slug"], name="Lee", email="lee@example.org", answer_sector="Other"
    )
    first = await client.post(f"/events/{event['slug']}", data=data)
    second = await client.post(f"/events/{event['slug']}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    listed = await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    assert [r["email"] for r in listed.json()["items"]] == ["lee@example.org"]


async def test_field_errors_are_shown_next_to_the_fields(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    _, data = await register_form(client, event["slug"], name="", email="not-an-email")
    answer = await client.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 422
    assert 'id="name-error"' in answer.text and "Please enter your name." in answer.text
    _, data = await register_form(client, event["slug"], name="Wong", email="nope")
    answer = await client.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 422
    assert "Please enter a valid email address." in answer.text
    assert "Please answer this question." in answer.text  # the required sector
    assert 'value="Wong"' in answer.text  # what was typed stays


async def test_already_registered_and_full_are_explained(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=False)
    _, data = await register_form(client, event["slug"], name="A")
    for i, (email, status, text) in enumerate(
        [
            ("a@example.org", 303, None),
            ("A@example.org", 409, "This email address is already registered"),
            ("b@example.org", 303, None),
            ("c@example.org", 409, "Sorry, the event is full."),
        ]
    ):
        data.update(email=email, form_id=f"attempt-{i}")
        answer = await client.post(f"/events/{event['slug']}", data=data)
        assert answer.status_code == status, answer.text
        if text:
            assert text in answer.text


async def test_a_form_without_the_csrf_cookie_is_refused(
    client: httpx.AsyncClient, partner: Partner, app: Any
) -> None:
    event = await create_event(client, partner)
    _, data = await register_form(client, event["slug"], name="A", email="x@example.org")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as stranger:
        answer = await stranger.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    listed = await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    assert listed.json()["items"] == []


async def test_waitlisted_ticket_shows_its_position(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=0, waitlist=True)
    page = await client.get(f"/events/{event['slug']}")
    assert "join the waitlist" in page.text
    _, data = await register_form(client, event["slug"], name="W", email="w@example.org")
    answer = await client.post(f"/events/{event['slug']}", data=data)
    ticket = await client.get(answer.headers["location"])
    assert "waitlist, in position 1" in ticket.text
    assert "<svg" not in ticket.text


async def test_cancel_with_confirmation(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    _, data = await register_form(client, event["slug"], name="C", email="c@example.org")
    ticket_url = (await client.post(f"/events/{event['slug']}", data=data)).headers["location"]
    path, _, query = ticket_url.partition("?")
    confirm = await client.get(f"{path}/cancel?{query}")
    assert confirm.status_code == 200
    assert "Yes, cancel my registration" in confirm.text
    token = query.removeprefix("token=")
    done = await client.post(f"{path}/cancel", data={"csrf": csrf_of(confirm), "token": token})
    assert done.status_code == 303
    ticket = await client.get(done.headers["location"])
    assert "This registration is cancelled." in ticket.text
    rid = path.rsplit("/", 1)[1]
    stored = await client.get(f"/api/v1/registrations/{rid}", params={"token": token})
    assert stored.json()["status"] == "cancelled"


async def test_ticket_without_its_token_is_not_found(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    _, data = await register_form(client, event["slug"], name="D", email="d@example.org")
    ticket_url = (await client.post(f"/events/{event['slug']}", data=data)).headers["location"]
    path = ticket_url.split("?")[0]
    for url in (path, path + "?token=wrong"):
        page = await client.get(url)
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")


async def test_registration_window_states(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event = await create_event(client, partner)
    clock.offset = timedelta(days=31)  # the event has started: registration closed
    page = await client.get(f"/events/{event['slug']}")
    assert "Registration has closed." in page.text
    assert ">Register</button>" not in page.text


async def test_unknown_pages_are_html_and_unknown_api_paths_problems(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = await client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    draft = await client.get("/events/no-such-event")
    assert draft.status_code == 404 and "Page not found" in draft.text


@pytest.mark.parametrize("path", ["/static/app.css", "/static/scan.js", "/static/vendor/jsQR.js"])
async def test_static_files_are_served(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200 and len(answer.content) > 500


async def test_the_ticket_page_shows_the_stored_qr_the_api_serves(
    client: httpx.AsyncClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's QR is made once and kept: the API (another worker, say) serves it without
    making it again, and the page shows exactly that SVG, inline."""
    event = await create_event(client, partner)
    body = {"name": "Wong Ka Yan", "email": "ky.wong@example.org"}
    reg = (await client.post(f"/api/v1/events/{event['id']}/registrations", json=body)).json()
    page = await client.get(reg["ticket_url"].removeprefix(BASE_URL))
    assert page.status_code == 200
    rendered.forget_local()

    def must_not_render(code: str) -> bytes:
        raise AssertionError("made again, though the ticket page made it")

    monkeypatch.setattr(tickets, "qr_svg", must_not_render)
    served = await client.get(reg["ticket"]["qr_svg"])
    assert served.status_code == 200
    svg = served.content.decode().partition("?>")[2].strip()
    assert svg.startswith("<svg") and svg in page.text
