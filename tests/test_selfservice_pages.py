"""The self-service pages: register or join the waitlist, errors to fix first, the link again,
a ticket page that fits its state and language, a wrong link that helps, changing details."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from events.db import Database
from events.queries import mail as mail_q
from tests.conftest import Clock, Partner, create_event
from tests.test_web import csrf_of, register_form


async def with_sessions(
    client: httpx.AsyncClient, partner: Partner, **changes: Any
) -> tuple[dict[str, Any], list[str]]:
    event = await create_event(client, partner, **changes)
    start = datetime.fromisoformat(event["starts_at"])
    ids = []
    for title, hour, capacity in (("Keynote", 1, 1), ("Fintech panel", 1, None), ("AI lab", 3, 10)):
        made = await client.post(
            f"/api/v1/events/{event['id']}/sessions",
            json={
                "title": title,
                "starts_at": (start + timedelta(hours=hour)).isoformat(),
                "ends_at": (start + timedelta(hours=hour + 1)).isoformat(),
                "capacity": capacity,
            },
            headers=partner.auth,
        )
        ids.append(made.json()["id"])
    return event, ids


async def api_register(
    client: httpx.AsyncClient, event: dict[str, Any], email: str, **extra: Any
) -> Any:
    made = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "Chan Tai Man", "email": email, **extra},
    )
    assert made.status_code == 201, made.text
    return made.json()


@pytest.mark.parametrize(
    ("lang", "register", "waitlist", "full", "required"),
    [
        ("en", "Register", "Join the waitlist", "Full", "(required)"),
        ("zh-Hant", "登記", "加入候補名單", "已滿", "(必填)"),
        ("zh-Hans", "报名", "加入候补名单", "已满", "(必填)"),
    ],
)
async def test_the_button_says_what_will_happen_and_sessions_show_their_seats(
    client: httpx.AsyncClient,
    partner: Partner,
    lang: str,
    register: str,
    waitlist: str,
    full: str,
    required: str,
) -> None:
    event, ids = await with_sessions(client, partner, capacity=1, waitlist=True)
    page = (await client.get(f"/events/{event['slug']}?lang={lang}")).text
    assert f">{register}</button>" in page and waitlist not in page
    assert page.count(f'<span class="req">{required}</span>') >= 2  # name and email
    assert "10" in page and full not in page
    await api_register(
        client, event, f"seat-{lang}-{event['id'][:6]}@example.org", sessions=[ids[0]]
    )
    page = (await client.get(f"/events/{event['slug']}?lang={lang}")).text
    assert f">{waitlist}</button>" in page
    assert f'<span class="full">{full}</span>' in page
    assert f'value="{ids[0]}" disabled' in page


async def test_a_failed_form_puts_a_focusable_summary_on_top_and_names_overlaps(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event, ids = await with_sessions(client, partner)
    _, data = await register_form(client, event["slug"], name="", email="nope")
    answer = await client.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 422
    summary = answer.text.index("data-error-summary")
    assert summary < answer.text.index('<form method="post"')
    assert 'tabindex="-1"' in answer.text[summary - 200 : summary]
    assert '<a href="#name">Please enter your name.</a>' in answer.text
    script = (await client.get("/static/form.js")).text
    assert "[data-error-summary]" in script and ".focus()" in script
    _, data = await register_form(
        client, event["slug"], name="Wong", email=f"ov-{event['id'][:6]}@example.org"
    )
    data["sessions"] = [ids[1], ids[2]]
    ok = await client.post(f"/events/{event['slug']}", data={**data, "sessions": [ids[1], ids[2]]})
    assert ok.status_code == 303
    _, data = await register_form(
        client, event["slug"], name="Lee", email=f"ov2-{event['id'][:6]}@example.org"
    )
    refused = await client.post(
        f"/events/{event['slug']}?lang=zh-Hant", data={**data, "sessions": [ids[0], ids[1]]}
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "以下場次時間重疊" in text and "Keynote" in text and "Fintech panel" in text


async def test_already_registered_offers_the_link_again(
    client: httpx.AsyncClient, partner: Partner, db: Database
) -> None:
    event = await create_event(client, partner)
    email = f"again-{event['id'][:8]}@example.org"
    r = await api_register(client, event, email)
    _, data = await register_form(client, event["slug"], name="Chan", email=email)
    answer = await client.post(f"/events/{event['slug']}", data=data)
    assert answer.status_code == 409
    assert f'action="/events/{event["slug"]}/resend"' in answer.text
    assert f'name="email" value="{email}"' in answer.text
    sent = await client.post(
        f"/events/{event['slug']}/resend", data={"csrf": csrf_of(answer), "email": email}
    )
    assert sent.status_code == 200 and "If this address is registered" in sent.text
    nobody = await client.post(
        f"/events/{event['slug']}/resend?lang=zh-Hans",
        data={"csrf": csrf_of(answer), "email": "nobody@example.org"},
    )
    assert nobody.status_code == 200 and "如此电邮地址已报名此活动" in nobody.text
    async with db.connection() as conn:
        kinds = [m["kind"] for m in await mail_q.of_registration(conn, UUID(r["id"]))]
    assert kinds == ["confirmation", "resend"]
    form = await client.get(f"/events/{event['slug']}/resend?lang=zh-Hant")
    assert form.status_code == 200 and "重新發送我的連結" in form.text
    assert (
        "Already registered? Send me my link again"
        in (await client.get(f"/events/{event['slug']}?lang=en")).text
    )


async def test_the_ticket_page_fits_the_state_and_speaks_the_registrations_language(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, capacity=1, waitlist=True)
    first = await api_register(client, event, f"t1-{event['id'][:8]}@example.org")
    second = await api_register(
        client, event, f"t2-{event['id'][:8]}@example.org", locale="zh-Hans"
    )
    assert second["status"] == "waitlisted"
    confirmed = (await client.get(first["ticket_url"])).text
    assert "Add to calendar" in confirmed and "Change my registration" in confirmed
    waiting = await client.get(second["ticket_url"])
    assert '<html lang="zh-Hans">' in waiting.text
    assert "添加到日历" not in waiting.text and "invite.ics" not in waiting.text
    assert "退出候补名单" in waiting.text
    english = await client.get(second["ticket_url"] + "&lang=en")
    assert '<html lang="en">' in english.text and "Leave the waitlist" in english.text
    assert "Add to calendar" not in english.text
    await client.post(f"/api/v1/registrations/{first['id']}/cancel?token={first['access_token']}")
    gone = (await client.get(first["ticket_url"])).text
    assert "Register again" in gone and "Add to calendar" not in gone
    assert "Change my registration" not in gone


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("en", "This ticket link does not work"),
        ("zh-Hant", "此門票連結無效"),
        ("zh-Hans", "此门票链接无效"),
    ],
)
async def test_a_wrong_ticket_link_helps_instead_of_page_not_found(
    client: httpx.AsyncClient, partner: Partner, lang: str, title: str
) -> None:
    event = await create_event(client, partner)
    r = await api_register(client, event, f"wrong-{lang}-{event['id'][:6]}@example.org")
    cut = await client.get(f"/tickets/{r['id']}?token={r['access_token'][:10]}&lang={lang}")
    assert cut.status_code == 404 and title in cut.text
    assert "Page not found" not in cut.text
    assert f'action="/events/{event["slug"]}/resend"' in cut.text
    unknown = await client.get(f"/tickets/{'0' * 8}-0000-0000-0000-{'0' * 12}?token=x&lang={lang}")
    assert unknown.status_code == 404 and title in unknown.text and "/resend" not in unknown.text
    no_token = await client.get(f"/tickets/{r['id']}?lang={lang}")
    assert no_token.status_code == 404 and title in no_token.text


async def test_the_attendee_changes_details_on_the_ticket_page_until_edits_close(
    client: httpx.AsyncClient, partner: Partner, clock: Clock
) -> None:
    event, ids = await with_sessions(
        client, partner, questions=[{"id": "org", "label": "Organisation", "required": True}]
    )
    r = await api_register(
        client,
        event,
        f"ed-{event['id'][:8]}@example.org",
        sessions=[ids[1]],
        answers={"org": "HKU"},
    )
    edit_url = f"/tickets/{r['id']}/edit?token={r['access_token']}"
    page = await client.get(edit_url)
    assert (
        page.status_code == 200
        and 'value="Chan Tai Man"' in page.text
        and 'value="HKU"' in page.text
    )
    form = {
        "csrf": csrf_of(page),
        "token": r["access_token"],
        "name": "陳大文",
        "locale": "zh-Hant",
    }
    overlap = await client.post(
        f"/tickets/{r['id']}/edit", data={**form, "answer_org": "HKU", "sessions": [ids[0], ids[1]]}
    )
    assert overlap.status_code == 422 and "Keynote" in html.unescape(overlap.text)
    saved = await client.post(
        f"/tickets/{r['id']}/edit", data={**form, "answer_org": "CUHK", "sessions": [ids[2]]}
    )
    assert saved.status_code == 303
    stored = (await client.get(f"/api/v1/registrations/{r['id']}?token={r['access_token']}")).json()
    assert (stored["name"], stored["locale"], stored["sessions"], stored["answers"]) == (
        "陳大文",
        "zh-Hant",
        [ids[2]],
        {"org": "CUHK"},
    )
    ticket = await client.get(saved.headers["location"])
    assert '<html lang="zh-Hant">' in ticket.text and "AI lab" in ticket.text
    clock.offset = timedelta(days=31)  # past the start: edits are closed
    closed = await client.get(edit_url)
    assert "此活動已停止更改報名資料。" in closed.text and 'name="name"' not in closed.text
    late = await client.post(
        f"/tickets/{r['id']}/edit", data={**form, "answer_org": "X", "sessions": [ids[2]]}
    )
    assert late.status_code == 409 and "此活動已停止更改報名資料。" in late.text
