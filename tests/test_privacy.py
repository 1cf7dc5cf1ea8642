"""Personal data (issue 19): export, erasure, retention, consent — over HTTP on PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import cli, ical, jobs, rendered, replies
from events.db import Database
from events.settings import Settings
from tests import factories
from tests.conftest import Clock, Partner, assert_problem, create_event, make_partner
from tests.itip_messages import reply_mail
from tests.test_checkin import door_for
from tests.test_hosting import _invite
from tests.test_replies import REPLY_BASE, replying  # noqa: F401 (a fixture)
from tests.test_web import csrf_of
from tests.test_web_console import console, event_form, new_event  # noqa: F401 (a fixture)

CHINESE = [{"id": "chinese_name", "label": "Chinese name", "kind": "text"}]


def person() -> tuple[str, str, str]:
    tag = secrets.token_hex(4)
    chinese = "".join(secrets.choice("陳大文小明華李張王黃林美玲志強") for _ in range(6))
    return f"Erasable Wong {tag}", f"erase-{tag}@example.org", chinese


async def register(
    client: httpx.AsyncClient, event: dict[str, Any], name: str, email: str, **extra: Any
) -> dict[str, Any]:
    extra.setdefault("consent", bool(event.get("consent_text")))
    return await factories.register(client, event, email, name=name, **extra)


def as_attendee(reg: dict[str, Any]) -> dict[str, str]:
    return {"token": reg["access_token"]}


async def traces(db: Database, needles: list[str]) -> list[str]:
    """Every column (text, jsonb, arrays, bytea as bytes) of every table holding a needle."""
    found = []
    async with db.connection() as conn:
        columns = await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type IN"
            " ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY', 'USER-DEFINED')"
        )
        assert len(columns) > 30  # the search covers the schema
        for c in columns:
            column = f'"{c["column_name"]}"'
            for needle in needles:
                if c["data_type"] == "bytea":
                    where = f"position(convert_to($1::text, 'UTF8') IN {column}) > 0"
                else:
                    where = f"strpos(lower({column}::text), lower($1::text)) > 0"
                sql = f'SELECT count(*) FROM "{c["table_name"]}" WHERE {where}'
                if await conn.fetchval(sql, needle):
                    found.append(f"{c['table_name']}.{c['column_name']}: {needle}")
    return found


def local_traces(needles: list[str]) -> list[str]:
    """This process's caches of rendered files (QR images, invites)."""
    files = [body for _, body in rendered._local.items.values()]
    files += list(ical.cache.items.values())
    return [n for n in needles for body in files if n.encode() in body]


async def privacy_event(
    client: httpx.AsyncClient, partner: Partner, **changes: Any
) -> dict[str, Any]:
    return await create_event(
        client,
        partner,
        capacity=1,
        waitlist=True,
        questions=CHINESE,
        consent_text="I agree that my data is kept for this event.",
        privacy_url="https://example.org/privacy",
        visibility="unlisted",  # off the shared home page, which lists the soonest 200
        **changes,
    )


async def test_an_erased_attendee_is_nowhere_in_the_database(
    client: httpx.AsyncClient,
    db: Database,
    partner: Partner,
    clock: Clock,
    replying: Settings,  # noqa: F811
) -> None:
    event = await privacy_event(client, partner)
    name, email, chinese = person()
    needles = [name, email, chinese]
    reg = await register(
        client,
        event,
        name,
        email,
        answers={"chinese_name": chinese},
        chinese_name=chinese[:4],
        consent=True,
        headers={"Idempotency-Key": "erase-" + secrets.token_hex(4)},
    )
    waiting = await register(client, event, "Next In Line", f"next-{secrets.token_hex(3)}@ex.org")
    assert reg["status"] == "confirmed" and waiting["status"] == "waitlisted"
    rid, token = reg["id"], reg["access_token"]
    # every way its data gets stored or rendered: images, invite, page, host reads, check-in,
    # an offline batch, a calendar reply
    for url in (reg["ticket"]["qr_png"], reg["ticket"]["qr_svg"], reg["calendar"]):
        assert (await client.get(url)).status_code == 200
    assert (await client.get(reg["ticket_url"])).status_code == 200
    assert (await client.get(f"/api/v1/registrations/{rid}", headers=partner.auth)).is_success
    door = await door_for(client, partner, event)
    scan = {"code": reg["ticket"]["code"], "scanned_at": clock().isoformat(), "device": "d1"}
    batch = await client.post(
        f"/api/v1/events/{event['id']}/checkins/batch",
        json={"scans": [{**scan, "nonce": secrets.token_hex(8)}]},
        headers=door.auth,
    )
    assert batch.json()["results"][0]["result"] == "accepted", batch.text
    invite = icalendar.Calendar.from_ical((await client.get(reg["calendar"])).content)
    organizer = str(invite.events[0]["organizer"]).removeprefix("mailto:")
    raw = reply_mail(invite, to=organizer, attendee=email, partstat="ACCEPTED")
    outcome = await replies.receive(
        db, raw, recipients=[organizer], base=REPLY_BASE, via="smtp", now=clock()
    )
    assert outcome.outcome == "applied", outcome
    assert await traces(db, needles)  # the search finds what is there

    erased = await client.post(f"/api/v1/registrations/{rid}/erase", params=as_attendee(reg))
    assert erased.status_code == 200, erased.text
    assert erased.json()["status"] == "cancelled" and erased.json()["erased"] is True
    again = await client.post(f"/api/v1/registrations/{rid}/erase", params=as_attendee(reg))
    assert again.status_code == 200 and again.json()["erased_at"] == erased.json()["erased_at"]

    assert await traces(db, needles) == []
    assert local_traces(needles) == []
    # the seat went to the waitlist; counts and the check-in time stay
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert (stats["confirmed"], stats["waitlisted"], stats["cancelled"]) == (1, 0, 1)
    promoted = await client.get(
        f"/api/v1/registrations/{waiting['id']}", params=as_attendee(waiting)
    )
    assert promoted.json()["status"] == "confirmed" and promoted.json()["ticket"]
    async with db.connection() as conn:
        kept = await conn.fetchval(
            "SELECT checked_in_at FROM checkins WHERE registration_id = $1", reg["id"]
        )
    assert kept is not None
    # its links answer 410, saying why
    for url in (reg["ticket"]["qr_png"], reg["ticket"]["qr_svg"], reg["calendar"]):
        assert_problem(await client.get(url), 410, "registration-erased")
    page = await client.get(reg["ticket_url"])
    assert page.status_code == 410 and "erased" in page.text and name not in page.text
    zh = await client.get(reg["ticket_url"] + "&lang=zh-Hant")
    assert zh.status_code == 410 and "刪除" in zh.text
    # the same email registers again (the erased row holds no live email)
    back = await register(client, event, name, email, consent=True)
    assert back["status"] == "waitlisted"
    del token


async def test_export_has_every_fact_and_is_logged(
    client: httpx.AsyncClient, db: Database, partner: Partner, other_partner: Partner
) -> None:
    event = await privacy_event(client, partner)
    name, email, chinese = person()
    reg = await register(
        client, event, name, email, answers={"chinese_name": chinese}, consent=True
    )
    mine = await client.get(f"/api/v1/registrations/{reg['id']}/export", params=as_attendee(reg))
    assert mine.status_code == 200, mine.text
    facts = mine.json()
    got = facts["registration"]
    assert (got["name"], got["email"], got["answers"]) == (name, email, {"chinese_name": chinese})
    assert got["consent"] == event["consent_text"] and got["consent_at"]
    assert got["status"] == "confirmed" and got["locale"] == "en" and got["created_at"]
    assert "access_token" not in got
    assert [m["kind"] for m in facts["mails"]] == ["confirmation"]
    assert facts["mails"][0]["status"] == "pending"
    assert facts["checkins"] == [] and facts["calendar_replies"] == []
    assert facts["event"]["id"] == event["id"] and facts["event"]["retention_until"]
    assert facts["audit"][0]["action"] == "registration.created"
    # a host may export too; both readings are in the audit log
    host = await client.get(f"/api/v1/registrations/{reg['id']}/export", headers=partner.auth)
    assert host.status_code == 200
    assert [a["action"] for a in host.json()["audit"]].count("registration.exported") == 1
    log = await client.get(f"/api/v1/events/{event['id']}/audit", headers=partner.auth)
    actors = [
        e["actor"]["type"] for e in log.json()["items"] if e["action"] == "registration.exported"
    ]
    assert actors == ["partner", "attendee"]
    # nobody else
    path = f"/api/v1/registrations/{reg['id']}/export"
    assert_problem(await client.get(path, headers=other_partner.auth), 404, "not-found")
    assert_problem(await client.get(path), 401, "unauthenticated")
    assert_problem(await client.get(path, params={"token": "wrong"}), 404, "not-found")
    door = await door_for(client, partner, event)
    assert_problem(await client.get(path, headers=door.auth), 403, "forbidden")


@pytest.fixture
async def hosts(db: Database) -> tuple[Partner, Partner, Partner]:
    return (
        await make_partner(db, "Owner"),
        await make_partner(db, "Co-host"),
        await make_partner(db, "Stranger"),
    )


async def test_the_attendee_and_the_owner_erase_a_cohost_may_not(
    client: httpx.AsyncClient, hosts: tuple[Partner, Partner, Partner]
) -> None:
    owner, cohost, stranger = hosts
    event = await privacy_event(client, owner)
    invitation = await _invite(client, event, owner, cohost)
    accepted = await client.post(
        f"/api/v1/invitations/{invitation['id']}/accept", headers=cohost.auth
    )
    assert accepted.status_code == 200
    first = await register(client, event, *person()[:2], consent=True)
    path = f"/api/v1/registrations/{first['id']}/erase"
    assert_problem(await client.post(path, headers=cohost.auth), 403, "forbidden")
    assert_problem(await client.post(path, headers=stranger.auth), 404, "not-found")
    assert_problem(await client.post(path), 401, "unauthenticated")
    door = await door_for(client, owner, event)
    assert_problem(await client.post(path, headers=door.auth), 403, "forbidden")
    # a co-host may still export (hosts read), and nothing was erased by the refusals
    exported = await client.get(f"/api/v1/registrations/{first['id']}/export", headers=cohost.auth)
    assert exported.status_code == 200 and exported.json()["registration"]["erased_at"] is None
    done = await client.post(path, headers=owner.auth)
    assert done.status_code == 200 and done.json()["erased"] is True
    log = await client.get(f"/api/v1/events/{event['id']}/audit", headers=owner.auth)
    entry = next(e for e in log.json()["items"] if e["action"] == "registration.erased")
    assert entry["actor"]["type"] == "partner" and entry["subject"]["id"] == first["id"]
    read = await client.get(f"/api/v1/registrations/{first['id']}", headers=owner.auth)
    assert read.json()["name"] == "" and read.json()["email"] == ""
    assert read.json()["status"] == "cancelled"


async def test_retention_erases_by_the_clock(
    client: httpx.AsyncClient, db: Database, settings: Settings, partner: Partner
) -> None:
    event = await privacy_event(client, partner, retention_days=30)
    assert event["retention_days"] == 30
    ends = datetime.fromisoformat(event["ends_at"])
    assert datetime.fromisoformat(event["retention_until"]) == ends + timedelta(days=30)
    name, email, chinese = person()
    reg = await register(
        client, event, name, email, answers={"chinese_name": chinese}, consent=True
    )
    before = await jobs.run_once(db, settings, ends + timedelta(days=29), names=["erase-expired"])
    assert before["erase-expired"] is not None
    kept = await client.get(f"/api/v1/registrations/{reg['id']}", params=as_attendee(reg))
    assert kept.json()["name"] == name
    after = await jobs.run_once(db, settings, ends + timedelta(days=30), names=["erase-expired"])
    assert after["erase-expired"] is not None and after["erase-expired"] >= 1
    assert await traces(db, [name, email, chinese]) == []
    assert_problem(await client.get(reg["calendar"]), 410, "registration-erased")
    log = await client.get(f"/api/v1/events/{event['id']}/audit", headers=partner.auth)
    entry = next(e for e in log.json()["items"] if e["action"] == "registration.erased")
    assert entry["actor"] == {"type": "system", "id": "retention", "label": "retention"}
    again = await jobs.run_once(db, settings, ends + timedelta(days=31), names=["erase-expired"])
    assert again["erase-expired"] == 0


async def test_privacy_fields_are_validated_and_returned(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, publish=False)
    assert event["retention_days"] == 180
    assert event["consent_text"] == "" and event["privacy_url"] == ""
    path = f"/api/v1/events/{event['id']}"
    for bad in ({"retention_days": 0}, {"retention_days": 3651}, {"retention_days": "x"}):
        body = assert_problem(
            await client.patch(path, json=bad, headers=partner.auth), 422, "invalid-input"
        )
        assert body["errors"][0]["field"] == "retention_days"
    for url in ("http://example.org/privacy", "javascript:alert(1)", "https://"):
        response = await client.patch(path, json={"privacy_url": url}, headers=partner.auth)
        assert assert_problem(response, 422, "invalid-input")["errors"][0]["field"] == "privacy_url"
    changed = await client.patch(
        path,
        json={"retention_days": 3650, "consent_text": "OK", "privacy_url": "https://x.org/p"},
        headers=partner.auth,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["retention_days"], changed.json()["privacy_url"]) == (
        3650,
        "https://x.org/p",
    )


async def test_consent_is_required_when_the_event_asks_and_kept(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await privacy_event(client, partner)
    name, email, _ = person()
    refused = await client.post(
        f"/api/v1/events/{event['id']}/registrations", json={"name": name, "email": email}
    )
    assert assert_problem(refused, 422, "invalid-input")["errors"][0]["field"] == "consent"
    reg = await register(client, event, name, email, consent=True)
    assert reg["consent"] == event["consent_text"] and reg["consent_at"]
    plain = await create_event(client, partner)
    other = await register(client, plain, name, email)
    assert other["consent"] is None and other["consent_at"] is None
    page = await client.get(f"/events/{event['slug']}")
    assert 'name="consent"' in page.text and event["consent_text"] in page.text
    assert 'href="https://example.org/privacy"' in page.text
    assert 'name="consent"' not in (await client.get(f"/events/{plain['slug']}")).text


async def test_the_attendee_erases_from_the_ticket_page(
    client: httpx.AsyncClient, db: Database, partner: Partner
) -> None:
    event = await privacy_event(client, partner)
    name, email, _ = person()
    reg = await register(client, event, name, email, consent=True)
    path, _, query = reg["ticket_url"].partition("?")
    ticket = await client.get(reg["ticket_url"])
    assert f"/tickets/{reg['id']}/erase?token=" in ticket.text
    confirm = await client.get(f"{path}/erase?{query}")
    assert confirm.status_code == 200 and "Yes, erase my data" in confirm.text
    done = await client.post(
        f"{path}/erase", data={"csrf": csrf_of(confirm), "token": reg["access_token"]}
    )
    assert done.status_code == 303
    gone = await client.get(done.headers["location"])
    assert gone.status_code == 410 and name not in gone.text
    assert await traces(db, [name, email]) == []


async def test_cli_exports_and_erases_every_registration_of_an_email(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    partner: Partner,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    first = await privacy_event(client, partner)
    second = await create_event(client, partner)
    name, email, chinese = person()
    regs = [
        await register(client, first, name, email, consent=True, answers={"chinese_name": chinese}),
        await register(client, second, name, email.upper()),
    ]
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert await asyncio.to_thread(cli.main, ["privacy", "export", "--email", email]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [r["registration"]["id"] for r in exported["registrations"]] == [r["id"] for r in regs]
    assert exported["registrations"][0]["registration"]["answers"] == {"chinese_name": chinese}
    assert await asyncio.to_thread(cli.main, ["privacy", "erase", "--email", email]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["erased"]) == sorted(r["id"] for r in regs)
    assert await traces(db, [name, email, chinese]) == []
    log = await client.get(f"/api/v1/events/{first['id']}/audit", headers=partner.auth)
    actors = {
        e["actor"]["type"] for e in log.json()["items"] if e["action"] == "registration.erased"
    }
    assert actors == {"operator"}
    assert (
        await asyncio.to_thread(cli.main, ["privacy", "erase", "--email", email]) == 0
    )  # nothing left: nothing done
    assert json.loads(capsys.readouterr().out)["erased"] == []


async def test_the_console_sets_retention_and_shows_the_date(
    console: httpx.AsyncClient,  # noqa: F811
    client: httpx.AsyncClient,
    partner: Partner,
) -> None:
    event_id, page = await new_event(
        console,
        retention_days="45",
        consent_text="You agree to our use of your data.",
        privacy_url="https://example.org/p",
    )
    assert "Personal data erased on" in page.text and "45 days after the end" in page.text
    event = (await client.get(f"/api/v1/events/{event_id}", headers=partner.auth)).json()
    assert event["retention_days"] == 45 and event["privacy_url"] == "https://example.org/p"
    until = datetime.fromisoformat(event["retention_until"])
    assert f'datetime="{until.isoformat()}"' in page.text
    form = await console.get("/console/events/new")
    refused = await console.post(
        "/console/events/new",
        data=event_form(csrf_of(form), retention_days="0", privacy_url="http://x.org"),
    )
    assert refused.status_code == 422
    assert "Enter a number of days from 1 to 3650." in refused.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.one_of(
        st.text(max_size=60),
        st.just("https://"),
        st.builds("https://{}".format, st.text(max_size=30)),
    ),
    days=st.one_of(st.integers(min_value=-5, max_value=4000), st.text(max_size=5), st.none()),
)
async def test_privacy_fields_get_200_or_a_clear_422(
    client: httpx.AsyncClient, partner: Partner, url: str, days: Any
) -> None:
    event = await create_event(client, partner, publish=False)
    body: dict[str, Any] = {"privacy_url": url}
    if days is not None:
        body["retention_days"] = days
    response = await client.patch(f"/api/v1/events/{event['id']}", json=body, headers=partner.auth)
    control = any(unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029" for c in url)
    good_url = not url or (
        url.startswith("https://") and len(url) > 8 and " " not in url and not control
    )
    good_days = days is None or (isinstance(days, int) and 1 <= days <= 3650)
    if good_url and good_days and "\x00" not in url:
        assert response.status_code == 200, response.text
        assert response.json()["privacy_url"] == url
    else:
        fields = {e["field"] for e in assert_problem(response, 422, "invalid-input")["errors"]}
        assert fields <= {"privacy_url", "retention_days"}


async def test_erasing_while_cancelling_frees_one_seat_once(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await privacy_event(client, partner)
    first = await register(client, event, *person()[:2])
    waiting = [await register(client, event, *person()[:2]) for _ in range(2)]
    path = f"/api/v1/registrations/{first['id']}"
    answers = await asyncio.gather(
        client.post(f"{path}/erase", params=as_attendee(first)),
        client.post(f"{path}/cancel", params=as_attendee(first)),
        client.post(f"{path}/erase", headers=partner.auth),
    )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert (stats["confirmed"], stats["waitlisted"], stats["cancelled"]) == (1, 1, 1)
    heads = [
        (await client.get(f"/api/v1/registrations/{w['id']}", params=as_attendee(w))).json()
        for w in waiting
    ]
    assert [h["status"] for h in heads] == ["confirmed", "waitlisted"]
    # the control: a second cancellation of another changes the counts exactly once more
    again = await client.post(
        f"/api/v1/registrations/{heads[0]['id']}/erase", params=as_attendee(waiting[0])
    )
    assert again.status_code == 200
    stats = (await client.get(f"/api/v1/events/{event['id']}/stats", headers=partner.auth)).json()
    assert (stats["confirmed"], stats["waitlisted"], stats["cancelled"]) == (1, 0, 2)
