"""What the new mails say (composed from the outbox rows), and reminders run as a periodic job."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import httpx

from events import jobs, letters
from events.db import Database
from events.queries import mail as mail_q
from events.settings import Settings
from tests.conftest import Clock, Partner, create_event
from tests.factories import register
from tests.test_mail import calendar_of, parts, sequence


async def mails(
    db: Database, settings: Settings, clock: Clock, registration_id: str, kind: str
) -> list[EmailMessage]:
    """The mails of `kind` queued for a registration, composed as the worker would now."""
    out = []
    async with db.connection() as conn:
        for job in await mail_q.of_registration(conn, UUID(registration_id)):
            if job["kind"] == kind:
                composed = await letters.compose(conn, job, settings, clock())
                assert composed.message is not None, composed.reason
                wire = composed.message.as_bytes(policy=policy.SMTP)  # as SMTP carries it
                parsed = email.message_from_bytes(wire, policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                out.append(parsed)
    return out


def far_event(**changes: Any) -> dict[str, Any]:
    """Starts 200 days ahead: no other test's event is due for a reminder around then."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=200)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        **changes,
    }


async def test_update_mail_says_what_changed_in_each_language(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner, title="Summit", timezone="Asia/Hong_Kong")
    regs = {
        lang: await register(
            client, event["id"], f"upd-{lang}-{event['id'][:8]}@example.org", locale=lang
        )
        for lang in ("en", "zh-Hant", "zh-Hans")
    }
    start = datetime.fromisoformat(event["starts_at"]) + timedelta(days=1)
    moved = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={
            "title": "Moved Summit",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "venue": {"name": "PolyU Jockey Club Auditorium"},
        },
        headers=partner.auth,
    )
    assert moved.status_code == 200
    [en] = await mails(db, settings, clock, regs["en"]["id"], "update")
    text = parts(en)["text/plain"]
    assert en["Subject"] == "Changed: Moved Summit"
    assert "What changed:" in text and "Title: Summit" in text and "→ Moved Summit" in text
    assert "HKCEC Hall 3" in text and "→ PolyU Jockey Club Auditorium" in text
    assert "(time in Asia/Hong_Kong)" in text
    assert "<del>Summit</del>" in parts(en)["text/html"]
    [hant] = await mails(db, settings, clock, regs["zh-Hant"]["id"], "update")
    assert hant["Subject"] == "活動更新：Moved Summit" and "更改內容" in parts(hant)["text/plain"]
    assert "時間" in parts(hant)["text/plain"]
    [hans] = await mails(db, settings, clock, regs["zh-Hans"]["id"], "update")
    assert hans["Subject"] == "活动更新：Moved Summit" and "更改内容" in parts(hans)["text/plain"]
    assert "Hong Kong Talent Engage" in str(en["From"])


async def test_cancellation_carries_the_reason_and_no_ticket(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner)
    en = await register(client, event["id"], f"cx-{event['id'][:8]}@example.org")
    hant = await register(
        client, event["id"], f"cx2-{event['id'][:8]}@example.org", locale="zh-Hant"
    )
    cancelled = await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={"reason": "Typhoon signal No. 8"},
        headers=partner.auth,
    )
    assert cancelled.status_code == 200
    [mail] = await mails(db, settings, clock, en["id"], "cancellation")
    text = parts(mail)
    assert mail["Subject"] == f"Cancelled: {event['title']}"
    assert "The host says: Typhoon signal No. 8" in text["text/plain"]
    assert "Typhoon signal No. 8" in text["text/html"]
    assert not [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert "ticket" not in text["text/plain"].lower() and "cid:" not in text["text/html"]
    assert en["ticket"]["code"] not in mail.as_string()
    invite = calendar_of(mail)
    assert invite is not None and str(invite["method"]) == "CANCEL"
    [zh] = await mails(db, settings, clock, hant["id"], "cancellation")
    assert "主辦單位表示： Typhoon signal No. 8" in parts(zh)["text/plain"]


async def test_resend_message_and_edited_mails(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner)
    start = datetime.fromisoformat(event["starts_at"])
    sessions = []
    for hour in (1, 3):
        made = await client.post(
            f"/api/v1/events/{event['id']}/sessions",
            json={
                "title": f"Talk {hour}",
                "starts_at": (start + timedelta(hours=hour)).isoformat(),
                "ends_at": (start + timedelta(hours=hour + 1)).isoformat(),
            },
            headers=partner.auth,
        )
        sessions.append(made.json()["id"])
    r = await register(
        client,
        event["id"],
        f"rs-{event['id'][:8]}@example.org",
        locale="zh-Hans",
        sessions=[sessions[0]],
    )
    await client.post(
        f"/api/v1/events/{event['id']}/registrations/resend", json={"email": r["email"]}
    )
    [resent] = await mails(db, settings, clock, r["id"], "resend")
    assert resent["Subject"] == f"您的报名链接：{event['title']}"
    assert r["ticket_url"] in parts(resent)["text/plain"]
    await client.post(
        f"/api/v1/events/{event['id']}/messages",
        json={"subject": "Bring ID", "body": "Please bring photo ID.\n\nSee you!"},
        headers=partner.auth,
    )
    [note] = await mails(db, settings, clock, r["id"], "message")
    assert note["Subject"] == f"Bring ID · {event['title']}"
    assert "Please bring photo ID." in parts(note)["text/plain"]
    assert "Hong Kong Talent Engage" in parts(note)["text/plain"]
    [confirmation] = await mails(db, settings, clock, r["id"], "confirmation")
    patched = await client.patch(
        f"/api/v1/registrations/{r['id']}?token={r['access_token']}",
        json={"sessions": [sessions[1]]},
    )
    assert patched.status_code == 200
    [edited] = await mails(db, settings, clock, r["id"], "edited")
    assert "Talk 3" in parts(edited)["text/plain"] and "Talk 1" not in parts(edited)["text/plain"]
    assert sequence(edited) == sequence(confirmation) + 1
    # the session taken off: its own VEVENT cancelled, above the SEQUENCE it was sent with
    [dropped] = await mails(db, settings, clock, r["id"], "sessions-withdrawn")
    cal = calendar_of(dropped)
    assert cal is not None and str(cal["method"]) == "CANCEL"
    [vevent] = cal.events
    assert str(vevent["uid"]) == f"registration-{r['id']}-session-{sessions[0]}@events"
    assert str(vevent["status"]) == "CANCELLED" and str(vevent["summary"]).startswith("Talk 1")
    assert int(vevent["sequence"]) == sequence(edited)
    text = parts(dropped)["text/plain"]
    assert dropped["Subject"] == f"已删除的场次：{event['title']}" and "Talk 1" in text
    assert "Talk 3" not in text


async def test_a_deleted_session_is_cancelled_in_its_holders_calendars(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/sessions"
    made = await client.post(
        url,
        json={"title": "Panel", "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    session = made.json()["id"]
    holder = await register(client, event["id"], f"h-{session[:8]}@example.org", sessions=[session])
    other = await register(client, event["id"], f"o-{session[:8]}@example.org")
    [confirmation] = await mails(db, settings, clock, holder["id"], "confirmation")
    deleted = await client.delete(f"{url}/{session}?force=1", headers=partner.auth)
    assert deleted.status_code in (200, 204), deleted.text
    [gone] = await mails(db, settings, clock, holder["id"], "sessions-withdrawn")
    cal = calendar_of(gone)
    assert cal is not None and str(cal["method"]) == "CANCEL"
    [vevent] = cal.events
    assert str(vevent["uid"]) == f"registration-{holder['id']}-session-{session}@events"
    assert int(vevent["sequence"]) > sequence(confirmation)
    assert "Panel" in parts(gone)["text/plain"]
    assert await mails(db, settings, clock, other["id"], "sessions-withdrawn") == []


async def test_reminders_go_once_each_in_the_attendees_language_and_follow_the_start(
    client: httpx.AsyncClient, partner: Partner, db: Database, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner, **far_event(reminders=["P1D", "PT2H"]))
    tag = event["id"][:8]
    en = await register(client, event["id"], f"rem-en-{tag}@example.org")
    hant = await register(client, event["id"], f"rem-hant-{tag}@example.org", locale="zh-Hant")
    gone = await register(client, event["id"], f"rem-gone-{tag}@example.org")
    await client.post(f"/api/v1/registrations/{gone['id']}/cancel?token={gone['access_token']}")
    start = datetime.fromisoformat(event["starts_at"])

    async def run_at(at: datetime) -> None:
        clock.offset = at - datetime.now(UTC)
        done = await jobs.run_once(db, settings, at, names=["reminders"])
        assert done["reminders"] is not None

    async def reminded(r: dict[str, Any]) -> list[int]:
        async with db.connection() as conn:
            rows = await mail_q.of_registration(conn, UUID(r["id"]))
        return [row["revision"] for row in rows if row["kind"] == "reminder"]

    await run_at(start - timedelta(days=1, minutes=1))
    assert await reminded(en) == []
    # the host moves the event a day later: the one-day reminder moves with it
    later = start + timedelta(days=1)
    await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=3)).isoformat()},
        headers=partner.auth,
    )
    await run_at(start - timedelta(hours=23))
    assert await reminded(en) == []
    await run_at(later - timedelta(hours=23))
    await run_at(later - timedelta(hours=22))
    assert await reminded(en) == [86400] and await reminded(hant) == [86400]
    assert await reminded(gone) == []
    await run_at(later - timedelta(hours=1))
    assert await reminded(en) == [86400, 7200]
    [first, _] = await mails(db, settings, clock, en["id"], "reminder")
    assert first["Subject"] == f"Reminder: {event['title']}"
    assert en["ticket_url"] in parts(first)["text/plain"]
    assert [p for p in first.walk() if p.get_content_type() == "image/png"]
    [zh, _] = await mails(db, settings, clock, hant["id"], "reminder")
    assert zh["Subject"] == f"活動提醒：{event['title']}"
    await run_at(later + timedelta(minutes=1))  # begun: nothing more, and unsent ones are stale
    assert await reminded(en) == [86400, 7200]
    async with db.connection() as conn:
        [job, _] = [
            r for r in await mail_q.of_registration(conn, UUID(en["id"])) if r["kind"] == "reminder"
        ]
        late = await letters.compose(conn, job, settings, clock())
    assert late.message is None and late.reason == "the event has begun"
