"""Registration over HTTP: answers, waitlist, window, tokens, host lists and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import registration
from events.db import Database
from events.queries import Connection
from events.settings import Settings
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.factories import post_registration as register

QUESTIONS = [
    {"id": "organisation", "label": "Organisation", "kind": "text"},
    {
        "id": "sector",
        "label": "Sector",
        "kind": "choice",
        "required": True,
        "options": ["AI", "Fintech"],
    },
    {"id": "consent", "label": "I agree", "kind": "checkbox", "required": True},
]


async def test_confirmed_registration_has_ticket_and_links(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=5)
    response = await register(client, event, "TM.Chan@Example.org", name="  Chan   Tai Man ")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed" and body["waitlist_position"] is None
    # the canonical form: the domain in lower case, the local part as given
    assert body["name"] == "Chan Tai Man" and body["email"] == "TM.Chan@example.org"
    assert body["event_id"] == event["id"] and body["access_token"]
    assert body["ticket"]["code"]
    assert body["ticket_url"].startswith("http://test/tickets/" + body["id"])
    assert body["access_token"] in body["ticket_url"] and body["access_token"] in body["calendar"]
    again = await client.get(f"/api/v1/registrations/{body['id']}?token={body['access_token']}")
    assert again.status_code == 200 and again.json()["ticket"] == body["ticket"]


async def test_same_email_any_case_is_already_registered(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    assert (await register(client, event, "a.person@example.org")).status_code == 201
    assert_problem(await register(client, event, "A.Person@EXAMPLE.org"), 409, "already-registered")


async def test_register_again_after_cancelling(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    first = (await register(client, event, "back@example.org")).json()
    cancelled = await client.post(
        f"/api/v1/registrations/{first['id']}/cancel?token={first['access_token']}"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["ticket"] is None
    assert (await register(client, event, "back@example.org")).status_code == 201


async def test_full_event_waitlists_then_promotes_on_cancel(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    seated = [(await register(client, event, f"s{i}@example.org")).json() for i in range(2)]
    waiting = [(await register(client, event, f"w{i}@example.org")).json() for i in range(3)]
    assert [w["status"] for w in waiting] == ["waitlisted"] * 3
    assert [w["waitlist_position"] for w in waiting] == [1, 2, 3]
    assert all(w["ticket"] is None for w in waiting)
    # a host cancels one seat: the head of the waitlist gets it, the rest move up
    done = await client.post(
        f"/api/v1/registrations/{seated[0]['id']}/cancel", headers=partner.auth
    )
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    head = (
        await client.get(
            f"/api/v1/registrations/{waiting[0]['id']}?token={waiting[0]['access_token']}"
        )
    ).json()
    assert (
        head["status"] == "confirmed"
        and head["ticket"]["code"]
        and head["waitlist_position"] is None
    )
    rest = [
        (await client.get(f"/api/v1/registrations/{w['id']}?token={w['access_token']}")).json()
        for w in waiting[1:]
    ]
    assert [r["waitlist_position"] for r in rest] == [1, 2]


async def test_full_event_without_waitlist_is_409(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=False)
    assert (await register(client, event, "one@example.org")).status_code == 201
    assert_problem(await register(client, event, "two@example.org"), 409, "event-full")


async def test_capacity_raise_promotes_in_order_and_lower_below_confirmed_is_409(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    await register(client, event, "a@example.org")
    waiting = [(await register(client, event, f"w{i}@example.org")).json() for i in range(3)]
    raised = await client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 3}, headers=partner.auth
    )
    assert raised.status_code == 200, raised.text
    statuses = [
        (await client.get(f"/api/v1/registrations/{w['id']}?token={w['access_token']}")).json()[
            "status"
        ]
        for w in waiting
    ]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    lowered = await client.patch(
        f"/api/v1/events/{event['id']}", json={"capacity": 2}, headers=partner.auth
    )
    assert_problem(lowered, 409, "capacity-below-confirmed")


async def test_host_moves_a_waitlisted_registration_up(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    seated = (await register(client, event, "a@example.org")).json()
    first = (await register(client, event, "b@example.org")).json()
    second = (await register(client, event, "c@example.org")).json()
    moved = await client.post(f"/api/v1/registrations/{second['id']}/promote", headers=partner.auth)
    assert moved.status_code == 200 and moved.json()["waitlist_position"] == 1
    after = (await client.get(f"/api/v1/registrations/{first['id']}", headers=partner.auth)).json()
    assert after["waitlist_position"] == 2
    await client.post(f"/api/v1/registrations/{seated['id']}/cancel", headers=partner.auth)
    promoted = (
        await client.get(f"/api/v1/registrations/{second['id']}", headers=partner.auth)
    ).json()
    assert promoted["status"] == "confirmed"
    refused = await client.post(
        f"/api/v1/registrations/{second['id']}/promote", headers=partner.auth
    )
    assert_problem(refused, 409, "invalid-state")


async def test_registration_window_and_event_status(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    now = datetime.now(UTC)
    event = await create_event(
        client,
        partner,
        registration_opens_at=(now + timedelta(days=1)).isoformat(),
        registration_closes_at=(now + timedelta(days=2)).isoformat(),
    )
    assert_problem(await register(client, event, "early@example.org"), 409, "registration-closed")
    clock.offset = timedelta(days=1, minutes=1)
    assert (await register(client, event, "ontime@example.org")).status_code == 201
    clock.offset = timedelta(days=2, minutes=1)
    assert_problem(await register(client, event, "late@example.org"), 409, "registration-closed")
    clock.offset = timedelta()
    draft = await create_event(client, partner, publish=False)
    assert_problem(await register(client, draft, "d@example.org"), 404, "not-found")
    cancelled = await create_event(client, partner)
    await client.post(f"/api/v1/events/{cancelled['id']}/cancel", headers=partner.auth)
    assert_problem(await register(client, cancelled, "c@example.org"), 409, "registration-closed")
    missing = {"id": "00000000-0000-0000-0000-000000000000"}
    assert_problem(await register(client, missing, "m@example.org"), 404, "not-found")
    assert_problem(await register(client, {"id": "not-a-uuid"}, "m@example.org"), 404, "not-found")


async def test_answers_and_sessions_are_validated(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, questions=QUESTIONS)
    bad = await register(
        client,
        event,
        "q@example.org",
        answers={"sector": "Farming", "unknown": "x", "consent": False},
        sessions=["00000000-0000-0000-0000-000000000000"],
    )
    fields = {e["field"] for e in assert_problem(bad, 422, "invalid-input")["errors"]}
    assert fields == {"answers.sector", "answers.unknown", "answers.consent", "sessions.0"}
    good = await register(client, event, "q@example.org", answers={"sector": "AI", "consent": True})
    assert good.status_code == 201 and good.json()["answers"] == {"sector": "AI", "consent": True}
    missing = await register(client, event, "r@example.org", answers={"consent": True})
    assert [e["field"] for e in assert_problem(missing, 422, "invalid-input")["errors"]] == [
        "answers.sector"
    ]


async def test_sessions_are_chosen_and_their_capacity_kept(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False, capacity=10)
    start = datetime.fromisoformat(event["starts_at"])
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        headers=partner.auth,
        json={
            "title": "Keynote",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "capacity": 1,
        },
    )
    assert made.status_code == 201, made.text
    session_id = made.json()["id"]
    await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    first = await register(client, event, "k1@example.org", sessions=[session_id])
    assert first.status_code == 201 and first.json()["sessions"] == [session_id]
    assert_problem(
        await register(client, event, "k2@example.org", sessions=[session_id]), 409, "session-full"
    )
    # the refused registration left nothing behind: the same person can register without it
    assert (await register(client, event, "k2@example.org")).status_code == 201


async def test_access_token_reads_only_its_own_registration(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    mine = (await register(client, event, "mine@example.org")).json()
    theirs = (await register(client, event, "theirs@example.org")).json()
    url = f"/api/v1/registrations/{theirs['id']}"
    assert_problem(await client.get(f"{url}?token={mine['access_token']}"), 404, "not-found")
    assert_problem(
        await client.get(url, headers={"Authorization": f"Bearer {mine['access_token']}"}),
        404,
        "not-found",
    )
    assert_problem(await client.get(url), 401, "unauthenticated")
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert_problem(
        await client.post(f"{url}/cancel?token={mine['access_token']}"), 404, "not-found"
    )
    by_bearer = await client.get(url, headers={"Authorization": f"Bearer {theirs['access_token']}"})
    assert (
        by_bearer.status_code == 200 and by_bearer.json()["access_token"] == theirs["access_token"]
    )
    by_host = await client.get(url, headers=partner.auth)
    assert by_host.status_code == 200 and by_host.json()["access_token"] is None
    door = (
        await client.post(
            f"/api/v1/events/{event['id']}/door-tokens",
            json={"label": "North"},
            headers=partner.auth,
        )
    ).json()
    assert_problem(
        await client.get(url, headers={"Authorization": f"Bearer {door['token']}"}),
        403,
        "forbidden",
    )


async def test_hosts_list_search_and_page(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=2, waitlist=True)
    for name, email in [
        ("陳大文", "chan@example.org"),
        ("Li Wei", "li@example.org"),
        ("Wong Siu Ming", "wong@example.org"),
    ]:
        await register(client, event, email, name=name)
    url = f"/api/v1/events/{event['id']}/registrations"
    everyone = (await client.get(url, headers=partner.auth)).json()
    assert [r["name"] for r in everyone["items"]] == ["陳大文", "Li Wei", "Wong Siu Ming"]
    assert everyone["next_cursor"] is None
    waiting = (await client.get(f"{url}?status=waitlisted", headers=partner.auth)).json()["items"]
    assert [r["email"] for r in waiting] == ["wong@example.org"]
    found = (await client.get(f"{url}?q=LI@EXAMPLE", headers=partner.auth)).json()["items"]
    assert [r["name"] for r in found] == ["Li Wei"]
    first = (await client.get(f"{url}?limit=2", headers=partner.auth)).json()
    second = (
        await client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=partner.auth)
    ).json()
    assert [r["name"] for r in first["items"] + second["items"]] == [
        "陳大文",
        "Li Wei",
        "Wong Siu Ming",
    ]
    assert second["next_cursor"] is None
    assert_problem(
        await client.get(f"{url}?status=maybe", headers=partner.auth), 422, "invalid-input"
    )
    assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")
    assert_problem(await client.get(url), 401, "unauthenticated")


async def test_csv_export_is_utf8_and_formula_safe(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, questions=QUESTIONS[:1])
    await register(
        client,
        event,
        "chan@example.org",
        name="陳大文",
        answers={"organisation": '=HYPERLINK("x")'},
    )
    await register(client, event, "at@example.org", name="@SUM(A1)")
    response = await client.get(
        f"/api/v1/events/{event['id']}/registrations.csv", headers=partner.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["name"] for r in table] == ["陳大文", "'@SUM(A1)"]
    assert table[0]["answer:organisation"] == '\'=HYPERLINK("x")'
    assert table[0]["status"] == "confirmed"


async def test_idempotency_key_replays_and_refuses_other_bodies(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/registrations"
    body = {"name": "Retry", "email": "retry@example.org"}
    first = await client.post(url, json=body, headers={"Idempotency-Key": "k-1"})
    again = await client.post(url, json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await client.post(
        url, json={**body, "name": "Other"}, headers={"Idempotency-Key": "k-1"}
    )
    assert_problem(other, 422, "idempotency-key-reused")
    listed = (
        await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    ).json()
    assert len(listed["items"]) == 1


async def test_unknown_fields_and_bad_email_are_422(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    extra = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "A", "email": "a@example.org", "status": "confirmed"},
    )
    assert assert_problem(extra, 422, "invalid-input")["errors"][0]["field"] == "status"
    bad = await register(client, event, "not-an-email")
    assert assert_problem(bad, 422, "invalid-input")["errors"][0]["field"] == "email"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.one_of(st.text(max_size=250), st.integers(), st.none()),
    email=st.one_of(st.emails(), st.text(max_size=300), st.none()),
    answers=st.one_of(
        st.dictionaries(
            st.text(max_size=10), st.one_of(st.text(max_size=20), st.booleans(), st.integers())
        ),
        st.text(),
    ),
)
async def test_any_input_gets_201_or_a_structured_error(
    client: httpx.AsyncClient, hypothesis_event: dict[str, Any], name: Any, email: Any, answers: Any
) -> None:
    body = {"name": name, "email": email, "answers": answers}
    response = await client.post(
        f"/api/v1/events/{hypothesis_event['id']}/registrations", json=body
    )
    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 422:
        problem = response.json()
        assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"])
    if response.status_code == 201:
        created = response.json()
        local = email.strip().rpartition("@")[0]
        # the canonical form: the local part as given, the domain in lower case (IDNA)
        assert created["email"].rpartition("@")[0] == local
        assert created["email"].rpartition("@")[2] == created["email"].rpartition("@")[2].lower()


async def test_a_confirmed_registration_is_one_statement_and_no_reset(
    client: httpx.AsyncClient, partner: Partner, settings: Settings
) -> None:
    """The surge's hot path, pinned: with the event known to this process, take a seat (at the
    event's version) and insert, in one statement. The pool sends nothing when it takes the
    connection back (no RESET ALL round trip)."""
    event = await create_event(client, partner, capacity=1000)  # a seat in every shard
    single = Database(settings.database_url, pool_size=1)
    await single.connect()
    statements: list[str] = []

    async def hot(conn: Connection, email: str) -> registration.RegistrationOut:
        data = registration.RegistrationIn(name="Hot Path", email=email)
        return await registration.register(
            conn, event["id"], data, now=datetime.now(UTC), base_url="http://test"
        )

    try:
        async with single.connection() as conn:
            await hot(conn, "warm@example.org")  # the connection's type codecs, keys cached
        async with single.connection() as conn:
            conn.add_query_logger(lambda record: statements.append(record.query))
            done = await hot(conn, "hot@example.org")
        async with single.connection() as conn:  # the same, only, connection of the pool
            await conn.fetchval("SELECT 1")
    finally:
        await single.disconnect()
    assert done.status == "confirmed" and done.ticket is not None
    assert len(statements) == 2, statements  # one for the registration, then the SELECT 1
    assert "INSERT INTO registrations" in statements[0] and statements[1] == "SELECT 1"
    read = (await client.get(f"/api/v1/registrations/{done.id}?token={done.access_token}")).json()
    assert read["ticket"] == msgspec.to_builtins(done.ticket)


async def test_what_a_process_knows_of_an_event_never_outlives_a_change(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    """Registering trusts what this process last read of the event only while the event's
    version is unchanged: every change (by any process) is seen by the next registration."""
    event = await create_event(client, partner, capacity=1, waitlist=False)
    url = f"/api/v1/events/{event['id']}"
    assert (await register(client, event, "first@example.org")).status_code == 201  # known now
    assert_problem(await register(client, event, "full@example.org"), 409, "event-full")
    # a new required question
    patched = await client.patch(url, json={"questions": QUESTIONS}, headers=partner.auth)
    assert patched.status_code == 200, patched.text
    assert_problem(await register(client, event, "q@example.org"), 422, "invalid-input")
    # more seats: full no longer holds
    more = await client.patch(url, json={"capacity": 3}, headers=partner.auth)
    assert more.status_code == 200
    answers = {"sector": "AI", "consent": True}
    assert (await register(client, event, "a@example.org", answers=answers)).status_code == 201
    # a session added since: choosing it is fine
    session = await client.post(
        f"{url}/sessions",
        json={"title": "New", "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    assert session.status_code == 201
    chosen = await register(
        client, event, "s@example.org", answers=answers, sessions=[session.json()["id"]]
    )
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["sessions"] == [session.json()["id"]]
    # cancelled: closed, though the last read said open
    assert (await client.post(f"{url}/cancel", headers=partner.auth)).status_code == 200
    assert_problem(
        await register(client, event, "late@example.org", answers=answers),
        409,
        "registration-closed",
    )


async def test_a_seat_freed_after_the_event_was_full_is_taken(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=False)
    first = (await register(client, event, "one@example.org")).json()
    assert_problem(await register(client, event, "two@example.org"), 409, "event-full")
    cancelled = await client.post(
        f"/api/v1/registrations/{first['id']}/cancel?token={first['access_token']}"
    )
    assert cancelled.status_code == 200
    again = await register(client, event, "two@example.org")
    assert again.status_code == 201 and again.json()["status"] == "confirmed"
