"""Door devices and printing for the door, in the console over HTTP: a door device paired
for one session (the API's session-bound door token), its creation and revocation logged,
and the badges and check-in list (the API's PDFs) downloaded from the event's page."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from starlette.applications import Starlette

from events import badges
from events.db import Database
from tests.conftest import Partner, create_event, make_partner
from tests.test_checkin import Door, register
from tests.test_door import pdf_text, scan
from tests.test_lifecycle import add_session
from tests.test_web import csrf_of
from tests.test_web_console import signed_in


async def test_a_door_device_for_one_session(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    keynote = await add_session(client, partner, event, 1, 2)
    workshop = await add_session(client, partner, event, 3, 4)
    holder = await register(client, event, "Holder", sessions=[keynote["id"]])
    other = await register(client, event, "Other", sessions=[workshop["id"]])
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}")
    assert '<select id="door-session" name="session_id">' in page.text
    assert f'<option value="{keynote["id"]}">Only the session {keynote["title"]}' in page.text
    paired = await console.post(
        f"/console/events/{event['id']}/door-tokens",
        data={"csrf": csrf_of(page), "label": "Room A door", "session_id": keynote["id"]},
    )
    assert paired.status_code == 200, paired.text
    [url] = re.findall(r'<a href="([^"]+)" id="pairing-url"', paired.text)
    room = Door(event, html.unescape(url).split("token=", 1)[1])
    assert f"Room A door · session: {keynote['title']}" in paired.text
    refused = await scan(client, room, other["ticket"]["code"])
    assert refused.status_code == 409 and refused.json()["result"] == "wrong_session"
    admitted = await scan(client, room, holder["ticket"]["code"])
    assert admitted.status_code == 200 and admitted.json()["door"] == "Room A door"
    tokens = f"/api/v1/events/{event['id']}/door-tokens"
    [made] = (await client.get(tokens, headers=partner.auth)).json()["items"]
    assert made["session_id"] == keynote["id"] and made["label"] == "Room A door"
    wrong = await console.post(
        f"/console/events/{event['id']}/door-tokens",
        data={"csrf": csrf_of(page), "label": "Nowhere", "session_id": event["id"]},
    )
    assert wrong.status_code == 422
    assert 'aria-invalid="true" aria-describedby="session_id-error"' in wrong.text
    assert "Choose a session of this event, or the whole event." in wrong.text
    assert len((await client.get(tokens, headers=partner.auth)).json()["items"]) == 1
    revoked = await console.post(
        f"/console/events/{event['id']}/door-tokens/{made['id']}/revoke",
        data={"csrf": csrf_of(page)},
    )
    assert revoked.status_code == 303
    log = await client.get(
        f"/api/v1/events/{event['id']}/audit?action=door_token.", headers=partner.auth
    )
    entries = {e["action"]: e for e in log.json()["items"]}
    assert entries["door_token.created"]["changes"]["session_id"] == [None, keynote["id"]]
    assert entries["door_token.revoked"]["actor"]["type"] == "partner"
    assert (await scan(client, room, holder["ticket"]["code"])).status_code == 401
    await console.aclose()


async def test_badges_and_the_check_in_list_from_the_event_page(
    app: Starlette,
    db: Database,
    partner: Partner,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = await create_event(client, partner)
    console = await signed_in(app, db, partner)
    empty = await console.get(f"/console/events/{event['id']}")
    assert "can be printed once people have registered" in empty.text
    monkeypatch.setattr(badges, "MAX_BADGES", 2)  # parts of two badges
    names = ["黃小明 Wong Siu Ming", "李嘉欣 Lee Ka Yan", "Chan Tai Man", "Cancelled Person"]
    people = [await register(client, event, n) for n in names]
    await client.post(f"/api/v1/registrations/{people[3]['id']}/cancel", headers=partner.auth)
    page = await console.get(f"/console/events/{event['id']}")
    listed = f'href="/console/events/{event["id"]}/checkin-list.pdf"'
    assert listed in page.text
    parts = re.findall(r'<option value="(\d+)">(\d+–\d+)</option>', page.text)
    assert [label for _, label in parts] == ["1–2", "3–3"]
    url = f"/console/events/{event['id']}/badges.pdf"
    first, text = pdf_text(await console.get(f"{url}?size=a6&after={parts[0][0]}"))
    assert len(first.pages) == 2 and "黃小明" in text and "李嘉欣" in text
    rest, text = pdf_text(await console.get(f"{url}?size=label&after={parts[1][0]}"))
    assert len(rest.pages) == 1 and "Chan Tai Man" in text and "Cancelled" not in text
    width, height = (float(v) * 25.4 / 72 for v in rest.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (101, 76)
    _, text = pdf_text(await console.get(f"/console/events/{event['id']}/checkin-list.pdf"))
    assert text.index("李嘉欣") < text.index("黃小明") and "Chan Tai Man" in text
    assert "Cancelled Person" not in text
    stranger = await signed_in(app, db, await make_partner(db, "Other"))
    assert (await stranger.get(url)).status_code == 404
    signed_out = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    assert (await signed_out.get(url)).status_code == 303  # to the sign-in page
    for browser in (console, stranger, signed_out):
        await browser.aclose()
