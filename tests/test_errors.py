"""Every error is an RFC 9457 problem with a stable code; no input makes the service fail."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Partner, assert_problem, create_event, event_body

PROBLEM = "application/problem+json"


async def test_401_403_404_409(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}"
    assert_problem(await client.post("/api/v1/events", json=event_body()), 401, "unauthenticated")
    door = await client.post(f"{url}/door-tokens", json={"label": "d"}, headers=partner.auth)
    door_auth = {"Authorization": f"Bearer {door.json()['token']}"}
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=door_auth), 403, "forbidden"
    )
    assert_problem(
        await client.patch(url, json={"title": "x"}, headers=other_partner.auth), 404, "not-found"
    )
    for missing in ("00000000-0000-0000-0000-000000000000", "not-an-id", "1"):
        assert_problem(await client.get(f"/api/v1/events/{missing}"), 404, "not-found")
    await client.post(f"{url}/cancel", headers=partner.auth)
    assert_problem(await client.post(f"{url}/publish", headers=partner.auth), 409, "invalid-state")


async def test_413_for_bodies_over_one_mebibyte(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    big = json.dumps(event_body(description="x" * (1024 * 1024))).encode()
    headers = {**partner.auth, "Content-Type": "application/json"}
    response = await client.post("/api/v1/events", content=big, headers=headers)
    assert_problem(response, 413, "payload-too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b" " * 65536

    streamed = await client.post("/api/v1/events", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413, "payload-too-large")
    just_under = json.dumps(event_body(description="y" * 20_000)).encode()
    ok = await client.post("/api/v1/events", content=just_under, headers=headers)
    assert ok.status_code == 201, ok.text


async def test_415_for_bodies_that_are_not_json(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    body = json.dumps(event_body()).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = await client.post(
            "/api/v1/events", content=body, headers={**partner.auth, "Content-Type": content_type}
        )
        assert_problem(response, 415, "unsupported-media-type")
    ok = await client.post(
        "/api/v1/events",
        content=body,
        headers={**partner.auth, "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201, ok.text


async def _fields(client: httpx.AsyncClient, partner: Partner, body: Any) -> list[str]:
    response = await client.post("/api/v1/events", json=body, headers=partner.auth)
    problem = assert_problem(response, 422, "invalid-input")
    assert all(set(e) == {"field", "message"} and e["message"] for e in problem["errors"])
    return [e["field"] for e in problem["errors"]]


async def test_422_names_the_field_with_dotted_paths(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    assert await _fields(client, partner, event_body(owner_id="x")) == ["owner_id"]
    assert await _fields(client, partner, event_body(status="published")) == ["status"]
    assert await _fields(client, partner, event_body(venue={"name": 5})) == ["venue.name"]
    assert await _fields(client, partner, event_body(venue={"name": "a", "floor": 3})) == [
        "venue.floor"
    ]
    assert await _fields(client, partner, event_body(venue={})) == ["venue.name"]
    questions = [{"id": "ok", "label": "Fine"}, {"id": "Bad Id!", "label": "Sector"}]
    assert await _fields(client, partner, event_body(questions=questions)) == ["questions.1.id"]
    missing = event_body()
    del missing["title"]
    assert await _fields(client, partner, missing) == ["title"]
    assert await _fields(client, partner, event_body(capacity=-1)) == ["capacity"]
    assert await _fields(client, partner, event_body(capacity="many")) == ["capacity"]
    assert await _fields(client, partner, event_body(visibility="secret")) == ["visibility"]
    assert await _fields(client, partner, [1, 2]) == ["body"]


async def test_422_for_times_without_an_offset(client: httpx.AsyncClient, partner: Partner) -> None:
    for value in ("2027-05-20T09:00:00", "2027-05-20", "20 May 2027", "2027-02-30T09:00:00Z"):
        assert await _fields(client, partner, event_body(starts_at=value)) == ["starts_at"]
    no_offset = event_body(registration_opens_at="2027-03-01T10:00:00")
    assert await _fields(client, partner, no_offset) == ["registration_opens_at"]


async def test_422_for_times_out_of_range(client: httpx.AsyncClient, partner: Partner) -> None:
    far = event_body(starts_at="9999-12-31T20:00:00-10:00", ends_at="9999-12-31T21:00:00-10:00")
    assert "starts_at" in await _fields(client, partner, far)
    early = event_body(starts_at="0001-01-01T00:00:00+10:00")
    assert "starts_at" in await _fields(client, partner, early)


async def test_422_for_malformed_json(client: httpx.AsyncClient, partner: Partner) -> None:
    headers = {**partner.auth, "Content-Type": "application/json"}
    for raw in (b"{", b"\xff\xfe", b'{"title": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000):
        response = await client.post("/api/v1/events", content=raw, headers=headers)
        assert_problem(response, 422, "invalid-input")


async def test_422_for_nul_characters_that_the_database_cannot_store(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    assert await _fields(client, partner, event_body(title="Summit\x00")) == ["title"]
    assert await _fields(client, partner, event_body(venue={"name": "\x00"})) == ["venue.name"]
    # an escaped backslash before "u0000" is ordinary text
    fine = await client.post(
        "/api/v1/events", json=event_body(title="C:\\u0000"), headers=partner.auth
    )
    assert fine.status_code == 201 and fine.json()["title"] == "C:\\u0000"


async def test_list_limits_and_cursors(client: httpx.AsyncClient) -> None:
    for query, field in (
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=czEyMzQ1Njc4OTAxMjM0NTY3ODkw", "cursor"),  # "s" + 25 digits
        ("cursor=%00", "cursor"),
    ):
        problem = assert_problem(await client.get(f"/api/v1/events?{query}"), 422, "invalid-input")
        assert problem["errors"][0]["field"] == field, query
    assert (await client.get("/api/v1/events?limit=500")).status_code == 200


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    for path in ("/api", "/api/v1/nope", "/api/v2/events", "/api/v1/events/x/y/z"):
        problem = assert_problem(await client.get(path), 404, "not-found")
        assert "Traceback" not in problem["detail"]
    assert (await client.get("/no-such-page")).status_code == 404  # pages answer in HTML
    wrong = await client.delete("/api/v1/events")
    assert_problem(wrong, 405, "method-not-allowed")
    assert "POST" in wrong.headers["allow"] and "GET" in wrong.headers["allow"]
    assert_problem(await client.put("/api/v1/events/x"), 405, "method-not-allowed")


# --- nothing makes it fail ------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OFFSETS = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]
TIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(OFFSETS),
    ).map(datetime.isoformat),
    st.sampled_from(
        [
            "2027-05-20T09:00:00",
            "0001-01-01T00:00:00+10:00",
            "9999-12-31T23:59:59-10:00",
            "2027-02-30T00:00:00Z",
            "2027-05-20T09:00:00+24:00",
        ]
    ),
    JSON_VALUES,
)
FIELDS = {
    "title": st.text() | JSON_VALUES,
    "description": st.text(),
    "timezone": st.sampled_from(["Asia/Hong_Kong", "UTC", "Bad/Zone", "", "../../x", "Asia"])
    | st.text(max_size=20),
    "starts_at": TIMES,
    "ends_at": TIMES,
    "capacity": st.integers() | JSON_VALUES,
    "waitlist": st.booleans() | JSON_VALUES,
    "visibility": st.sampled_from(["public", "unlisted", "private", "x"]),
    "venue": st.fixed_dictionaries({"name": st.text()}, optional={"address": st.text()})
    | JSON_VALUES,
    "registration_opens_at": TIMES,
    "registration_closes_at": TIMES,
    "questions": st.lists(
        st.fixed_dictionaries(
            {"id": st.sampled_from(["a", "b", "Bad id"]) | st.text(), "label": st.text()},
            optional={
                "kind": st.sampled_from(["text", "choice", "checkbox", "other"]),
                "required": st.booleans(),
                "options": st.lists(st.text(), max_size=3),
            },
        ),
        max_size=3,
    )
    | JSON_VALUES,
    "status": st.sampled_from(["published", "cancelled"]),
    "unknown": JSON_VALUES,
}
# Mostly valid bodies with a few fields changed reach the database; the rest test decoding.
CHANGES = st.fixed_dictionaries({}, optional=FIELDS)
BODIES = st.one_of(
    CHANGES.map(lambda changes: json.dumps(event_body(**changes)).encode()),
    CHANGES.map(lambda changes: json.dumps(changes).encode()),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
)


@pytest.fixture
async def patch_target(client: httpx.AsyncClient, partner: Partner) -> str:
    return str((await create_event(client, partner))["id"])


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES, patch=st.booleans())
async def test_no_input_makes_a_500(
    client: httpx.AsyncClient, partner: Partner, patch_target: str, body: bytes, patch: bool
) -> None:
    headers = {**partner.auth, "Content-Type": "application/json"}
    if patch:
        response = await client.patch(
            f"/api/v1/events/{patch_target}", content=body, headers=headers
        )
    else:
        response = await client.post("/api/v1/events", content=body, headers=headers)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["status"] == response.status_code
