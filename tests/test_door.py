"""The door: session doors, door labels, in/out with re-entry, walk-ins (with a race and its
control), badges and the check-in list as PDF."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pypdf
import pytest
import qrcode
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from events import badges, walkins
from events.db import Database
from events.errors import InvalidInput
from events.queries import Connection, Row
from tests.conftest import Partner, assert_problem, create_event
from tests.test_checkin import Door, door_for, refusal, register
from tests.test_registration_races import seat_books


async def session_of(client: httpx.AsyncClient, partner: Partner, event: dict[str, Any]) -> str:
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={"title": "Room A", "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def scan(client: httpx.AsyncClient, door: Door, code: str, **extra: Any) -> httpx.Response:
    return await client.post(door.scans, json={"code": code, **extra}, headers=door.auth)


# --- session doors, labels -----------------------------------------------------------------


async def test_a_session_door_admits_its_session_only(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    session_id = await session_of(client, partner, event)
    tokens = f"/api/v1/events/{event['id']}/door-tokens"
    bad = await client.post(
        tokens, json={"label": "x", "session_id": event["id"]}, headers=partner.auth
    )
    assert_problem(bad, 422, "invalid-input")
    made = await client.post(
        tokens, json={"label": "Room A door", "session_id": session_id}, headers=partner.auth
    )
    assert made.status_code == 201 and made.json()["session_id"] == session_id
    room = Door(event, made.json()["token"])
    holder = await register(client, event, "Holder", sessions=[session_id])
    other = await register(client, event, "Other")
    body = refusal(await scan(client, room, other["ticket"]["code"]), 409, "wrong_session")
    assert body["registration"]["name"] == "Other"
    elsewhere = await scan(client, room, holder["ticket"]["code"], session_id=event["id"])
    assert_problem(elsewhere, 422, "invalid-input")
    ok = await scan(client, room, holder["ticket"]["code"])
    assert ok.status_code == 200 and ok.json()["door"] == "Room A door"
    # the session door's check-in is the session's: the event door admits the holder too
    hall = await door_for(client, partner, event)
    assert (await scan(client, hall, holder["ticket"]["code"])).status_code == 200
    kit = (await client.get(f"/api/v1/events/{event['id']}/checkin-kit", headers=room.auth)).json()
    assert kit["door"] == {
        "label": "Room A door",
        "session_id": session_id,
        "session_title": "Room A",
        "reentry": False,
    }
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=room.auth)).json()
    assert stats["session"] == {
        "id": session_id,
        "title": "Room A",
        "registered": 1,
        "checked_in": 1,
        "inside": 1,
    }
    listed = (await client.get(tokens, headers=partner.auth)).json()["items"]
    assert [t.get("session_id") for t in listed] == [session_id, None]


async def test_already_checked_in_names_the_first_door_and_time(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    north = await door_for(client, partner, event)  # "Hall 3 north door"
    made = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens", json={"label": "South"}, headers=partner.auth
    )
    south = Door(event, made.json()["token"])
    person = await register(client, event, "Chan Tai Man")
    first = await scan(client, north, person["ticket"]["code"])
    assert first.json()["door"] == "Hall 3 north door"
    again = refusal(await scan(client, south, person["ticket"]["code"]), 409, "already_checked_in")
    assert again["door"] == "Hall 3 north door"
    assert again["checked_in_at"] == first.json()["checked_in_at"]
    history = await client.get(f"/api/v1/events/{event['id']}/checkins", headers=partner.auth)
    assert [c["door"] for c in history.json()["items"]] == ["Hall 3 north door"]


async def test_a_revoked_door_token_is_401_on_the_api_and_the_scanner(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    assert (await client.get(f"/scan?token={door.token}")).status_code == 200
    tokens = f"/api/v1/events/{event['id']}/door-tokens"
    token_id = (await client.get(tokens, headers=partner.auth)).json()["items"][0]["id"]
    revoked = await client.post(f"{tokens}/{token_id}/revoke", headers=partner.auth)
    assert revoked.json()["revoked_at"]
    kit = await client.get(f"/api/v1/events/{event['id']}/checkin-kit", headers=door.auth)
    assert_problem(kit, 401, "unauthenticated")
    assert (await client.get(f"/scan?token={door.token}")).status_code == 401


# --- in and out ----------------------------------------------------------------------------


async def test_out_and_in_again_with_reentry(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, reentry=True)
    assert event["reentry"] is True
    door = await door_for(client, partner, event)
    code = (await register(client, event, "Re Entry"))["ticket"]["code"]
    stats_url = f"/api/v1/events/{event['id']}/stats"
    refusal(await scan(client, door, code, direction="out"), 409, "not_inside")
    assert (await scan(client, door, code)).json()["result"] == "accepted"
    assert (await client.get(stats_url, headers=door.auth)).json()["inside"] == 1
    out = await scan(client, door, code, direction="out")
    assert out.status_code == 200 and out.json()["direction"] == "out"
    refusal(await scan(client, door, code, direction="out"), 409, "not_inside")
    counts = (await client.get(stats_url, headers=door.auth)).json()
    assert counts["inside"] == 0 and counts["checked_in"] == 1
    assert (await scan(client, door, code)).json()["result"] == "accepted"
    refusal(await scan(client, door, code), 409, "already_checked_in")
    assert (await client.get(stats_url, headers=door.auth)).json()["inside"] == 1
    log = await client.get(f"/api/v1/events/{event['id']}/audit", headers=partner.auth)
    moves = [e for e in log.json()["items"] if e["action"].startswith("checkin.")]
    assert [e["action"] for e in moves] == [
        "checkin.reentered",
        "checkin.exited",
        "checkin.created",
    ]
    assert {e["actor"]["type"] for e in moves} == {"door"}
    assert moves[1]["changes"]["door"] == [None, "Hall 3 north door"]


async def test_without_reentry_a_second_in_is_already_checked_in(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    assert event["reentry"] is False
    door = await door_for(client, partner, event)
    code = (await register(client, event, "Once Only"))["ticket"]["code"]
    first = await scan(client, door, code)
    assert (await scan(client, door, code, direction="out")).status_code == 200
    again = refusal(await scan(client, door, code), 409, "already_checked_in")
    assert again["checked_in_at"] == first.json()["checked_in_at"]
    patched = await client.patch(
        f"/api/v1/events/{event['id']}", json={"reentry": True}, headers=partner.auth
    )
    assert patched.json()["reentry"] is True
    assert (await scan(client, door, code)).json()["result"] == "accepted"


async def test_concurrent_reentries_let_one_in(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, reentry=True)
    door = await door_for(client, partner, event)
    code = (await register(client, event, "Busy Door"))["ticket"]["code"]
    await scan(client, door, code)
    await scan(client, door, code, direction="out")
    answers = await asyncio.gather(*(scan(client, door, code) for _ in range(20)))
    assert Counter(r.json()["result"] for r in answers) == {
        "accepted": 1,
        "already_checked_in": 19,
    }


async def test_batch_scans_go_in_and_out_once_per_nonce(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, reentry=True)
    door = await door_for(client, partner, event)
    code = (await register(client, event, "Offline Mover"))["ticket"]["code"]
    scans = [
        {"code": code, "scanned_at": "2026-01-01T09:00:00+08:00", "nonce": "a"},
        {"code": code, "scanned_at": "2026-01-01T10:00:00+08:00", "nonce": "b", "direction": "out"},
        {"code": code, "scanned_at": "2026-01-01T11:00:00+08:00", "nonce": "c"},
        {"code": code, "scanned_at": "2026-01-01T11:01:00+08:00", "nonce": "d"},
    ]
    url = f"{door.scans}/batch"
    first = await client.post(url, json={"scans": scans}, headers=door.auth)
    results = [r["result"] for r in first.json()["results"]]
    assert results == ["accepted", "accepted", "accepted", "already_checked_in"]
    again = await client.post(url, json={"scans": scans}, headers=door.auth)
    assert again.json() == first.json()
    stats = await client.get(f"/api/v1/events/{event['id']}/stats", headers=door.auth)
    assert stats.json()["inside"] == 1 and stats.json()["checked_in"] == 1


# --- walk-ins ------------------------------------------------------------------------------


async def test_a_walk_in_takes_a_seat_and_is_checked_in(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    door = await door_for(client, partner, event)
    url = f"/api/v1/events/{event['id']}/walk-ins"
    made = await client.post(url, json={"name": "陳大文 Chan Tai Man"}, headers=door.auth)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "confirmed" and body["name"] == "陳大文 Chan Tai Man"
    assert body["checkin"]["result"] == "accepted" and body["checkin"]["door"] == door_label()
    again = await scan(client, door, body["ticket"]["code"])
    refusal(again, 409, "already_checked_in")
    with_mail = await client.post(
        url, json={"name": "Walk In", "email": "walk@example.org"}, headers=door.auth
    )
    assert with_mail.status_code == 201
    full = await client.post(url, json={"name": "Too Late"}, headers=door.auth)
    assert_problem(full, 409, "event-full")
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=door.auth)).json()
    assert (stats["confirmed"], stats["checked_in"], stats["inside"]) == (2, 2, 2)
    assert_problem(
        await client.post(url, json={"name": ""}, headers=door.auth), 422, "invalid-input"
    )
    assert_problem(
        await client.post(url, json={"name": "X"}, headers=other_partner.auth), 404, "not-found"
    )
    elsewhere = await create_event(client, partner)
    other_door = await door_for(client, partner, elsewhere)
    assert_problem(
        await client.post(url, json={"name": "X"}, headers=other_door.auth), 403, "forbidden"
    )


def door_label() -> str:
    return "Hall 3 north door"


async def walk_in_surge(client: httpx.AsyncClient, door: Door, count: int) -> list[httpx.Response]:
    url = f"/api/v1/events/{door.event['id']}/walk-ins"
    return list(
        await asyncio.gather(
            *(
                client.post(url, json={"name": f"Walker {i}"}, headers=door.auth)
                for i in range(count)
            )
        )
    )


@pytest.fixture
def unguarded_walk_ins() -> Iterator[None]:
    """The control: the seat taken the naive way, count then insert."""
    original = walkins._take_seat

    async def check_then_insert(
        conn: Connection, event: Row, fields: dict[str, Any], now: datetime
    ) -> Row:
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'",
            event["id"],
        )
        await asyncio.sleep(0.01)  # a handler's I/O: the race window
        if taken >= event["capacity"]:
            raise walkins.EventFull()
        record = await conn.fetchrow(
            "INSERT INTO registrations (event_id, name, email, locale, answers, status, shard,"
            " created_at, confirmed_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'confirmed', 0,"
            " $6, $6, $6) RETURNING *",
            event["id"],
            fields["name"],
            fields["email"],
            fields["locale"],
            fields["answers"],
            now,
        )
        assert record is not None
        return dict(record)

    walkins._take_seat = check_then_insert  # type: ignore[assignment]
    yield
    walkins._take_seat = original  # type: ignore[assignment]


async def test_control_naive_walk_ins_overbook(
    client: httpx.AsyncClient, partner: Partner, unguarded_walk_ins: None
) -> None:
    event = await create_event(client, partner, capacity=5, waitlist=False)
    door = await door_for(client, partner, event)
    answers = await walk_in_surge(client, door, 40)
    assert sum(r.status_code == 201 for r in answers) > 5, "the control must overbook"


async def test_walk_ins_and_registrations_at_once_never_exceed_the_capacity(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, capacity=10, waitlist=False)
    door = await door_for(client, partner, event)
    url = f"/api/v1/events/{event['id']}/registrations"
    online = [
        client.post(url, json={"name": f"Online {i}", "email": f"o{i}@example.org"})
        for i in range(30)
    ]
    answers = await asyncio.gather(walk_in_surge(client, door, 30), *online)
    walked = answers[0]
    registered = [r for r in answers[1:] if isinstance(r, httpx.Response)]
    made = [r for r in [*walked, *registered] if r.status_code == 201]
    assert len(made) == 10
    assert {r.status_code for r in [*walked, *registered]} == {201, 409}
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 10
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=door.auth)).json()
    assert stats["checked_in"] == sum(r.status_code == 201 for r in walked)


# --- badges and the list -------------------------------------------------------------------


def pdf_text(response: httpx.Response) -> tuple[pypdf.PdfReader, str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


async def test_a_badge_has_the_chinese_and_latin_names_and_embeds_its_font(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(
        client,
        partner,
        questions=[{"id": "organisation", "label": "Organisation", "kind": "text"}],
    )
    person = await register(
        client, event, "陳大文 Chan Tai Man", answers={"organisation": "香港科技園 HKSTP"}
    )
    url = f"/api/v1/registrations/{person['id']}/badge.pdf"
    reader, text = pdf_text(await client.get(url, headers=partner.auth))
    assert "陳大文" in text and "Chan Tai Man" in text and "香港科技園" in text
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (105, 148)
    fonts = [
        f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        for f in reader.pages[0]["/Resources"]["/Font"].values()
        if "/DescendantFonts" in f.get_object()
    ]
    assert any("/FontFile2" in d or "/FontFile3" in d for d in fonts)  # embedded
    label, _ = pdf_text(await client.get(url + "?size=label", headers=partner.auth))
    width, height = (float(v) * 25.4 / 72 for v in label.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (101, 76)
    assert_problem(await client.get(url + "?size=a0", headers=partner.auth), 422, "invalid-input")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    door = await door_for(client, partner, event)
    assert (await client.get(url, headers=door.auth)).status_code == 200
    own = await client.get(f"{url}?token={person['access_token']}")
    assert own.status_code == 200


async def test_an_events_badges_and_check_in_list(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    names = ["黃小明 Wong Siu Ming", "李嘉欣 Lee Ka Yan", "Cancelled Person"]
    people = [await register(client, event, n) for n in names]
    await client.post(f"/api/v1/registrations/{people[2]['id']}/cancel", headers=partner.auth)
    await scan(client, door, people[0]["ticket"]["code"])
    url = f"/api/v1/events/{event['id']}/badges.pdf"
    reader, text = pdf_text(await client.get(url + "?status=confirmed", headers=door.auth))
    assert len(reader.pages) == 2 and "黃小明" in text and "李嘉欣" in text
    assert "Cancelled Person" not in text
    everyone, text = pdf_text(
        await client.get(url + "?status=confirmed,cancelled", headers=partner.auth)
    )
    assert len(everyone.pages) == 3 and "Cancelled Person" in text
    assert_problem(
        await client.get(url + "?status=nope", headers=partner.auth), 422, "invalid-input"
    )
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    _, text = pdf_text(
        await client.get(f"/api/v1/events/{event['id']}/checkin-list.pdf", headers=door.auth)
    )
    assert text.index("李嘉欣") < text.index("黃小明")  # by name
    assert "Wong Siu Ming" in text and "Lee Ka Yan" in text


async def test_badges_come_in_parts_with_a_link_to_the_next(
    client: httpx.AsyncClient, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(badges, "MAX_BADGES", 2)
    event = await create_event(client, partner)
    for name in ("One", "Two", "Three"):
        await register(client, event, name)
    url = f"/api/v1/events/{event['id']}/badges.pdf?size=label"
    first = await client.get(url, headers=partner.auth)
    reader, text = pdf_text(first)
    assert len(reader.pages) == 2 and "Three" not in text
    link = first.headers["link"]
    assert link.startswith("</api/v1/events/") and link.endswith('>; rel="next"')
    rest, text = pdf_text(await client.get(link[1 : link.index(">")], headers=partner.auth))
    assert len(rest.pages) == 1 and "Three" in text
    _, text = pdf_text(
        await client.get(f"/api/v1/events/{event['id']}/checkin-list.pdf", headers=partner.auth)
    )
    assert all(name in text for name in ("One", "Two", "Three"))  # the list is never cut


async def test_a_walk_in_at_a_session_door_is_in_that_session(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    session_id = await session_of(client, partner, event)
    made = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens",
        json={"label": "Room A door", "session_id": session_id},
        headers=partner.auth,
    )
    room = Door(event, made.json()["token"])
    walked = await client.post(
        f"/api/v1/events/{event['id']}/walk-ins", json={"name": "Late Comer"}, headers=room.auth
    )
    assert walked.status_code == 201, walked.text
    assert walked.json()["sessions"] == [session_id]
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=room.auth)).json()
    assert stats["session"]["checked_in"] == 1 and stats["session"]["registered"] == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=5, max_size=5), min_size=5, max_size=5))
def test_qr_rectangles_cover_exactly_the_dark_modules(cells: list[list[bool]]) -> None:
    covered = [[False] * 5 for _ in range(5)]
    for left, top, width, height in badges.qr_rectangles(cells):
        for y in range(top, top + height):
            for x in range(left, left + width):
                assert not covered[y][x], "rectangles overlap"
                covered[y][x] = True
    assert covered == cells


def test_the_badge_qr_drawing_reads_back_as_the_ticket_code() -> None:
    code = "AEAQCAI7SBFDLTMHNWD2AFS2DL3FG2S2LP6ADB6DU6HW54XKNORXMGTHUMV746XZWILKTJX76VC5I2G6D"
    made = qrcode.QRCode(
        border=0, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0
    )
    made.add_data(code)
    cells = made.get_matrix()
    scale, quiet = 8, 4
    side = (len(cells) + 2 * quiet) * scale
    pixels = bytearray([255]) * (side * side)
    for left, top, width, height in badges.qr_rectangles(cells):
        for y in range((top + quiet) * scale, (top + height + quiet) * scale):
            start = (left + quiet) * scale
            pixels[y * side + start : y * side + start + width * scale] = bytes(width * scale)
    found = zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (side, side)))
    assert [f.text for f in found] == [code]


@given(st.text(max_size=30))
def test_badge_query_parameters_are_a6_label_or_a_422(value: str) -> None:
    try:
        assert badges.parse_size(value) in ("a6", "label")
        assert value in ("", "a6", "label")
    except InvalidInput:
        assert value not in ("", "a6", "label")
    try:
        wanted = badges.parse_statuses(value)
        assert wanted and set(wanted) <= set(badges.STATUSES)
    except InvalidInput:
        pass


async def test_the_scanner_is_an_installable_offline_app(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, reentry=True)
    door = await door_for(client, partner, event)
    page = await client.get(f"/scan?token={door.token}")
    assert f'rel="manifest" href="/scan.webmanifest?token={door.token}"' in page.text
    assert 'name="direction"' in page.text and "Hall 3 north door" in page.text
    manifest = await client.get(f"/scan.webmanifest?token={door.token}")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == f"/scan?token={door.token}" and body["display"] == "standalone"
    for icon in body["icons"]:
        assert (await client.get(icon["src"])).status_code == 200
    worker = await client.get("/scan-sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/scan"
    assert "respondWith" in worker.text
    without = await create_event(client, partner)
    plain = await client.get(f"/scan?token={(await door_for(client, partner, without)).token}")
    assert 'name="direction"' not in plain.text  # no in/out without re-entry
