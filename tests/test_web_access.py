"""Pages of invite-only and approval events: who may register, the access code field, the
personal link that fills in name and email, and the pending and rejected ticket pages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Partner, create_event
from tests.test_web import csrf_of, form_id_of


async def test_invite_only_page_asks_for_a_code_and_registers_with_it(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    await client.post(
        f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth, json={"code": "DOOR-42"}
    )
    page = await client.get(f"/events/{event['slug']}")
    assert "This event is by invitation only" in page.text
    assert 'name="access_code"' in page.text and "Access code" in page.text
    data = {
        "csrf": csrf_of(page),
        "form_id": form_id_of(page),
        "name": "Ho",
        "email": "ho@example.org",
    }
    refused = await client.post(f"/events/{event['slug']}", data={**data, "access_code": "WRONG"})
    assert refused.status_code == 409 and "This access code is not valid." in refused.text
    data["form_id"] = "second"
    done = await client.post(f"/events/{event['slug']}", data={**data, "access_code": "door-42"})
    assert done.status_code == 303, done.text
    ticket = await client.get(done.headers["location"])
    assert "You are registered" in ticket.text
    chinese = await client.get(f"/events/{event['slug']}?lang=zh-Hant")
    assert "此活動只限受邀人士參加" in chinese.text and "存取碼" in chinese.text


async def test_the_personal_link_fills_in_the_guest(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    guest = (
        await client.post(
            f"/api/v1/events/{event['id']}/guests",
            headers=partner.auth,
            json={"name": "陳大文", "email": "dm.chan@example.org"},
        )
    ).json()
    path = guest["url"].split("/", 3)[3]
    page = await client.get("/" + path)
    assert 'value="陳大文"' in page.text and 'value="dm.chan@example.org"' in page.text
    assert "You are invited" in page.text and 'name="access_code"' not in page.text
    token = guest["url"].split("invitation=")[1]
    data = {
        "csrf": csrf_of(page),
        "form_id": form_id_of(page),
        "name": "陳大文",
        "email": "dm.chan@example.org",
        "invitation": token,
    }
    done = await client.post(f"/events/{event['slug']}?invitation={token}", data=data)
    assert done.status_code == 303, done.text
    listed = await client.get(f"/api/v1/events/{event['id']}/guests", headers=partner.auth)
    assert listed.json()["items"][0]["status"] == "registered"


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "pending": "under review",
        "rejected": "was not approved",
        "reason": "reason:",
    },
    "zh-Hant": {"pending": "審核中", "rejected": "未獲批准", "reason": "主辦單位的原因"},
    "zh-Hans": {"pending": "审核中", "rejected": "未获批准", "reason": "主办方的原因"},
}


@pytest.mark.parametrize("lang", ["en", "zh-Hant", "zh-Hans"])
async def test_pending_and_rejected_tickets_have_their_own_words(
    client: httpx.AsyncClient, partner: Partner, lang: str
) -> None:
    event = await create_event(client, partner, approval="screen")
    made: dict[str, Any] = (
        await client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": "Applicant", "email": f"applicant-{lang}@example.org"},
        )
    ).json()
    page = await client.get(f"/events/{event['slug']}?lang={lang}")
    assert page.status_code == 200
    ticket = await client.get(f"{made['ticket_url']}&lang={lang}")
    assert WORDS[lang]["pending"] in ticket.text and "<svg" not in ticket.text
    await client.post(
        f"/api/v1/registrations/{made['id']}/reject",
        headers=partner.auth,
        json={"reason": "Seats are for delegates"},
    )
    ticket = await client.get(f"{made['ticket_url']}&lang={lang}")
    assert WORDS[lang]["rejected"] in ticket.text and WORDS[lang]["reason"] in ticket.text
    assert "Seats are for delegates" in ticket.text
    assert "Cancel my registration" not in ticket.text
