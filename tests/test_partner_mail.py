"""Mail to partners: co-host invitations tell the invited partner; console users reset
their password by mail (no enumeration, once, for an hour, other sessions ended)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from events import jobs
from events.db import Database
from events.queries import partner_mail as q
from events.settings import Settings
from tests.conftest import Clock, Partner, create_event, make_partner
from tests.test_web import csrf_of
from tests.test_web_console import PASSWORD, console_user, signed_in


async def mails_to(db: Database, email: str) -> list[dict[str, str]]:
    async with db.connection() as conn:
        return await q.sent_to(conn, email)


async def test_an_invited_partner_is_told_by_mail(
    client: httpx.AsyncClient, db: Database, partner: Partner, settings: Settings, clock: Clock
) -> None:
    event = await create_event(client, partner, title="Fintech Week")
    invited = await make_partner(db, "Office for Attracting Strategic Enterprises")
    staff = await console_user(db, invited)
    answer = await client.post(
        f"/api/v1/events/{event['id']}/cohosts",
        json={"partner": invited.slug},
        headers=partner.auth,
    )
    assert answer.status_code == 201
    for to in (f"{invited.slug}@example.org", staff):
        [mail] = await mails_to(db, to)
        assert mail["kind"] == "cohost-invitation" and "Fintech Week" in mail["subject"]
        assert partner.slug in mail["body"] and "http://test/console" in mail["body"]
    done = await jobs.run_once(db, settings, clock(), names=["send-partner-mail"])
    assert done["send-partner-mail"] is not None and done["send-partner-mail"] >= 2
    assert [m["status"] for m in await mails_to(db, staff)] == ["logged"]  # no SMTP_URL in tests


async def test_a_console_user_resets_the_password_by_mail(
    app: Starlette, client: httpx.AsyncClient, db: Database, partner: Partner, clock: Clock
) -> None:
    email = await console_user(db, partner)
    old_session = await signed_in(app, db, partner)
    page = await client.get("/console/password-reset")
    assert page.status_code == 200
    for who in (email, "nobody@example.org"):
        asked = await client.post(
            "/console/password-reset", data={"csrf": csrf_of(page), "email": who}
        )
        assert (
            asked.status_code == 200
            and "a link to choose a new password is on its way" in asked.text
        )
    assert await mails_to(db, "nobody@example.org") == []
    [mail] = await mails_to(db, email)
    link = re.search(r"http://test(/console/password-reset/\S+)", mail["body"])
    assert link and mail["kind"] == "password-reset"
    form = await client.get(link.group(1))
    assert form.status_code == 200
    short = await client.post(link.group(1), data={"csrf": csrf_of(form), "password": "short"})
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    changed = await client.post(
        link.group(1), data={"csrf": csrf_of(form), "password": "a brand new password"}
    )
    assert changed.status_code == 303
    shown = await client.get("/console")
    assert "Your new password is saved" in shown.text
    signed = await client.post(
        "/console/sign-in",
        data={"csrf": csrf_of(shown), "email": email, "password": "a brand new password"},
    )
    assert signed.status_code == 303
    old = await client.post(
        "/console/sign-in", data={"csrf": csrf_of(shown), "email": email, "password": PASSWORD}
    )
    assert old.status_code == 401
    assert (await client.get(link.group(1))).status_code == 404  # once
    await old_session.aclose()


async def test_a_reset_link_lasts_an_hour(
    client: httpx.AsyncClient, db: Database, partner: Partner, clock: Clock
) -> None:
    email = await console_user(db, partner)
    page = await client.get("/console/password-reset")
    await client.post("/console/password-reset", data={"csrf": csrf_of(page), "email": email})
    [mail] = await mails_to(db, email)
    link = re.search(r"http://test(/console/password-reset/\S+)", mail["body"])
    assert link
    clock.offset = timedelta(minutes=61)
    assert (await client.get(link.group(1))).status_code == 404
    late = await client.post(
        link.group(1), data={"csrf": csrf_of(page), "password": "a brand new password"}
    )
    assert late.status_code == 404
