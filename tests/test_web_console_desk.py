"""The console's attendee desk, dashboard and event management over HTTP: filters and
search, actions on one attendee and on a selection (the ticket sent again among them),
messages after every action, session
delete with seats left, unpublish, duplicate, preview, door devices, co-hosts by name."""

from __future__ import annotations

import re
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


async def desk(console: httpx.AsyncClient, event_id: str, query: str = "") -> httpx.Response:
    page = await console.get(f"/console/events/{event_id}/attendees{query}")
    assert page.status_code == 200, page.text
    return page


async def act(
    console: httpx.AsyncClient, event_id: str, page: httpx.Response, **data: Any
) -> httpx.Response:
    """Post an action of the desk; follow the redirect back to the table."""
    answer = await console.post(
        f"/console/events/{event_id}/attendees", data={"csrf": csrf_of(page), **data}
    )
    assert answer.status_code == 303, answer.text
    return await console.get(answer.headers["location"])


def rows(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-id="[^"]+">(.*?)</tr>', page.text, re.S)


async def test_find_check_in_undo_cancel_and_the_waitlist_moves(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    questions = [{"id": "org", "label": "Organisation", "kind": "text"}]
    event = await create_event(client, partner, capacity=2, questions=questions)
    ann = await register(client, event, "Ann Lee", answers={"org": "HSBC Asia"})
    bob = await register(client, event, "Bob Wong", answers={"org": "Startup"})
    cat = await register(client, event, "Cat Chan")
    assert cat["status"] == "waitlisted"
    console = await signed_in(app, db, partner)
    page = await desk(console, event["id"], "?q=ann")
    assert len(rows(page)) == 1 and "HSBC Asia" in page.text and "Organisation" in page.text
    page = await act(console, event["id"], page, action=f"check_in:{ann['id']}", back="q=ann")
    assert "Done for 1 attendee." in page.text and 'role="status"' in page.text
    [ann_row] = rows(page)
    assert "by hand" in ann_row and "Undo check-in" in ann_row
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert stats["checked_in"] == 1
    checked = await desk(console, event["id"], "?checked_in=yes")
    assert [("Ann Lee" in r) for r in rows(checked)] == [True]
    answered = await desk(console, event["id"], "?question=org&answer=startup")
    assert len(rows(answered)) == 1 and "Bob Wong" in answered.text
    again = await act(console, event["id"], page, action=f"check_in:{ann['id']}")
    assert "1 attendee could not be changed" in again.text and "already checked in" in again.text
    undone = await act(console, event["id"], page, action=f"undo_check_in:{ann['id']}")
    assert "Done for 1 attendee." in undone.text
    cancelled = await act(console, event["id"], page, action=f"cancel:{bob['id']}")
    assert "Done for 1 attendee." in cancelled.text
    cat_now = await client.get(f"/api/v1/registrations/{cat['id']}", headers=partner.auth)
    assert cat_now.json()["status"] == "confirmed"  # Bob's seat went to the waitlist
    waiting = await desk(console, event["id"], "?status=waitlisted")
    assert "No one found." in waiting.text
    await console.aclose()


async def test_actions_on_a_selection_and_moving_between_sessions(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner, capacity=10)
    morning = await add_session(client, partner, event, 1, 2)
    afternoon = await add_session(client, partner, event, 5, 6)
    people = [await register(client, event, f"P{i}", sessions=[morning["id"]]) for i in range(3)]
    console = await signed_in(app, db, partner)
    page = await desk(console, event["id"], f"?session={morning['id']}")
    assert len(rows(page)) == 3
    moved = await act(
        console,
        event["id"],
        page,
        bulk_action="move",
        id=[people[0]["id"], people[1]["id"]],
        from_session=morning["id"],
        to_session=afternoon["id"],
    )
    assert "Done for 2 attendees." in moved.text
    later = await desk(console, event["id"], f"?session={afternoon['id']}")
    assert len(rows(later)) == 2
    numbers = (
        await client.get(f"/api/v1/events/{event['id']}/analytics", headers=partner.auth)
    ).json()
    assert [s["confirmed"] for s in numbers["sessions"]] == [1, 2]
    log = await client.get(
        f"/api/v1/events/{event['id']}/audit?action=registration.updated", headers=partner.auth
    )
    moves = {e["subject"]["id"]: e["changes"] for e in log.json()["items"]}
    assert moves == {p["id"]: {"session": [morning["id"], afternoon["id"]]} for p in people[:2]}
    checked = await act(
        console, event["id"], page, bulk_action="check_in", id=[p["id"] for p in people]
    )
    assert "Done for 3 attendees." in checked.text
    await console.aclose()


async def test_pending_and_rejected_are_filters_too(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner, approval="screen")
    ann, bob = await register(client, event, "Ann"), await register(client, event, "Bob")
    assert ann["status"] == bob["status"] == "pending"
    await client.post(f"/api/v1/registrations/{bob['id']}/reject", headers=partner.auth)
    console = await signed_in(app, db, partner)
    pending = await desk(console, event["id"], "?status=pending")
    assert '<option value="pending" selected>' in pending.text
    assert [("Ann" in r) for r in rows(pending)] == [True]
    rejected = await desk(console, event["id"], "?status=rejected")
    assert [("Bob" in r and "Rejected" in r) for r in rows(rejected)] == [True]
    await console.aclose()


async def resends(db: Database, registration_id: str) -> list[str]:
    """The statuses of the registration's queued `resend` mails."""
    async with db.connection() as conn:
        found = await mail_q.of_registration(conn, UUID(registration_id))
    return [m["status"] for m in found if m["kind"] == "resend"]


async def test_resend_the_ticket_to_one_and_to_a_selection(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    ann, bob, cat, dan = [await register(client, event, n) for n in ("Ann", "Bob", "Cat", "Dan")]
    assert (cat["status"], dan["status"]) == ("waitlisted", "waitlisted")
    await client.post(f"/api/v1/registrations/{dan['id']}/cancel", headers=partner.auth)
    console = await signed_in(app, db, partner)
    page = await desk(console, event["id"])
    assert f'value="resend:{ann["id"]}"' in page.text  # a row's own button
    assert f'value="resend:{dan["id"]}"' not in page.text  # cancelled: no ticket to send
    one = await act(console, event["id"], page, action=f"resend:{ann['id']}")
    assert "Ticket sent again to 1 attendee." in one.text
    assert await resends(db, ann["id"]) == ["pending"]
    ticked = [bob["id"], cat["id"], dan["id"]]
    some = await act(console, event["id"], page, bulk_action="resend", id=ticked)
    assert "Ticket sent again to 2 attendees." in some.text
    assert "1 attendee could not be changed" in some.text
    assert [await resends(db, r["id"]) for r in (bob, cat, dan)] == [["pending"], ["pending"], []]
    again = await act(console, event["id"], page, action=f"resend:{ann['id']}")
    assert "Ticket sent again to 1 attendee." in again.text
    assert await resends(db, ann["id"]) == ["pending", "pending"]  # each press its own mail
    log = await client.get(
        f"/api/v1/events/{event['id']}/audit?action=registration.ticket_resent",
        headers=partner.auth,
    )
    entries = log.json()["items"]
    assert sorted(e["subject"]["id"] for e in entries) == sorted(
        [ann["id"], ann["id"], bob["id"], cat["id"]]
    )
    assert {e["actor"]["type"] for e in entries} == {"partner"}
    await console.aclose()


async def test_dashboard_shows_the_numbers_of_the_api(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner, capacity=3)
    talk = await add_session(client, partner, event, 1, 2)
    people = [await register(client, event, f"Q{i}", sessions=[talk["id"]]) for i in range(5)]
    door = await door_for(client, partner, event)
    for p in people[:2]:
        scanned = await client.post(
            f"/api/v1/events/{event['id']}/checkins",
            json={"code": p["ticket"]["code"]},
            headers=door.auth,
        )
        assert scanned.status_code == 200
    numbers = (
        await client.get(f"/api/v1/events/{event['id']}/analytics", headers=partner.auth)
    ).json()
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}/dashboard")
    assert page.status_code == 200
    for name in ("capacity", "confirmed", "waitlisted", "cancelled", "checked_in"):
        assert f'data-n="{name}">{numbers[name]}<' in page.text, name
    assert 'data-n="show_up_rate">67%<' in page.text
    assert page.text.count("<svg") >= 5 and "<table" in page.text
    assert "Hall 3 north door" in page.text  # arrivals by door, in the chart and its table
    assert "https://" not in page.text.split("<main", 1)[1]  # nothing from a CDN
    await console.aclose()


async def test_sessions_seats_left_and_delete(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    held = await add_session(client, partner, event, 1, 2)
    await client.patch(
        f"/api/v1/events/{event['id']}/sessions/{held['id']}",
        json={"capacity": 5},
        headers=partner.auth,
    )
    await register(client, event, "Ann Lee", sessions=[held["id"]])
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}")
    assert "4 of 5 seats left" in page.text
    url = f"/console/events/{event['id']}/sessions/{held['id']}/delete"
    refused = await console.post(url, data={"csrf": csrf_of(page)})
    assert refused.status_code == 409 and "People are registered for this session" in refused.text
    deleted = await console.post(url, data={"csrf": csrf_of(page), "force": "yes"})
    assert deleted.status_code == 303
    after = await console.get(deleted.headers["location"])
    assert "Session deleted." in after.text and "1 attendee will be told." in after.text
    event_now = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert event_now["sessions"] == []
    await console.aclose()


async def test_unpublish_duplicate_preview_and_cancel_with_a_message(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}")
    csrf = csrf_of(page)
    back = await console.post(f"/console/events/{event['id']}/unpublish", data={"csrf": csrf})
    shown = await console.get(back.headers["location"])
    assert "Back to draft" in shown.text and "Draft" in shown.text
    assert "Back to draft" not in (await console.get(back.headers["location"])).text  # once
    preview = await console.get(f"/console/events/{event['id']}/preview")
    assert preview.status_code == 200 and "Preview: this is the page" in preview.text
    assert (await client.get(f"/events/{event['slug']}")).status_code == 404  # still a draft
    copy = await console.post(f"/console/events/{event['id']}/duplicate", data={"csrf": csrf})
    assert copy.status_code == 303 and copy.headers["location"] != f"/console/events/{event['id']}"
    copied = await console.get(copy.headers["location"])
    assert "This is a copy" in copied.text and event["title"] in copied.text
    await console.post(f"/console/events/{event['id']}/publish", data={"csrf": csrf})
    await register(client, event, "Ann Lee")
    await register(client, event, "Bob Wong")
    refused = await console.post(f"/console/events/{event['id']}/unpublish", data={"csrf": csrf})
    assert refused.status_code == 409 and "cancel the event instead" in refused.text
    cancelled = await console.post(
        f"/console/events/{event['id']}/cancel",
        data={"csrf": csrf, "confirm": "yes", "reason": "Typhoon signal 8"},
    )
    after = await console.get(cancelled.headers["location"])
    assert "The event is cancelled." in after.text and "2 attendees will be told." in after.text
    public = await client.get(f"/events/{event['slug']}")
    assert "This event is cancelled." in public.text and "Typhoon signal 8" in public.text
    assert "seats left" not in public.text and "calendar.ics" not in public.text
    await console.aclose()


async def test_door_devices_are_revoked_and_co_hosts_invited_by_name_and_removed(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    oases = await make_partner(db, f"Office for Attracting Strategic Enterprises {partner.slug}")
    console = await signed_in(app, db, partner)
    page = await console.get(f"/console/events/{event['id']}")
    assert (
        f'<option value="Office for Attracting Strategic Enterprises {partner.slug}">' in page.text
    )
    [token_id] = re.findall(r"/door-tokens/([0-9a-f-]{36})/revoke", page.text)
    revoked = await console.post(
        f"/console/events/{event['id']}/door-tokens/{token_id}/revoke", data={"csrf": csrf_of(page)}
    )
    assert "Door device revoked" in (await console.get(revoked.headers["location"])).text
    refused = await client.get(f"/api/v1/events/{event['id']}/stats", headers=door.auth)
    assert refused.status_code == 401
    invited = await console.post(
        f"/console/events/{event['id']}/cohosts",
        data={
            "csrf": csrf_of(page),
            "partner": f"office for attracting strategic enterprises {partner.slug}",
        },
    )
    assert invited.status_code == 303
    pending = (await client.get("/api/v1/invitations", headers=oases.auth)).json()["items"]
    await client.post(f"/api/v1/invitations/{pending[0]['id']}/accept", headers=oases.auth)
    page = await console.get(f"/console/events/{event['id']}")
    assert "Office for Attracting Strategic Enterprises" in page.text
    removed = await console.post(
        f"/console/events/{event['id']}/cohosts/{oases.slug}/remove", data={"csrf": csrf_of(page)}
    )
    assert "Co-host removed." in (await console.get(removed.headers["location"])).text
    hosts = (await client.get(f"/api/v1/events/{event['id']}")).json()["hosts"]
    assert [h["partner"] for h in hosts] == [partner.slug]
    unknown = await console.post(
        f"/console/events/{event['id']}/cohosts", data={"csrf": csrf_of(page), "partner": "Nobody"}
    )
    assert unknown.status_code == 422 and 'aria-invalid="true"' in unknown.text
    await console.aclose()


async def test_desk_actions_need_the_csrf_field_and_a_host(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    event = await create_event(client, partner)
    ann = await register(client, event, "Ann Lee")
    console = await signed_in(app, db, partner)
    forged = await console.post(
        f"/console/events/{event['id']}/attendees", data={"action": f"cancel:{ann['id']}"}
    )
    assert forged.status_code == 403
    other = await signed_in(app, db, await make_partner(db, "Other"))
    page = await other.get("/console")
    stranger = await other.post(
        f"/console/events/{event['id']}/attendees",
        data={"csrf": csrf_of(page), "action": f"cancel:{ann['id']}"},
    )
    assert stranger.status_code == 404
    assert (await other.get(f"/console/events/{event['id']}/dashboard")).status_code == 404
    still = await client.get(f"/api/v1/registrations/{ann['id']}", headers=partner.auth)
    assert still.json()["status"] == "confirmed"
    await console.aclose()
    await other.aclose()


async def test_online_attendees_are_marked_and_join_rather_than_check_in(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    """A hybrid event: the desk says who attends online, offers them no check-in by hand (a
    selection skips them), and each kind's waitlist numbers its own places."""
    online = {"url": "https://meet.example.com/room"}
    event = await create_event(
        client, partner, format="hybrid", online=online, capacity=1, online_capacity=1
    )
    remote = await register(client, event, "Rita Remote", attendance="online")
    seated = await register(client, event, "Sam Seated")
    late_room = await register(client, event, "Lou Late")
    late_online = await register(client, event, "Nat Net", attendance="online")
    assert late_room["status"] == late_online["status"] == "waitlisted"
    console = await signed_in(app, db, partner)
    page = await desk(console, event["id"])
    by_name = {re.search(r'class="who-name">([^<]+)<', r).group(1): r for r in rows(page)}  # type: ignore[union-attr]
    assert "Attends online" in by_name["Rita Remote"]
    assert "Attends online" not in by_name["Sam Seated"]
    assert f'value="check_in:{remote["id"]}"' not in page.text
    assert f'value="check_in:{seated["id"]}"' in page.text
    assert "Waitlisted (1)" in by_name["Lou Late"] and "Waitlisted (1)" in by_name["Nat Net"]
    checked = await act(
        console, event["id"], page, bulk_action="check_in", id=[remote["id"], seated["id"]]
    )
    assert "Done for 1 attendee." in checked.text
    stats = await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)
    assert stats.json()["checked_in"] == 1
    await console.aclose()
