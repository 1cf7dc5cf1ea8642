"""Approval: hold and screen events, pending and rejected registrations, approve, reject,
bulk decisions, stats and filters (API.md "Approval")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from events.db import Database
from tests.conftest import Partner, assert_problem, create_event
from tests.test_registration_races import seat_books


async def apply(client: httpx.AsyncClient, event: dict[str, Any], who: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": who.title(), "email": f"{who}@example.org"},
    )


async def decide(
    client: httpx.AsyncClient, partner: Partner, registration_id: str, verb: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/registrations/{registration_id}/{verb}",
        headers=partner.auth,
        json=body if body else None,
    )


async def stats(client: httpx.AsyncClient, partner: Partner, event: dict[str, Any]) -> Any:
    return (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()


async def test_approval_and_invite_only_are_event_fields(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    plain = await create_event(client, partner, publish=False)
    assert plain["approval"] == "none" and plain["invite_only"] is False
    event = await create_event(client, partner, publish=False, approval="hold", invite_only=True)
    assert event["approval"] == "hold" and event["invite_only"] is True
    changed = await client.patch(
        f"/api/v1/events/{event['id']}",
        headers=partner.auth,
        json={"approval": "screen", "invite_only": False},
    )
    assert changed.status_code == 200
    assert changed.json()["approval"] == "screen" and changed.json()["invite_only"] is False
    read = (await client.get(f"/api/v1/events/{event['id']}", headers=partner.auth)).json()
    assert read["approval"] == "screen"
    bad = await client.patch(
        f"/api/v1/events/{event['id']}", headers=partner.auth, json={"approval": "maybe"}
    )
    assert_problem(bad, 422, "invalid-input")


async def test_pending_has_no_ticket_no_invite_and_no_position(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=5)
    made = await apply(client, event, "applicant")
    assert made.status_code == 201
    body = made.json()
    assert body["status"] == "pending"
    assert body["ticket"] is None and body["waitlist_position"] is None
    invite = await client.get(body["calendar"])  # not in a calendar yet: needs action
    assert invite.status_code == 200 and "PARTSTAT=NEEDS-ACTION" in invite.text
    own = await client.get(f"/api/v1/registrations/{body['id']}?token={body['access_token']}")
    assert own.json()["status"] == "pending" and own.json()["ticket"] is None


async def test_hold_holds_a_seat_and_approving_confirms_with_a_ticket(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, approval="hold", capacity=2, waitlist=True)
    a, b, c = [(await apply(client, event, w)).json() for w in ("ha", "hb", "hc")]
    assert [a["status"], b["status"], c["status"]] == ["pending", "pending", "waitlisted"]
    assert c["waitlist_position"] == 1
    books = await seat_books(db, event["id"])
    assert books["counted"] == 2 and books["rows"] == 0  # held, not confirmed
    approved = await decide(client, partner, a["id"], "approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "confirmed" and approved.json()["ticket"]["code"]
    s = await stats(client, partner, event)
    assert (s["confirmed"], s["pending"], s["waitlisted"], s["rejected"]) == (1, 1, 1, 0)
    # rejecting a held seat gives it to the head of the waitlist (who still needs approval)
    rejected = await decide(client, partner, b["id"], "reject", reason="Not a delegate")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Not a delegate"
    moved = (await client.get(f"/api/v1/registrations/{c['id']}", headers=partner.auth)).json()
    assert moved["status"] == "pending" and moved["waitlist_position"] is None
    assert (await decide(client, partner, c["id"], "approve")).json()["status"] == "confirmed"
    books = await seat_books(db, event["id"])
    assert books["rows"] == books["counted"] == 2


async def test_hold_without_waitlist_is_full_when_every_seat_is_held(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="hold", capacity=1, waitlist=False)
    assert (await apply(client, event, "first")).json()["status"] == "pending"
    assert_problem(await apply(client, event, "second"), 409, "event-full")


async def test_screen_approve_takes_a_seat_then_waitlists(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=1, waitlist=True)
    a, b = [(await apply(client, event, w)).json() for w in ("sa", "sb")]
    assert a["status"] == b["status"] == "pending"  # any number may apply
    assert (await decide(client, partner, a["id"], "approve")).json()["status"] == "confirmed"
    second = (await decide(client, partner, b["id"], "approve")).json()
    assert second["status"] == "waitlisted" and second["waitlist_position"] == 1
    # the confirmed one cancels: the approved, waitlisted one gets the seat, confirmed
    await client.post(f"/api/v1/registrations/{a['id']}/cancel?token={a['access_token']}")
    after = (await client.get(f"/api/v1/registrations/{b['id']}", headers=partner.auth)).json()
    assert after["status"] == "confirmed" and after["ticket"] is not None


async def test_screen_without_waitlist_refuses_and_stays_pending(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=1, waitlist=False)
    a, b = [(await apply(client, event, w)).json() for w in ("na", "nb")]
    assert (await decide(client, partner, a["id"], "approve")).status_code == 200
    assert_problem(await decide(client, partner, b["id"], "approve"), 409, "event-full")
    still = (await client.get(f"/api/v1/registrations/{b['id']}", headers=partner.auth)).json()
    assert still["status"] == "pending"


async def test_deciding_anything_not_pending_is_invalid_state(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=5)
    a = (await apply(client, event, "once")).json()
    assert (await decide(client, partner, a["id"], "reject")).status_code == 200
    assert_problem(await decide(client, partner, a["id"], "approve"), 409, "invalid-state")
    assert_problem(await decide(client, partner, a["id"], "reject"), 409, "invalid-state")
    plain = await create_event(client, partner, capacity=5)
    confirmed = (await apply(client, plain, "plain")).json()
    assert_problem(await decide(client, partner, confirmed["id"], "approve"), 409, "invalid-state")


async def test_only_hosts_decide(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=5)
    a = (await apply(client, event, "guarded")).json()
    assert_problem(await decide(client, other_partner, a["id"], "approve"), 404, "not-found")
    attendee = await client.post(
        f"/api/v1/registrations/{a['id']}/approve?token={a['access_token']}"
    )
    assert attendee.status_code in (401, 404)
    refused = await client.post(
        f"/api/v1/events/{event['id']}/registrations/decide",
        headers=other_partner.auth,
        json={"approve": [a["id"]]},
    )
    assert_problem(refused, 404, "not-found")


async def test_decide_many_reports_each_in_order(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=2, waitlist=False)
    regs = [(await apply(client, event, f"bulk{i}")).json() for i in range(5)]
    other = await create_event(client, partner, approval="screen", capacity=2)
    stranger = (await apply(client, other, "stranger")).json()
    response = await client.post(
        f"/api/v1/events/{event['id']}/registrations/decide",
        headers=partner.auth,
        json={
            "approve": [regs[0]["id"], regs[1]["id"], regs[2]["id"], stranger["id"], "nope"],
            "reject": [regs[3]["id"], regs[0]["id"]],
            "reason": "Full programme",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [
        {"id": regs[0]["id"], "status": "confirmed"},
        {"id": regs[1]["id"], "status": "confirmed"},
        {"id": regs[2]["id"], "error": "event-full"},
        {"id": stranger["id"], "error": "not-found"},
        {"id": "nope", "error": "not-found"},
        {"id": regs[3]["id"], "status": "rejected"},
        {"id": regs[0]["id"], "error": "invalid-state"},
    ]
    listed = await client.get(
        f"/api/v1/events/{event['id']}/registrations?status=pending", headers=partner.auth
    )
    assert [r["id"] for r in listed.json()["items"]] == [regs[2]["id"], regs[4]["id"]]
    rejected = await client.get(
        f"/api/v1/events/{event['id']}/registrations?status=rejected", headers=partner.auth
    )
    assert [r["rejection_reason"] for r in rejected.json()["items"]] == ["Full programme"]
    s = await stats(client, partner, event)
    assert (s["confirmed"], s["pending"], s["rejected"]) == (2, 2, 1)
    too_many = await client.post(
        f"/api/v1/events/{event['id']}/registrations/decide",
        headers=partner.auth,
        json={"approve": [str(UUID(int=i)) for i in range(501)]},
    )
    assert_problem(too_many, 422, "invalid-input")


async def test_cancelling_a_held_pending_registration_frees_its_seat(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner, approval="hold", capacity=1, waitlist=True)
    a, b = [(await apply(client, event, w)).json() for w in ("ca", "cb")]
    done = await client.post(f"/api/v1/registrations/{a['id']}/cancel?token={a['access_token']}")
    assert done.json()["status"] == "cancelled"
    moved = (await client.get(f"/api/v1/registrations/{b['id']}", headers=partner.auth)).json()
    assert moved["status"] == "pending"
    books = await seat_books(db, event["id"])
    assert books["counted"] == 1 and books["rows"] == 0


async def test_rejected_cannot_be_cancelled_into_a_fresh_application(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, approval="screen", capacity=5)
    a = (await apply(client, event, "reapply")).json()
    await decide(client, partner, a["id"], "reject")
    kept = await client.post(f"/api/v1/registrations/{a['id']}/cancel?token={a['access_token']}")
    assert kept.json()["status"] == "rejected"
    assert_problem(await apply(client, event, "reapply"), 409, "already-registered")


async def test_decisions_are_in_the_audit_log(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, approval="hold", capacity=1, waitlist=True)
    a, b = [(await apply(client, event, w)).json() for w in ("audited-a", "audited-b")]
    await decide(client, partner, a["id"], "reject", reason="Not this time")
    await decide(client, partner, b["id"], "approve")
    log = await client.get(f"/api/v1/events/{event['id']}/audit", headers=partner.auth)
    entries = [
        (e["action"], e["subject"]["id"], e["changes"].get("status")) for e in log.json()["items"]
    ]
    assert entries[:3] == [
        ("registration.approved", b["id"], ["pending", "confirmed"]),
        ("registration.promoted", b["id"], ["waitlisted", "pending"]),
        ("registration.rejected", a["id"], ["pending", "rejected"]),
    ]
    assert {e["actor"]["type"] for e in log.json()["items"][:3]} == {"partner"}
    created = [e for e in log.json()["items"] if e["action"] == "registration.created"]
    assert [e["changes"]["status"][1] for e in created] == ["waitlisted", "pending"]
