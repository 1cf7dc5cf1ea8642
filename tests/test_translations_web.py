"""Translated content where readers see it: the pages in the three languages with their
fallbacks and `lang` marks, the home page's search, calendar files and the console editor."""

from __future__ import annotations

import re
from typing import Any

import httpx
import icalendar
from starlette.applications import Starlette

from events.db import Database
from tests.conftest import Partner, create_event
from tests.test_web import csrf_of, register_form
from tests.test_web_console import signed_in

#: the event: English fields, a Traditional translation of everything, and a Simplified
#: title only (so a Simplified reader falls back to Traditional for the rest)
EVENT = {
    "title": "Fintech Week Summit",
    "description": "Where finance meets technology",
    "venue": {"name": "Cyberport Hall", "address": "100 Cyberport Road"},
    "translations": {
        "zh-Hant": {
            "title": "金融科技週高峰會",
            "description": "金融與科技相遇之處",
            "venue": {"name": "數碼港會堂", "address": "數碼港道100號"},
        },
        "zh-Hans": {"title": "金融科技周高峰会"},
    },
    "questions": [
        {
            "id": "sector",
            "label": "Sector",
            "kind": "choice",
            "options": ["Banking", "Insurance"],
            "translations": {"zh-Hans": {"label": "行业", "options": ["银行", "保险"]}},
        }
    ],
}
SESSION = {
    "title": "Payments panel",
    "room": "Room 2",
    "translations": {"zh-Hant": {"title": "支付專題討論"}},
}


async def summit(client: httpx.AsyncClient, partner: Partner) -> dict[str, Any]:
    event = await create_event(client, partner, publish=False, **EVENT)
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={**SESSION, "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    assert made.status_code == 201, made.text
    published = await client.post(f"/api/v1/events/{event['id']}/publish", headers=partner.auth)
    return dict(published.json())


def tagged(html: str, text: str) -> str | None:
    """The lang attribute of the element right around `text` (None: no attribute)."""
    found = re.search(r"<(\w+)([^>]*)>\s*" + re.escape(text), html)
    assert found is not None, text
    lang = re.search(r'lang="([^"]+)"', found.group(2))
    return lang.group(1) if lang else None


async def test_event_page_in_three_languages(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await summit(client, partner)
    url = f"/events/{event['slug']}"
    en = (await client.get(url, params={"lang": "en"})).text
    assert tagged(en, "Fintech Week Summit") is None
    assert "Where finance meets technology" in en and "Cyberport Hall" in en
    assert tagged(en, "Payments panel") is None and tagged(en, "Sector") is None
    assert "<option>Banking</option>" in en
    hant = (await client.get(url, params={"lang": "zh-Hant"})).text
    assert tagged(hant, "金融科技週高峰會") is None
    assert "金融與科技相遇之處" in hant and tagged(hant, "數碼港會堂") is None
    assert tagged(hant, "支付專題討論") is None
    assert tagged(hant, "Room 2") == "en"  # untranslated: shown as written, marked English
    assert tagged(hant, "行业") == "zh-Hans"  # only in Simplified: the sibling, marked
    hans = (await client.get(url, params={"lang": "zh-Hans"})).text
    assert tagged(hans, "金融科技周高峰会") is None
    assert tagged(hans, "數碼港會堂") == "zh-Hant"  # the sibling script, marked
    assert '<div class="description" lang="zh-Hant"><p>金融與科技相遇之處' in hans
    assert tagged(hans, "支付專題討論") == "zh-Hant"
    assert tagged(hans, "行业") is None
    assert '<option value="Banking">银行</option>' in hans  # the value stays the option
    assert f"/api/v1/events/{event['id']}/calendar.ics?lang=zh-Hans" in hans


async def test_registering_in_chinese_stores_the_untranslated_option(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    _, data = await register_form(
        client,
        event["slug"],
        name="Chan Tai Man",
        chinese_name="陳大文",
        email="tm.chan@example.org",
        answer_sector="Insurance",
    )
    answer = await client.post(f"/events/{event['slug']}?lang=zh-Hans", data=data)
    assert answer.status_code == 303, answer.text
    ticket = await client.get(answer.headers["location"] + "&lang=zh-Hant")
    assert "陳大文" in ticket.text and "Chan Tai Man" in ticket.text
    assert tagged(ticket.text, "金融科技週高峰會") is None
    assert tagged(ticket.text, "數碼港會堂") is None
    listed = await client.get(f"/api/v1/events/{event['id']}/registrations", headers=partner.auth)
    [reg] = listed.json()["items"]
    assert reg["answers"] == {"sector": "Insurance"} and reg["locale"] == "zh-Hans"
    assert reg["chinese_name"] == "陳大文"
    en = await client.get(answer.headers["location"] + "&lang=en")
    assert '<span lang="zh">陳大文</span>' in en.text


async def test_a_chinese_name_that_is_not_one_is_refused_on_the_form(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    _, data = await register_form(
        client, event["slug"], name="Chan", chinese_name="Chan", email="c@example.org"
    )
    answer = await client.post(f"/events/{event['slug']}?lang=zh-Hant", data=data)
    assert answer.status_code == 422
    assert "請以中文字填寫中文姓名" in answer.text


async def test_home_lists_and_searches_in_the_readers_language(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    # searched, so that the suite's other events (hundreds, many sooner) do not crowd it out
    hans = (await client.get("/", params={"lang": "zh-Hans", "q": "金融科技"})).text
    assert f'href="/events/{event["slug"]}">金融科技周高峰会</a>' in hans
    for query in ("金融科技周", "金融科技週", "ｆｉｎｔｅｃｈ week", "數碼港"):
        found = await client.get("/", params={"q": query, "lang": "en"})
        assert f'/events/{event["slug"]}"' in found.text, query
        assert "Fintech Week Summit" in found.text
    missing = await client.get("/", params={"q": "沒有這樣的活動"})
    assert f'/events/{event["slug"]}"' not in missing.text


async def test_calendar_ics_takes_a_language(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await summit(client, partner)
    url = f"/api/v1/events/{event['id']}/calendar.ics"

    async def summaries(lang: str | None) -> list[str]:
        answer = await client.get(url, params={"lang": lang} if lang else None)
        assert answer.status_code == 200, answer.text
        cal = icalendar.Calendar.from_ical(answer.text)
        return [str(e["summary"]) for e in cal.events] + [str(cal.events[0]["location"])]

    assert await summaries(None) == [
        "Fintech Week Summit",
        "Payments panel · Fintech Week Summit",
        "Cyberport Hall, 100 Cyberport Road",
    ]
    assert await summaries("zh-Hant") == [
        "金融科技週高峰會",
        "支付專題討論 · 金融科技週高峰會",
        "數碼港會堂, 數碼港道100號",
    ]
    assert (await summaries("zh-Hans"))[:2] == [
        "金融科技周高峰会",
        "支付專題討論 · 金融科技周高峰会",
    ]
    assert (await client.get(url, params={"lang": "fr"})).status_code == 422


async def test_invite_is_in_the_registrations_locale(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    session_id = event["sessions"][0]["id"]
    for locale, title, session in (
        ("zh-Hant", "金融科技週高峰會", "支付專題討論 · 金融科技週高峰會"),
        ("zh-Hans", "金融科技周高峰会", "支付專題討論 · 金融科技周高峰会"),
        ("en", "Fintech Week Summit", "Payments panel · Fintech Week Summit"),
    ):
        made = await client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={
                "name": "Lee",
                "email": f"lee.{locale}@example.org",
                "locale": locale,
                "sessions": [session_id],
            },
        )
        assert made.status_code == 201, made.text
        invite = await client.get(made.json()["calendar"])
        cal = icalendar.Calendar.from_ical(invite.text)
        assert [str(e["summary"]) for e in cal.events] == [title, session], locale


async def test_console_edits_translations_side_by_side(
    app: Starlette, db: Database, client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await summit(client, partner)
    session_id = event["sessions"][0]["id"]
    console = await signed_in(app, db, partner)
    try:
        url = f"/console/events/{event['id']}/translations"
        page = await console.get(url)
        assert page.status_code == 200
        assert 'name="event.zh-Hant.title" value="金融科技週高峰會"' in page.text
        assert ">繁體中文</th>" in page.text and ">简体中文</th>" in page.text
        form = {
            "csrf": csrf_of(page),
            "event.zh-Hant.title": "金融科技週",
            "event.zh-Hans.title": "金融科技周",
            "event.zh-Hans.venue.name": "数码港会堂",
            f"session.{session_id}.zh-Hans.title": "支付专题讨论",
            "question.sector.zh-Hant.label": "行業",
            "question.sector.zh-Hant.options": "銀行\n保險",
        }
        saved = await console.post(url, data=form)
        assert saved.status_code == 303, saved.text
        read = (await client.get(f"/api/v1/events/{event['id']}")).json()
        assert read["translations"] == {
            "zh-Hant": {"title": "金融科技週"},
            "zh-Hans": {"title": "金融科技周", "venue": {"name": "数码港会堂", "address": ""}},
        }
        assert read["sessions"][0]["translations"] == {"zh-Hans": {"title": "支付专题讨论"}}
        assert read["questions"][0]["translations"] == {
            "zh-Hant": {"label": "行業", "options": ["銀行", "保險"]}
        }
        bad = await console.post(
            url, data={**form, "question.sector.zh-Hant.options": "銀行", "lang": "en"}
        )
        assert bad.status_code == 422
        assert "Translated options must be as many" in bad.text
    finally:
        await console.aclose()
