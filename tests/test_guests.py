"""Guest lists: one guest, a CSV import with a dry run and a per-row report, the personal
link, and registering through it (locked to the guest's email)."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import guests
from events.db import Database
from events.errors import InvalidInput
from events.settings import Settings
from tests.conftest import BASE_URL, Clock, Partner, assert_problem, create_event
from tests.test_mail import Inbox, drain, inbox, make_worker, parts

__all__ = ["inbox"]


async def invite(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event['id']}/guests", headers=partner.auth, json=body
    )


async def upload(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], data: bytes, *, dry: bool
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event['id']}/guests/import" + ("?dry_run=1" if dry else ""),
        headers={**partner.auth, "Content-Type": "text/csv"},
        content=data,
    )


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["invitation"][0]


async def test_a_guest_is_invited_mailed_and_registers_once(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(client, partner, invite_only=True)
    made = await invite(
        client, partner, event, name="陳大文", email="Tai.Man@example.org", locale="zh-Hant"
    )
    assert made.status_code == 201, made.text
    guest = made.json()
    assert {k: guest[k] for k in ("name", "email", "status")} == {
        "name": "陳大文",
        "email": "Tai.Man@example.org",
        "status": "invited",
    }
    assert guest["url"].startswith(f"{BASE_URL}/events/{event['slug']}?invitation=")
    assert_problem(
        await invite(client, partner, event, name="Again", email="tai.man@example.org"),
        409,
        "already-exists",
    )
    await drain(make_worker(db, settings, clock, inbox))
    [mail] = inbox.to("tai.man@example.org")
    assert "誠邀出席" in str(mail["Subject"]) and guest["url"] in parts(mail)["text/plain"]

    url = f"/api/v1/events/{event['id']}/registrations"
    wrong = await client.post(
        url,
        json={
            "name": "陳大文",
            "email": "someone@example.org",
            "invitation": token_of(guest["url"]),
        },
    )
    assert_problem(wrong, 422, "invalid-input")
    assert wrong.json()["errors"][0]["field"] == "email"
    body = {"name": "陳大文", "email": "tai.man@EXAMPLE.org", "invitation": token_of(guest["url"])}
    done = await client.post(url, json=body)
    assert done.status_code == 201 and done.json()["status"] == "confirmed"
    assert (await client.post(url, json=body)).status_code == 409  # a guest registers once
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    [entry] = listed.json()["items"]
    assert entry["status"] == "registered" and entry["registration_id"] == done.json()["id"]
    cancelled = done.json()
    await client.post(
        f"/api/v1/registrations/{cancelled['id']}/cancel?token={cancelled['access_token']}"
    )
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    assert listed.json()["items"][0]["status"] == "declined"
    assert (await client.post(url, json=body)).status_code == 409  # still only once


async def test_a_revoked_invitation_admits_no_one(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    guest = (await invite(client, partner, event, name="Lee", email="lee@example.org")).json()
    revoked = await client.post(
        f"/api/v1/events/{event['id']}/guests/{guest['id']}/revoke", headers=partner.auth
    )
    assert revoked.json()["status"] == "revoked"
    again = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "Lee", "email": "lee@example.org", "invitation": token_of(guest["url"])},
    )
    assert_problem(again, 403, "invitation-required")
    hidden = await client.get(f"/api/v1/events/{event['id']}/guests", headers=other_partner.auth)
    assert_problem(hidden, 404, "not-found")


CSV_TEXT = (
    "Name,Email,Organisation\r\n"
    "陳大文,tm.chan@example.org,HKTE\r\n"
    "Mary O'Brien,mary@example.org,\r\n"
    "Dup Person,TM.CHAN@example.org,\r\n"
    "No Email,not-an-email,\r\n"
    ",blank@example.org,\r\n"
    "\r\n"
    "李小龍,bruce@example.org,\r\n"
)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
async def test_import_reports_each_row_and_dry_run_creates_nothing(
    client: httpx.AsyncClient, partner: Partner, bom: bytes
) -> None:
    event = await create_event(client, partner, invite_only=True)
    await invite(client, partner, event, name="Already", email="bruce@example.org")
    data = bom + CSV_TEXT.encode()
    dry = await upload(client, partner, event, data, dry=True)
    assert dry.status_code == 200, dry.text
    rows = dry.json()["rows"]
    assert [(r["line"], r["status"], r["email"]) for r in rows] == [
        (2, "ok", "tm.chan@example.org"),
        (3, "ok", "mary@example.org"),
        (4, "duplicate", "TM.CHAN@example.org"),
        (5, "error", "not-an-email"),
        (6, "error", "blank@example.org"),
        (8, "duplicate", "bruce@example.org"),
    ]
    assert "email" in rows[3]["error"] and "name" in rows[4]["error"]
    assert dry.json()["created"] == 0
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    assert len(listed.json()["items"]) == 1
    real = await upload(client, partner, event, data, dry=False)
    assert real.json()["created"] == 2
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    assert [g["name"] for g in listed.json()["items"]] == ["Already", "陳大文", "Mary O'Brien"]
    assert all(g["status"] == "invited" for g in listed.json()["items"])
    replay = await upload(client, partner, event, data, dry=False)
    assert replay.json()["created"] == 0


async def test_import_refuses_what_is_no_guest_list(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    no_header = await upload(client, partner, event, b"name,phone\r\nA,1\r\n", dry=True)
    assert_problem(no_header, 422, "invalid-input")
    latin1 = await upload(
        client, partner, event, "name,email\nJosé,j@example.org\n".encode("latin-1"), dry=True
    )
    assert_problem(latin1, 422, "invalid-input")
    json_body = await client.post(
        f"/api/v1/events/{event['id']}/guests/import", headers=partner.auth, json={"a": 1}
    )
    assert_problem(json_body, 415, "unsupported-media-type")


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")
emails = st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,8}\.(org|com|hk)", fullmatch=True)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(names, emails), max_size=20), st.booleans())
def test_csv_written_by_a_spreadsheet_parses_back(rows: list[tuple[str, str]], bom: bool) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "Name"])
    for name, email in rows:
        writer.writerow([email, name])
    raw = (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()
    parsed = guests.parse_csv(raw)
    assert [(p.name, p.email) for p in parsed] == [(" ".join(n.split()), e) for n, e in rows]
    assert all(p.error is None for p in parsed)


@settings(max_examples=150)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_are_refused_cleanly(raw: bytes) -> None:
    try:
        parsed = guests.parse_csv(b"name,email\n" + raw)
    except InvalidInput:
        return
    for p in parsed:
        assert p.line >= 2 and (p.error is None) == (guests.check_guest(p.name, p.email) is None)


async def test_a_guest_may_decline_with_their_link(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    guest = (await invite(client, partner, event, name="Wong", email="wong@example.org")).json()
    token = token_of(guest["url"])
    declined = await client.post(f"/api/v1/guest-invitations/{token}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    again = await client.post(f"/api/v1/guest-invitations/{token}/decline")
    assert again.json()["status"] == "declined"
    assert_problem(await client.post("/api/v1/guest-invitations/nope/decline"), 404, "not-found")
    late = await client.post(  # changed their mind: still invited
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "Wong", "email": "wong@example.org", "invitation": token},
    )
    assert late.status_code == 201
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    assert listed.json()["items"][0]["status"] == "registered"
    other = (await invite(client, partner, event, name="Ng", email="ng@example.org")).json()
    body = {"name": "Ng", "email": "ng@example.org", "invitation": token_of(other["url"])}
    assert (
        await client.post(f"/api/v1/events/{event['id']}/registrations", json=body)
    ).status_code == 201
    used = await client.post(f"/api/v1/guest-invitations/{token_of(other['url'])}/decline")
    assert_problem(used, 409, "invalid-state")
