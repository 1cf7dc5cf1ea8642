"""Hostile and careless input (issue 20): refused where it enters, with a 4xx naming the
field, on the API and the pages alike; nothing reaches the database or a mail header."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from events import ratelimit
from events.http import policy
from tests.conftest import Partner, assert_problem, create_event, event_body

BREAKS = ["\r", "\n", "\r\n", "\u2028", "\u2029"]


def fields_of(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("brk", BREAKS)
async def test_line_breaks_refused_in_one_line_fields(
    client: httpx.AsyncClient, partner: Partner, brk: str
) -> None:
    for changes, field in [
        ({"title": f"Summit{brk}Bcc: x@example.org"}, "title"),
        ({"venue": {"name": f"Hall{brk}A"}}, "venue.name"),
        ({"questions": [{"id": "diet", "label": f"Diet{brk}?"}]}, "questions.0.label"),
    ]:
        response = await client.post(
            "/api/v1/events", json=event_body(**changes), headers=partner.auth
        )
        assert_problem(response, 422, "invalid-input")
        assert fields_of(response) == [field]
    event = await create_event(client, partner)
    registered = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": f"Chan{brk}Tai Man", "email": "chan@example.org"},
    )
    assert_problem(registered, 422, "invalid-input")
    assert fields_of(registered) == ["name"]


async def test_line_breaks_kept_in_the_description(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    text = "Line one\r\nLine two\u2028three\tand a tab"
    event = await create_event(client, partner, description=text)
    assert event["description"] == text


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9b"])
async def test_control_characters_refused_everywhere(
    client: httpx.AsyncClient, partner: Partner, char: str
) -> None:
    for changes, field in [
        ({"title": f"a{char}b"}, "title"),
        ({"description": f"a{char}b"}, "description"),
        ({"venue": {"name": "Hall", "address": f"1{char}"}}, "venue.address"),
    ]:
        response = await client.post(
            "/api/v1/events", json=event_body(**changes), headers=partner.auth
        )
        assert_problem(response, 422, "invalid-input")
        assert fields_of(response) == [field]


async def test_nul_in_path_query_and_form_is_a_4xx_on_pages_and_api(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    for path in ["/events/a%00b", f"/api/v1/events/{event['id']}%00", "/tickets/%00"]:
        response = await client.get(path)
        assert response.status_code == 404, (path, response.text)
    api = await client.get("/api/v1/events?cursor=a%00b")
    assert_problem(api, 422, "invalid-input")
    assert fields_of(api) == ["cursor"]
    page = await client.get("/?q=%00")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    await client.get("/")  # the CSRF cookie
    form = {"csrf": client.cookies["csrf"], "name": "A\x00B", "email": "a@example.org"}
    posted = await client.post(f"/events/{event['slug']}", data=form)
    assert posted.status_code == 422
    signin = await client.post(
        "/console/sign-in", data={"csrf": client.cookies["csrf"], "email": "\x00", "password": "x"}
    )
    assert signin.status_code == 422


async def test_a_huge_answers_object_gets_a_short_error(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    answers = {f"q{i}": "x" for i in range(10_000)}
    response = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "A", "email": "a@example.org", "answers": answers},
    )
    assert_problem(response, 422, "invalid-input")
    assert len(response.content) < 2_000
    many_bad = {f"q{i}\x00": "x" for i in range(500)}
    response = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "A", "email": "a@example.org", "answers": many_bad},
    )
    assert_problem(response, 422, "invalid-input")
    assert len(response.json()["errors"]) <= 20 and len(response.content) < 5_000


@pytest.mark.parametrize(
    "email",
    [
        "<x@example.org>",
        "X <x@example.org>",
        "x@example.org, y@example.org",
        "x@example.org,y@example.org",
        '"x y"@example.org',
        "x@@example.org",
        "x@example",
        "x@[127.0.0.1]",
    ],
)
async def test_email_refused_unless_one_plain_address(
    client: httpx.AsyncClient, partner: Partner, email: str
) -> None:
    event = await create_event(client, partner)
    response = await client.post(
        f"/api/v1/events/{event['id']}/registrations", json={"name": "A", "email": email}
    )
    assert_problem(response, 422, "invalid-input")
    assert fields_of(response) == ["email"]


async def test_one_mailbox_registers_once_in_any_spelling(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/registrations"
    first = await client.post(url, json={"name": "A", "email": "Ann@Example.ORG"})
    assert first.status_code == 201 and first.json()["email"] == "Ann@example.org"
    for spelling in ["ann@example.org", " ANN@EXAMPLE.org ", "Ann@example.org"]:
        again = await client.post(url, json={"name": "A", "email": spelling})
        assert_problem(again, 409, "already-registered")


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "Factory", "right/UTC", "posix/UTC", "", "Mars/Base"]
)
async def test_only_iana_zones(client: httpx.AsyncClient, partner: Partner, zone: str) -> None:
    response = await client.post(
        "/api/v1/events", json=event_body(timezone=zone), headers=partner.auth
    )
    assert_problem(response, 422, "invalid-input")
    assert fields_of(response) == ["timezone"]
    ok = await client.post(
        "/api/v1/events", json=event_body(timezone="Asia/Taipei"), headers=partner.auth
    )
    assert ok.status_code == 201, ok.text


async def test_ids_in_odd_spellings_are_not_found(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    plain = event["id"]
    assert (await client.get(f"/api/v1/events/{plain.upper()}")).json()["id"] == plain
    for odd in [f"{{{plain}}}", f"urn:uuid:{plain}", plain.replace("-", ""), f" {plain}"]:
        response = await client.get(f"/api/v1/events/{odd}")
        assert_problem(response, 404, "not-found")


async def test_cursors_have_one_spelling(client: httpx.AsyncClient, partner: Partner) -> None:
    for _ in range(3):
        await create_event(client, partner)
    first = await client.get("/api/v1/events?limit=1")
    cursor = first.json()["next_cursor"]
    assert (await client.get(f"/api/v1/events?limit=1&cursor={cursor}")).status_code == 200
    for odd in [cursor + "=", cursor + "==", "czAx", "s1", "%EF%BC%91", "c-" + cursor]:
        response = await client.get(f"/api/v1/events?limit=1&cursor={odd}")
        assert_problem(response, 422, "invalid-input")


async def test_patch_needs_a_field(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}"
    headers = {**partner.auth, "Content-Type": "application/json"}
    for body in [b"", b"{}", b" {} "]:
        response = await client.patch(url, content=body, headers=headers)
        assert_problem(response, 422, "invalid-input")


async def test_a_stranger_gets_401_whatever_the_body(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}"
    bad = {"Authorization": "Bearer pt_unknown"}
    for path in ["/api/v1/events", f"{url}/door-tokens", f"{url}/sessions", f"{url}/checkins"]:
        for headers in [{}, bad]:
            for body in [b"", b"not json", b'{"x": 1}']:
                response = await client.post(
                    path, content=body, headers={**headers, "Content-Type": "text/plain"}
                )
                assert_problem(response, 401, "unauthenticated")


async def test_html_answers_carry_security_headers(client: httpx.AsyncClient) -> None:
    for path in ["/", "/api/docs", "/no-such-page", "/events/a%00"]:
        response = await client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


async def test_the_host_header_is_checked_and_never_builds_links(
    client: httpx.AsyncClient,
) -> None:
    evil = await client.get("/", headers={"Host": "evil.example"})
    assert evil.status_code == 400
    page = await client.get("/", headers={"Host": "localhost"})
    assert page.status_code == 200
    assert not re.search(r'href="https?://localhost', page.text)
    moved = await client.get("/events/", headers={"Host": "127.0.0.1"})
    assert moved.status_code == 308
    assert moved.headers["location"] == "http://test/events"


@given(st.text(max_size=40))
def test_policy_refuses_exactly_controls_and_breaks(text: str) -> None:
    controls = [
        c for c in text if unicodedata.category(c) in ("Cc", "Cs") or c in policy.LINE_BREAKS
    ]
    assert (policy.text_fault(text) is None) == (not controls)
    others = [c for c in controls if c not in policy.LINE_BREAKS]
    assert (policy.text_fault(text, multiline=True) is None) == (not others)


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=60))
def test_policy_keeps_ordinary_text(text: str) -> None:
    assert policy.text_fault(text) is None


def _nested(depth: int) -> Any:
    value: Any = "x\x00"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def test_the_field_of_a_deep_fault_is_named() -> None:
    found: list[Any] = []
    policy.tree_faults(_nested(3), "", found)
    assert [f["field"] for f in found] == ["a.0.a.0.a.0"]


async def test_429_says_when_to_retry(
    client: httpx.AsyncClient, app: Starlette, partner: Partner
) -> None:
    event = await create_event(client, partner)
    saved = app.state.limiter
    app.state.limiter = ratelimit.Limiter(ratelimit.parse("register=1/60"))
    try:
        url = f"/api/v1/events/{event['id']}/registrations"
        await client.post(url, json={"name": "A", "email": "a@example.org"})
        refused = await client.post(url, json={"name": "B", "email": "b@example.org"})
        page = await client.post(f"/events/{event['slug']}", data={"csrf": "x"})
    finally:
        await app.state.limiter.close()
        app.state.limiter = saved
    problem = assert_problem(refused, 429, "rate-limited")
    # the seconds left in the 60-second window (limits' fixed window, real time)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert problem["retry_after"] == int(refused.headers["retry-after"])
    assert page.status_code == 429 and 1 <= int(page.headers["retry-after"]) <= 60
