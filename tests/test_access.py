"""Invite-only events and access codes (API.md "Invite-only events, access codes, guest lists")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import access
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.factories import post_registration


async def make_code(
    client: httpx.AsyncClient, partner: Partner, event: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth, json=body
    )


async def register(
    client: httpx.AsyncClient, event: dict[str, Any], who: str, **extra: Any
) -> httpx.Response:
    return await post_registration(client, event, f"{who}@example.org", name=who.title(), **extra)


async def test_a_code_is_made_listed_and_revoked(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    made = await make_code(client, partner, event, code="VIP-2027", max_uses=3)
    assert made.status_code == 201, made.text
    code = made.json()
    assert {k: code[k] for k in ("code", "uses", "max_uses", "expires_at", "skip_approval")} == {
        "code": "VIP-2027",
        "uses": 0,
        "max_uses": 3,
        "expires_at": None,
        "skip_approval": False,
    }
    assert code["revoked"] is False and code["id"]
    generated = (await make_code(client, partner, event)).json()
    assert access.valid_code(generated["code"]) and generated["max_uses"] is None
    assert_problem(await make_code(client, partner, event, code="vip-2027"), 409, "already-exists")
    for bad in ("abc", "x" * 41, "VIP 2027", "VIP_2027", "代碼代碼"):
        assert_problem(await make_code(client, partner, event, code=bad), 422, "invalid-input")
    assert_problem(await make_code(client, partner, event, max_uses=0), 422, "invalid-input")
    listed = await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    assert [c["code"] for c in listed.json()["items"]] == ["VIP-2027", generated["code"]]
    revoked = await client.post(
        f"/api/v1/events/{event['id']}/access-codes/{code['id']}/revoke", headers=partner.auth
    )
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    hidden = await client.get(
        f"/api/v1/events/{event['id']}/access-codes", headers=other_partner.auth
    )
    assert_problem(hidden, 404, "not-found")
    foreign = await client.post(
        f"/api/v1/events/{event['id']}/access-codes/{code['id']}/revoke",
        headers=other_partner.auth,
    )
    assert_problem(foreign, 404, "not-found")


async def test_invite_only_needs_a_code_or_an_invitation(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, invite_only=True)
    assert_problem(await register(client, event, "nocode"), 403, "invitation-required")
    await make_code(client, partner, event, code="Harbour-1")
    made = await register(client, event, "withcode", access_code="harbour-1")  # any case
    assert made.status_code == 201 and made.json()["status"] == "confirmed"
    codes = await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    assert codes.json()["items"][0]["uses"] == 1


async def test_every_bad_code_gets_the_same_answer(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event = await create_event(client, partner, invite_only=True)
    soon = (clock() + timedelta(hours=1)).isoformat()
    await make_code(client, partner, event, code="ONCE", max_uses=1)
    expiring = (await make_code(client, partner, event, code="SOON", expires_at=soon)).json()
    assert expiring["expires_at"].endswith("+08:00")  # the event's offset, as every time
    revoked = (await make_code(client, partner, event, code="GONE")).json()
    await client.post(
        f"/api/v1/events/{event['id']}/access-codes/{revoked['id']}/revoke", headers=partner.auth
    )
    assert (await register(client, event, "first", access_code="ONCE")).status_code == 201
    clock.offset += timedelta(hours=2)
    answers = []
    for i, bad in enumerate(["UNKNOWN", "ONCE", "SOON", "GONE", "a"]):
        response = await register(client, event, f"bad{i}", access_code=bad)
        body = assert_problem(response, 422, "access-code-invalid")
        answers.append((body["title"], body["detail"]))
    assert len(set(answers)) == 1  # no oracle
    codes = await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    assert [c["uses"] for c in codes.json()["items"]] == [1, 0, 0]


async def test_a_use_counts_only_when_the_registration_is_stored(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=False)
    await make_code(client, partner, event, code="PARTNER-A", max_uses=5)
    assert (await register(client, event, "seat", access_code="PARTNER-A")).status_code == 201
    again = await register(client, event, "seat", access_code="PARTNER-A")
    assert_problem(again, 409, "already-registered")
    assert (await register(client, event, "other", access_code="PARTNER-A")).status_code == 201
    assert_problem(
        await register(client, event, "full", access_code="PARTNER-A"), 409, "event-full"
    )
    codes = await client.get(f"/api/v1/events/{event['id']}/access-codes", headers=partner.auth)
    assert codes.json()["items"][0]["uses"] == 2


async def test_skip_approval_codes_confirm_at_once(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=5)
    await make_code(client, partner, event, code="FASTTRACK", skip_approval=True)
    await make_code(client, partner, event, code="ORDINARY")
    fast = await register(client, event, "fast", access_code="fasttrack")
    slow = await register(client, event, "slow", access_code="ORDINARY")
    assert fast.json()["status"] == "confirmed" and fast.json()["ticket"] is not None
    assert slow.json()["status"] == "pending" and slow.json()["ticket"] is None


@pytest.mark.parametrize("approval", ["screen", "hold"])
async def test_registrations_by_code_keep_the_chinese_name_and_the_consent(
    client: httpx.AsyncClient, partner: Partner, approval: str
) -> None:
    """The admission path stores what the ordinary one does: the Chinese name (found by the
    door's search, Simplified or Traditional) and the consent the person accepted."""
    event = await create_event(
        client, partner, approval=approval, consent_text="I agree to the privacy terms"
    )
    await make_code(client, partner, event, code="DELEGATES")
    refused = await register(client, event, "chan", access_code="DELEGATES", chinese_name="陳大文")
    assert_problem(refused, 422, "invalid-input")  # no consent: refused
    made = await register(
        client, event, "chan", access_code="DELEGATES", chinese_name="陳大文", consent=True
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["chinese_name"] == "陳大文" and body["consent"] == "I agree to the privacy terms"
    listed = await client.get(
        f"/api/v1/events/{event['id']}/registrations", params={"q": "陈大文"}, headers=partner.auth
    )
    assert [r["id"] for r in listed.json()["items"]] == [body["id"]]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=50))
def test_code_format_is_exactly_4_to_40_of_letters_digits_and_hyphens(text: str) -> None:
    expected = 4 <= len(text) <= 40 and all(c.isascii() and (c.isalnum() or c == "-") for c in text)
    assert access.valid_code(text) is expected


@given(st.integers(min_value=0, max_value=200))
def test_generated_codes_are_valid(_: int) -> None:
    assert access.valid_code(access.generate_code())
