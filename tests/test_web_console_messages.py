"""Messages to attendees from the console, over HTTP: count the audience first (the API's
dry run, nothing queued), then send once, and see the message listed with its counts;
errors sit next to their fields under a summary."""

from __future__ import annotations

import re
import uuid
from typing import Any
from uuid import UUID

import httpx
from starlette.applications import Starlette

from events.db import Database
from events.queries import mail as mail_q
from tests.conftest import Partner, create_event, make_partner
from tests.test_checkin import door_for, register
from tests.test_lifecycle import add_session
from tests.test_web import csrf_of
from tests.test_web_console import signed_in


async def message_mails(db: Database, registration_id: str) -> int:
    async with db.connection() as conn:
        found = await mail_q.of_registration(conn, UUID(registration_id))
    return sum(m["kind"] == "message" for m in found)


def hidden(page: httpx.Response, name: str) -> str:
    [value] = re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page.text)
    return value.replace("&#34;", '"').replace("&quot;", '"')


async def test_count_then_send_once_and_see_it_listed(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    morning = await add_session(client, partner, event, 1, 2)
    afternoon = await add_session(client, partner, event, 3, 4)
    ann = await register(client, event, "Ann", sessions=[morning["id"]])
    bob = await register(client, event, "Bob", sessions=[afternoon["id"]])
    cat = await register(client, event, "Cat", sessions=[morning["id"]])
    door = await door_for(client, partner, event)
    await client.post(door.scans, json={"code": ann["ticket"]["code"]}, headers=door.auth)
    console = await signed_in(app, db, partner)
    url = f"/console/events/{event['id']}/messages"
    page = await console.get(url)
    assert page.status_code == 200 and "No message has been sent yet." in page.text
    form: dict[str, Any] = {
        "csrf": csrf_of(page),
        "form_id": hidden(page, "form_id"),
        "status": ["confirmed"],
        "checked_in": "no",
        "session": morning["id"],
        "subject": "Room change",
        "body": "The morning talk moves to Room 2.\nSee you there.",
    }
    counted = await console.post(url, data={**form, "step": "count"})
    assert counted.status_code == 200, counted.text
    assert "1 attendee will be told." in counted.text and "Send to 1 attendee" in counted.text
    assert [await message_mails(db, r["id"]) for r in (ann, bob, cat)] == [0, 0, 0]  # a count
    assert 'value="Room change"' in counted.text  # the form keeps what was written
    send = {**form, "step": "send", "counted": hidden(counted, "counted")}
    sent = await console.post(url, data=send)
    assert sent.status_code == 303 and sent.headers["location"] == url
    listed = await console.get(url)
    assert "Message on its way to 1 attendee." in listed.text
    [row] = re.findall(r"<tbody>(.*?)</tbody>", listed.text, re.S)
    assert "Room change" in row and "Confirmed · not checked in · Session 1" in row
    assert 'data-n="recipients">1<' in row and 'data-n="pending">1<' in row
    assert [await message_mails(db, r["id"]) for r in (ann, bob, cat)] == [0, 0, 1]
    again = await console.post(url, data=send)  # the same form pressed twice
    assert again.status_code == 303
    api = await client.get(f"/api/v1/events/{event['id']}/messages", headers=partner.auth)
    [message] = api.json()["items"]
    assert message["recipients"] == 1 and message["body"].endswith("See you there.")
    assert await message_mails(db, cat["id"]) == 1
    changed = await console.post(
        url, data={**send, "form_id": "another", "status": ["confirmed", "waitlisted"]}
    )
    assert changed.status_code == 200 and "1 attendee will be told." in changed.text
    assert len((await client.get(api.request.url, headers=partner.auth)).json()["items"]) == 1
    log = await client.get(
        f"/api/v1/events/{event['id']}/audit?action=message.sent", headers=partner.auth
    )
    assert [e["changes"]["recipients"] for e in log.json()["items"]] == [[None, 1]]
    await console.aclose()


async def test_errors_sit_next_to_their_fields_under_a_summary(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    await add_session(client, partner, event, 1, 2)
    await register(client, event, "Ann")
    console = await signed_in(app, db, partner)
    url = f"/console/events/{event['id']}/messages"
    page = await console.get(url)
    empty = await console.post(
        url, data={"csrf": csrf_of(page), "step": "count", "subject": " ", "body": ""}
    )
    assert empty.status_code == 422
    assert "data-error-summary" in empty.text
    for field, text in (
        ("subject", "Please enter a subject"),
        ("body", "Please write the message."),
        ("status", "Tick at least one status."),
    ):
        assert f'id="m-{field}-error">{text}' in empty.text, field
    for field in ("subject", "body"):
        described = f'aria-invalid="true" aria-describedby="m-{field}-error"'
        assert re.search(f'id="m-{field}"[^>]*{described}', empty.text), field
    assert '<a href="#m-status-confirmed">' in empty.text
    stranger_session = await console.post(
        url,
        data={
            "csrf": csrf_of(page),
            "step": "count",
            "status": "confirmed",
            "session": str(uuid.uuid4()),
            "subject": "Hello",
            "body": "Hi",
        },
    )
    assert stranger_session.status_code == 422
    assert 'id="m-session-error">Choose a session of this event.' in stranger_session.text
    assert 'value="Hello"' in stranger_session.text
    forged = await console.post(url, data={"step": "count", "subject": "x", "body": "y"})
    assert forged.status_code == 403
    other = await signed_in(app, db, await make_partner(db, "Other"))
    assert (await other.get(url)).status_code == 404
    await other.aclose()
    await console.aclose()
