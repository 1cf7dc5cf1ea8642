"""The console's organisation page: API tokens (created once shown, revoked) and the team
(members added with a first password, disabled)."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from events.db import Database
from tests.conftest import Partner, make_partner
from tests.test_web import csrf_of
from tests.test_web_console import signed_in


async def test_api_tokens_are_made_and_revoked_in_the_console(
    app: Starlette, db: Database, partner: Partner, client: httpx.AsyncClient
) -> None:
    console = await signed_in(app, db, partner)
    page = await console.get("/console/account")
    assert page.status_code == 200 and "API tokens" in page.text
    made = await console.post(
        "/console/account/tokens", data={"csrf": csrf_of(page), "label": "CRM sync"}
    )
    token = re.search(r'<code id="new-token">(pt_[^<]+)</code>', made.text)
    assert token, made.text
    auth = {"Authorization": f"Bearer {token.group(1)}"}
    assert (await client.get("/api/v1/events?hosted=1", headers=auth)).status_code == 200
    again = await console.get("/console/account")
    assert token.group(1) not in again.text  # shown once
    [token_id] = re.findall(r"/console/account/tokens/([0-9a-f-]{36})/revoke", made.text)[-1:]
    listed = (await client.get("/api/v1/tokens", headers=partner.auth)).json()
    assert token_id in {t["id"] for t in listed if t["label"] == "CRM sync"}
    revoked = await console.post(
        f"/console/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(page)}
    )
    assert revoked.status_code == 303
    assert (await client.get("/api/v1/events?hosted=1", headers=auth)).status_code == 401
    other = await make_partner(db)
    stranger = await console.post(
        f"/console/account/tokens/{other.id}/revoke", data={"csrf": csrf_of(page)}
    )
    assert stranger.status_code == 404
    await console.aclose()


async def test_team_members_are_added_and_disabled(
    app: Starlette, db: Database, partner: Partner
) -> None:
    console = await signed_in(app, db, partner)
    page = await console.get("/console/account")
    email = f"new-{partner.slug}@example.org"
    short = await console.post(
        "/console/account/members",
        data={"csrf": csrf_of(page), "email": email, "password": "short"},
    )
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    added = await console.post(
        "/console/account/members",
        data={"csrf": csrf_of(page), "email": email, "password": "a long first password"},
    )
    assert added.status_code == 303
    member = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    sign_in = await member.get("/console")
    answer = await member.post(
        "/console/sign-in",
        data={"csrf": csrf_of(sign_in), "email": email, "password": "a long first password"},
    )
    assert answer.status_code == 303
    assert (await member.get("/console/account")).status_code == 200
    page = await console.get("/console/account")
    member_id = re.search(
        rf"{re.escape(email)}\s*<form method=\"post\" action=\"/console/account/members/([0-9a-f-]+)/disable",
        page.text,
    )
    assert member_id, page.text
    disabled = await console.post(
        f"/console/account/members/{member_id.group(1)}/disable", data={"csrf": csrf_of(page)}
    )
    assert disabled.status_code == 303
    assert (await member.get("/console/account")).status_code == 303  # signed out at once
    await member.aclose()
    await console.aclose()
