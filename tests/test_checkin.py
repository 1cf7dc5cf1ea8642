"""Check-in at the door: every result, races, offline batches, undo, kit, search, stats, and
what a door token may (not) do."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from events import checkin, checkin_types, tickets
from events.db import Database
from events.errors import InvalidTicket
from events.hosting import Actor
from tests.conftest import Partner, assert_problem, create_event, event_body
from tests.factories import register_person as register


@dataclass
class Door:
    event: dict[str, Any]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def scans(self) -> str:
        return f"/api/v1/events/{self.event['id']}/checkins"


async def door_for(client: httpx.AsyncClient, partner: Partner, event: dict[str, Any]) -> Door:
    made = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens",
        json={"label": "Hall 3 north door"},
        headers=partner.auth,
    )
    assert made.status_code == 201, made.text
    return Door(event, made.json()["token"])


async def setup(
    client: httpx.AsyncClient, partner: Partner, names: tuple[str, ...] = ("Chan Tai Man",)
) -> tuple[Door, list[dict[str, Any]]]:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    return door, [await register(client, event, name) for name in names]


def refusal(response: httpx.Response, status: int, result: str) -> dict[str, Any]:
    body = assert_problem(response, status, result.replace("_", "-"))
    assert body["result"] == result
    return body


# --- one scan ------------------------------------------------------------------------------


async def test_accepted_then_already_checked_in_with_the_first_time(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    code = reg["ticket"]["code"]
    first = await client.post(door.scans, json={"code": code, "device": "A"}, headers=door.auth)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["result"] == "accepted"
    assert body["registration"] == {"id": reg["id"], "name": "Chan Tai Man"}
    assert body["checked_in_at"].endswith("+08:00")  # the event's offset (Asia/Hong_Kong)
    second = await client.post(door.scans, json={"code": code, "device": "B"}, headers=door.auth)
    dup = refusal(second, 409, "already_checked_in")
    assert dup["checked_in_at"] == body["checked_in_at"]
    assert dup["registration"]["name"] == "Chan Tai Man"


async def test_device_and_scan_time_are_recorded(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    scanned = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    response = await client.post(
        door.scans,
        json={
            "code": reg["ticket"]["code"],
            "device": "north-1",
            "scanned_at": scanned.isoformat(),
        },
        headers=door.auth,
    )
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["checked_in_at"]) == scanned
    history = await client.get(door.scans, headers=door.auth)
    [item] = history.json()["items"]
    assert item["device"] == "north-1"
    assert datetime.fromisoformat(item["checked_in_at"]) == scanned
    assert datetime.fromisoformat(item["recorded_at"]) > scanned


async def test_a_scan_time_in_the_future_is_the_servers_clock(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    future = datetime.now(UTC) + timedelta(days=2)
    response = await client.post(
        door.scans,
        json={"code": reg["ticket"]["code"], "scanned_at": future.isoformat()},
        headers=door.auth,
    )
    assert datetime.fromisoformat(response.json()["checked_in_at"]) < future - timedelta(days=1)


async def test_cancelled_registration(client: httpx.AsyncClient, partner: Partner) -> None:
    door, [reg] = await setup(client, partner)
    cancelled = await client.post(
        f"/api/v1/registrations/{reg['id']}/cancel?token={reg['access_token']}"
    )
    assert cancelled.status_code == 200
    body = refusal(
        await client.post(door.scans, json={"code": reg["ticket"]["code"]}, headers=door.auth),
        409,
        "cancelled",
    )
    assert body["registration"]["id"] == reg["id"]


async def test_cancelled_event(client: httpx.AsyncClient, partner: Partner) -> None:
    door, [reg] = await setup(client, partner)
    done = await client.post(f"/api/v1/events/{door.event['id']}/cancel", headers=partner.auth)
    assert done.status_code == 200, done.text
    refusal(
        await client.post(door.scans, json={"code": reg["ticket"]["code"]}, headers=door.auth),
        409,
        "cancelled",
    )


async def test_wrong_event(client: httpx.AsyncClient, partner: Partner) -> None:
    door, _ = await setup(client, partner)
    other_event = await create_event(client, partner)
    other = await register(client, other_event, "Elsewhere Person")
    body = refusal(
        await client.post(door.scans, json={"code": other["ticket"]["code"]}, headers=door.auth),
        409,
        "wrong_event",
    )
    assert "registration" not in body  # nothing of another event's attendee is shown


async def test_forged_and_unreadable_codes_are_invalid(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    code = reg["ticket"]["code"]
    parsed = tickets.parse(code)
    assert parsed is not None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = tickets.sign(
        Ed25519PrivateKey.generate(), parsed.event_seq, parsed.registration_seq, 1
    )
    forged_other = tickets.sign(Ed25519PrivateKey.generate(), parsed.event_seq + 1, 1, 1)
    for bad in ("", "hello", "T1V1", code[:-1], code[:-2] + ("A" if code[-2] != "A" else "B")):
        refusal(
            await client.post(door.scans, json={"code": bad}, headers=door.auth), 422, "invalid"
        )
    for bad in (forged, forged_other, "A" * 5000):
        response = await client.post(door.scans, json={"code": bad}, headers=door.auth)
        if len(bad) > 1000:
            assert_problem(response, 422, "invalid-input")
        else:
            refusal(response, 422, "invalid")
    history = await client.get(door.scans, headers=door.auth)
    assert history.json()["items"] == []


async def test_session_check_in(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": "AI and data science",
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
        },
        headers=partner.auth,
    )
    assert made.status_code == 201, made.text
    session_id = made.json()["id"]
    door = await door_for(client, partner, event)
    holder = await register(client, event, "Session Holder", sessions=[session_id])
    other = await register(client, event, "No Session")
    at_session = {"session_id": session_id}
    refusal(
        await client.post(
            door.scans, json={"code": other["ticket"]["code"], **at_session}, headers=door.auth
        ),
        409,
        "wrong_session",
    )
    ok = await client.post(
        door.scans, json={"code": holder["ticket"]["code"], **at_session}, headers=door.auth
    )
    assert ok.json()["result"] == "accepted", ok.text
    refusal(
        await client.post(
            door.scans, json={"code": holder["ticket"]["code"], **at_session}, headers=door.auth
        ),
        409,
        "already_checked_in",
    )
    # the event's own door is a separate check-in
    door_scan = await client.post(
        door.scans, json={"code": holder["ticket"]["code"]}, headers=door.auth
    )
    assert door_scan.json()["result"] == "accepted"
    assert_problem(
        await client.post(
            door.scans,
            json={"code": holder["ticket"]["code"], "session_id": "nope"},
            headers=door.auth,
        ),
        422,
        "invalid-input",
    )


async def test_fifty_concurrent_scans_admit_once(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    code = reg["ticket"]["code"]
    responses = await asyncio.gather(
        *(
            client.post(door.scans, json={"code": code, "device": f"d{i}"}, headers=door.auth)
            for i in range(50)
        )
    )
    results = [r.json()["result"] for r in responses]
    assert results.count("accepted") == 1, results
    assert results.count("already_checked_in") == 49
    times = {r.json()["checked_in_at"] for r in responses}
    assert len(times) == 1  # every duplicate reports the one first check-in
    history = (await client.get(door.scans, headers=door.auth)).json()["items"]
    assert len(history) == 1


async def test_a_scan_is_two_statements_with_a_door_token(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    """The hot path: after the token lookup, one statement (keys are cached)."""
    door, regs = await setup(client, partner, ("Query One", "Query Two"))
    actor_row = await _door_actor(db, door)
    statements: list[str] = []
    async with db.connection() as conn:
        conn.add_query_logger(lambda record: statements.append(record.query))
        at = await checkin.door(conn, actor_row, door.event["id"], load=False)
        await checkin.scan(conn, at, checkin_types.ScanIn(code=regs[0]["ticket"]["code"]), _now())
        statements.clear()
        outcome = await checkin.scan(
            conn, at, checkin_types.ScanIn(code=regs[1]["ticket"]["code"]), _now()
        )
        assert outcome.result == "accepted"
        assert len(statements) == 1, statements
        statements.clear()
        with pytest.raises(InvalidTicket):
            await checkin.scan(conn, at, checkin_types.ScanIn(code=_forge(regs[1])), _now())
        assert statements == []  # a forgery never reaches the database


def _now() -> datetime:
    return datetime.now(UTC)


def _forge(reg: dict[str, Any]) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    parsed = tickets.parse(reg["ticket"]["code"])
    assert parsed is not None
    return tickets.sign(Ed25519PrivateKey.generate(), parsed.event_seq, parsed.registration_seq, 1)


async def _door_actor(db: Database, door: Door) -> Actor:
    from events import hosting

    async with db.connection() as conn:
        return await hosting.authenticate(conn, door.token)


# --- offline batches -----------------------------------------------------------------------


def scan_item(code: str, device: str, at: datetime, nonce: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "device": device,
        "scanned_at": at.isoformat(),
        "nonce": nonce or uuid.uuid4().hex,
    }


async def test_batch_results_in_order_and_duplicates_in_a_batch(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, regs = await setup(client, partner, ("Batch One", "Batch Two"))
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    scans = [
        scan_item(regs[0]["ticket"]["code"], "east", t0),
        scan_item("garbage", "east", t0 + timedelta(seconds=5)),
        scan_item(regs[1]["ticket"]["code"], "east", t0 + timedelta(seconds=10)),
        scan_item(regs[0]["ticket"]["code"], "east", t0 + timedelta(seconds=20)),
    ]
    response = await client.post(door.scans + "/batch", json={"scans": scans}, headers=door.auth)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["result"] for r in results] == [
        "accepted",
        "invalid",
        "accepted",
        "already_checked_in",
    ]
    assert [r["nonce"] for r in results] == [s["nonce"] for s in scans]
    assert datetime.fromisoformat(results[0]["checked_in_at"]) == t0  # the device's time
    assert results[3]["checked_in_at"] == results[0]["checked_in_at"]
    assert results[0]["registration"]["name"] == "Batch One"


async def test_batch_reupload_changes_nothing(client: httpx.AsyncClient, partner: Partner) -> None:
    door, regs = await setup(client, partner, ("Retry One", "Retry Two"))
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    scans = [scan_item(r["ticket"]["code"], "west", t0) for r in regs]
    first = await client.post(door.scans + "/batch", json={"scans": scans}, headers=door.auth)
    assert [r["result"] for r in first.json()["results"]] == ["accepted", "accepted"]
    before = (await client.get(door.scans, headers=door.auth)).json()["items"]
    again = await client.post(door.scans + "/batch", json={"scans": scans}, headers=door.auth)
    assert again.json() == first.json()
    # re-uploaded alongside a new scan of the same ticket: the old nonce is replayed, the
    # new one is a duplicate
    extra = scan_item(regs[0]["ticket"]["code"], "west", t0)
    mixed = await client.post(
        door.scans + "/batch", json={"scans": [*scans, extra]}, headers=door.auth
    )
    assert [r["result"] for r in mixed.json()["results"]] == [
        "accepted",
        "accepted",
        "already_checked_in",
    ]
    after = (await client.get(door.scans, headers=door.auth)).json()["items"]
    assert after == before


async def test_concurrent_reuploads_of_one_batch(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, regs = await setup(client, partner, ("Race One", "Race Two", "Race Three"))
    t0 = datetime.now(UTC) - timedelta(minutes=1)
    scans = [scan_item(r["ticket"]["code"], "south", t0) for r in regs]
    responses = await asyncio.gather(
        *(
            client.post(door.scans + "/batch", json={"scans": scans}, headers=door.auth)
            for _ in range(5)
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert [r["result"] for r in bodies[0]["results"]] == ["accepted"] * 3
    assert len((await client.get(door.scans, headers=door.auth)).json()["items"]) == 3


async def test_offline_scans_at_two_doors_admit_once(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, regs = await setup(client, partner, ("Two Doors", "Other A", "Other B"))
    north = await door_for(client, partner, door.event)
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    code = regs[0]["ticket"]["code"]
    batch_a = [
        scan_item(regs[1]["ticket"]["code"], "A", t0),
        scan_item(code, "A", t0 + timedelta(minutes=1)),
    ]
    batch_b = [
        scan_item(code, "B", t0 + timedelta(minutes=2)),
        scan_item(regs[2]["ticket"]["code"], "B", t0),
    ]
    a, b = await asyncio.gather(
        client.post(door.scans + "/batch", json={"scans": batch_a}, headers=door.auth),
        client.post(north.scans + "/batch", json={"scans": batch_b}, headers=north.auth),
    )
    assert a.status_code == 200 and b.status_code == 200, (a.text, b.text)
    shared = [a.json()["results"][1]["result"], b.json()["results"][0]["result"]]
    assert sorted(shared) == ["accepted", "already_checked_in"]
    assert a.json()["results"][0]["result"] == b.json()["results"][1]["result"] == "accepted"


async def test_batch_of_mutated_codes_admits_no_one(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    code = reg["ticket"]["code"]
    rng = random.Random(4)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    mutated = set()
    while len(mutated) < 500:
        chars = list(code)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        candidate = "".join(chars)
        if candidate != code:
            mutated.add(candidate)
    now = datetime.now(UTC)
    scans = [scan_item(m, "fuzz", now) for m in sorted(mutated)]
    response = await client.post(door.scans + "/batch", json={"scans": scans}, headers=door.auth)
    assert {r["result"] for r in response.json()["results"]} == {"invalid"}
    ok = await client.post(door.scans, json={"code": code}, headers=door.auth)
    assert ok.json()["result"] == "accepted"


async def test_batch_input_is_validated(client: httpx.AsyncClient, partner: Partner) -> None:
    door, [reg] = await setup(client, partner)
    no_offset = {"code": reg["ticket"]["code"], "scanned_at": "2027-05-20T09:00:00", "nonce": "n"}
    assert_problem(
        await client.post(door.scans + "/batch", json={"scans": [no_offset]}, headers=door.auth),
        422,
        "invalid-input",
    )
    no_nonce = {"code": reg["ticket"]["code"], "scanned_at": _now().isoformat()}
    assert_problem(
        await client.post(door.scans + "/batch", json={"scans": [no_nonce]}, headers=door.auth),
        422,
        "invalid-input",
    )


# --- undo ----------------------------------------------------------------------------------


async def test_undo_is_host_only_and_recorded(client: httpx.AsyncClient, partner: Partner) -> None:
    door, [reg] = await setup(client, partner)
    code = reg["ticket"]["code"]
    await client.post(door.scans, json={"code": code}, headers=door.auth)
    undo = door.scans + "/undo"
    body = {"registration_id": reg["id"]}
    assert_problem(await client.post(undo, json=body, headers=door.auth), 403, "forbidden")
    done = await client.post(undo, json=body, headers=partner.auth)
    assert done.status_code == 200, done.text
    assert done.json()["undone_by"] == partner.slug and done.json()["undone_at"]
    assert_problem(await client.post(undo, json=body, headers=partner.auth), 404, "not-found")
    again = await client.post(door.scans, json={"code": code}, headers=door.auth)
    assert again.json()["result"] == "accepted"
    history = (await client.get(door.scans, headers=partner.auth)).json()["items"]
    assert [h["undone_at"] is not None for h in history] == [True, False]


# --- kit -----------------------------------------------------------------------------------


async def test_kit_with_etag(client: httpx.AsyncClient, partner: Partner) -> None:
    door, regs = await setup(
        client, partner, ("CheckinKit One", "CheckinKit Two", "CheckinKit Three")
    )
    url = f"/api/v1/events/{door.event['id']}/checkin-kit"
    first = await client.get(url, headers=door.auth)
    assert first.status_code == 200, first.text
    kit = first.json()
    assert kit["format"] == 2 and kit["algorithm"] == "Ed25519"
    assert sorted(kit["names"].values()) == ["CheckinKit One", "CheckinKit Three", "CheckinKit Two"]
    assert kit["revoked"] == {} and kit["checked_in"] == {}
    etag = first.headers["etag"]
    same = await client.get(url, headers={**door.auth, "If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    await client.post(door.scans, json={"code": regs[0]["ticket"]["code"]}, headers=door.auth)
    await client.post(f"/api/v1/registrations/{regs[1]['id']}/cancel", headers=partner.auth)
    changed = await client.get(url, headers={**door.auth, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    kit = changed.json()
    seq0 = str(tickets.parse(regs[0]["ticket"]["code"]).registration_seq)  # type: ignore[union-attr]
    assert list(kit["checked_in"]) == [seq0]
    assert kit["revoked"] == {regs[1]["ticket"]["code"]: "cancelled"}
    # a cancelled ticket is known by name and state (no "(new registration)" at the door)
    seq1 = str(tickets.parse(regs[1]["ticket"]["code"]).registration_seq)  # type: ignore[union-attr]
    assert kit["names"][seq1] == "CheckinKit Two" and kit["states"] == {seq1: "cancelled"}
    assert seq1 not in kit["codes"] and kit["codes"][seq0] == regs[0]["ticket"]["code"]


# --- search, stats -------------------------------------------------------------------------


async def test_door_search_by_name_or_email(client: httpx.AsyncClient, partner: Partner) -> None:
    door, regs = await setup(client, partner, ("Chan Tai Man", "Lee Siu Ming", "Chan Mei"))
    url = f"/api/v1/events/{door.event['id']}/attendees"
    found = await client.get(url, params={"q": "chan"}, headers=door.auth)
    assert found.status_code == 200, found.text
    assert [a["name"] for a in found.json()["items"]] == ["Chan Tai Man", "Chan Mei"]
    by_email = await client.get(url, params={"q": regs[1]["email"].upper()}, headers=door.auth)
    [item] = by_email.json()["items"]
    assert item["ticket_code"] == regs[1]["ticket"]["code"] and item["checked_in_at"] is None
    # the code found at the desk checks the person in
    ok = await client.post(door.scans, json={"code": item["ticket_code"]}, headers=door.auth)
    assert ok.json()["result"] == "accepted"
    hosts = await client.get(url, params={"q": "siu"}, headers=partner.auth)
    assert hosts.json()["items"][0]["checked_in_at"] is not None


async def test_stats(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    door = await door_for(client, partner, event)
    regs = [await register(client, event, n) for n in ("S One", "S Two", "S Three", "S Four")]
    await client.post(f"/api/v1/registrations/{regs[3]['id']}/cancel", headers=partner.auth)
    await client.post(door.scans, json={"code": regs[0]["ticket"]["code"]}, headers=door.auth)
    url = f"/api/v1/events/{event['id']}/stats"
    for auth in (door.auth, partner.auth):
        response = await client.get(url, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "capacity": 2,
            "confirmed": 2,
            "waitlisted": 1,
            "cancelled": 1,
            "checked_in": 1,
            "expected": 1,
            "inside": 1,
            "pending": 0,
            "rejected": 0,
            "joined": 0,
            "online_confirmed": 0,
            "online_waitlisted": 0,
            "online_capacity": None,
        }


# --- who may ------------------------------------------------------------------------------


async def test_door_token_is_refused_everywhere_else(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    event_id = door.event["id"]
    other = await create_event(client, partner)
    other_door = await door_for(client, partner, other)
    refused = [
        ("GET", "/api/v1/tokens", None),
        ("POST", "/api/v1/tokens", {"label": "x"}),
        ("POST", "/api/v1/events", event_body()),
        ("PATCH", f"/api/v1/events/{event_id}", {"title": "Renamed"}),
        ("POST", f"/api/v1/events/{event_id}/publish", None),
        ("POST", f"/api/v1/events/{event_id}/cancel", None),
        ("POST", f"/api/v1/events/{event_id}/door-tokens", {"label": "x"}),
        ("GET", f"/api/v1/events/{event_id}/door-tokens", None),
        ("POST", f"/api/v1/events/{event_id}/cohosts", {"partner": partner.slug}),
        ("GET", f"/api/v1/events/{event_id}/registrations", None),
        ("GET", f"/api/v1/events/{event_id}/registrations.csv", None),
        ("GET", f"/api/v1/registrations/{reg['id']}", None),
        ("POST", f"/api/v1/registrations/{reg['id']}/cancel", None),
        ("POST", f"/api/v1/registrations/{reg['id']}/reissue-ticket", None),
        ("GET", f"/api/v1/registrations/{reg['id']}/qr.png", None),
        ("POST", f"/api/v1/events/{event_id}/checkins/undo", {"registration_id": reg["id"]}),
        ("GET", "/api/v1/invitations", None),
        # another event's check-in work
        ("POST", f"/api/v1/events/{other['id']}/checkins", {"code": reg["ticket"]["code"]}),
        ("POST", f"/api/v1/events/{other['id']}/checkins/batch", {"scans": []}),
        ("GET", f"/api/v1/events/{other['id']}/checkins", None),
        ("GET", f"/api/v1/events/{other['id']}/checkin-kit", None),
        ("GET", f"/api/v1/events/{other['id']}/attendees?q=a", None),
        ("GET", f"/api/v1/events/{other['id']}/stats", None),
    ]
    for method, url, body in refused:
        response = await client.request(method, url, json=body, headers=door.auth)
        assert response.status_code == 403, (method, url, response.text)
        assert_problem(response, 403, "forbidden")
    # and the other event's door token cannot work here
    for url in ("/checkin-kit", "/stats", "/attendees", "/checkins"):
        response = await client.get(f"/api/v1/events/{event_id}{url}", headers=other_door.auth)
        assert_problem(response, 403, "forbidden")
    response = await client.post(
        door.scans, json={"code": reg["ticket"]["code"]}, headers=other_door.auth
    )
    assert_problem(response, 403, "forbidden")
    # what it may do for its own event
    for url in ("/checkin-kit", "/stats", "/attendees", "/checkins"):
        ok = await client.get(f"/api/v1/events/{event_id}{url}", headers=door.auth)
        assert ok.status_code == 200, (url, ok.text)


async def test_check_in_needs_a_token_and_a_host(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    door, [reg] = await setup(client, partner)
    body = {"code": reg["ticket"]["code"]}
    assert_problem(await client.post(door.scans, json=body), 401, "unauthenticated")
    bogus = {"Authorization": "Bearer dt_nonsense"}
    assert_problem(await client.post(door.scans, json=body, headers=bogus), 401, "unauthenticated")
    assert_problem(
        await client.post(door.scans, json=body, headers=other_partner.auth), 404, "not-found"
    )
    revoked = await door_for(client, partner, door.event)
    listed = await client.get(
        f"/api/v1/events/{door.event['id']}/door-tokens", headers=partner.auth
    )
    token_id = listed.json()["items"][-1]["id"]
    await client.post(
        f"/api/v1/events/{door.event['id']}/door-tokens/{token_id}/revoke", headers=partner.auth
    )
    assert_problem(
        await client.post(door.scans, json=body, headers=revoked.auth), 401, "unauthenticated"
    )
    ok = await client.post(door.scans, json=body, headers=partner.auth)
    assert ok.json()["result"] == "accepted"


async def test_the_database_itself_refuses_a_second_live_check_in(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    """The guard behind 'admitted once' is the unique index, not the Python: a second live
    check-in of the same registration at the same door cannot be stored, whoever writes it."""
    import asyncpg

    door, [reg] = await setup(client, partner)
    ok = await client.post(door.scans, json={"code": reg["ticket"]["code"]}, headers=door.auth)
    assert ok.json()["result"] == "accepted"
    async with db.connection() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO checkins (id, event_id, registration_id, scope, checked_in_at,"
                " recorded_at) VALUES ($1, $2, $3, $2, now(), now())",
                uuid.uuid4(),
                uuid.UUID(door.event["id"]),
                uuid.UUID(reg["id"]),
            )
