"""Every page in English, Traditional and Simplified Chinese, with nothing left untranslated;
the catalogues complete; the language chosen by ?lang=, its cookie, then Accept-Language."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from events.db import Database
from events.web import i18n
from tests.conftest import Partner, create_event, make_partner
from tests.test_web import register_form
from tests.test_web_console import signed_in

#: English that may stay on a Chinese page: names of products, formats, zones, codes
ALLOWED = re.compile(
    r"English|Google Calendar|Outlook|Excel|XLSX|CSV|PDF|\.ics|Asia/Hong_Kong|hkte|[\w.+-]+@[\w.-]+"
    r"|\b[A-Z2-7]{40,}\b|https?://\S+|\bp-[0-9a-f]{8}\b"
)
CHINESE = {
    "title": "全球人才高峰會",
    "description": "香港旗艦人才活動",
    "venue": {"name": "會展中心", "address": "灣仔博覽道1號"},
    "questions": [
        {"id": "org", "label": "機構", "kind": "text"},
        {
            "id": "sector",
            "label": "界別",
            "kind": "choice",
            "required": True,
            "options": ["金融科技", "其他"],
        },
        {"id": "new", "label": "新來港", "kind": "checkbox"},
    ],
}


class Text(HTMLParser):
    """The text a person sees or hears: text nodes and labels in attributes, not scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def untranslated(html: str, content: frozenset[str] = frozenset()) -> list[str]:
    """English text left on a page, less `content`: what partners wrote, which stays as written."""
    parser = Text()
    parser.feed(html)
    left = []
    for part in parser.parts:
        if part in content:
            continue
        rest = ALLOWED.sub("", part)
        if re.search(r"[A-Za-z]{3,}", rest):
            left.append(part)
    return left


async def pages(
    client: httpx.AsyncClient, app: Starlette, db: Database, partner: Partner
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, form) of every page, in every state worth showing."""
    event = await create_event(client, partner, **CHINESE)
    session = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={"title": "主題演講", "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    assert session.status_code == 201
    waitlist = await create_event(client, partner, capacity=0, **CHINESE)
    _, data = await register_form(
        client, event["slug"], name="陳大文", email="tm@example.org", answer_sector="金融科技"
    )
    ticket = (await client.post(f"/events/{event['slug']}", data=data)).headers["location"]
    _, data = await register_form(
        client, waitlist["slug"], name="李小明", email="l@example.org", answer_sector="其他"
    )
    waiting = (await client.post(f"/events/{waitlist['slug']}", data=data)).headers["location"]
    path, _, query = ticket.partition("?")
    door = await client.post(
        f"/api/v1/events/{event['id']}/door-tokens", json={"label": "北門"}, headers=partner.auth
    )
    told = await client.post(
        f"/api/v1/events/{event['id']}/messages",
        json={"subject": "場地變更", "body": "請到二號廳。"},
        headers=partner.auth,
    )
    assert told.status_code == 202
    messages = f"/console/events/{event['id']}/messages"
    message = {"step": "count", "status": ["confirmed"], "subject": "通知", "body": "你好"}
    return [
        ("GET", "/", None),
        ("GET", f"/events/{event['slug']}", None),
        ("POST", f"/events/{event['slug']}", {"name": "", "email": "x"}),
        ("GET", ticket, None),
        ("GET", waiting, None),
        ("GET", f"{path}/cancel?{query}", None),
        ("GET", f"/scan?token={door.json()['token']}", None),
        ("GET", "/scan?token=nope", None),
        ("GET", "/no/such/page", None),
        ("GET", "/console", None),
        ("POST", "/console/sign-in", {"email": "a@example.org", "password": "x"}),
        ("CONSOLE", "/console", None),
        ("CONSOLE", "/console/events/new", None),
        ("CONSOLE", f"/console/events/{event['id']}", None),
        ("CONSOLE", f"/console/events/{event['id']}/attendees", None),
        ("CONSOLEPOST", f"/console/events/{event['id']}/door-tokens", {"label": "南門"}),
        ("CONSOLEPOST", "/console/events/new", {"title": "", "timezone": "x", "capacity": "?"}),
        ("CONSOLE", messages, None),
        ("CONSOLEPOST", messages, message),
        ("CONSOLEPOST", messages, {"step": "count", "subject": ""}),
        ("GET", "/?q=高峰", None),
        ("GET", "/?q=沒有這個活動", None),
        ("CONSOLE", f"/console/events/{event['id']}/translations", None),
        (
            "CONSOLEPOST",
            f"/console/events/{event['id']}/translations",
            {"question.sector.zh-Hans.options": "金融科技"},
        ),
        (
            "CONSOLEPOST",
            f"/console/events/{event['id']}/translations",
            {"event.en.venue.address": "x" * 600},
        ),
    ]


async def partners_content(client: httpx.AsyncClient) -> frozenset[str]:
    """Titles and venues of every public event, other tests' included: the home page lists them."""
    content: set[str] = set()
    url: str | None = "/api/v1/events?limit=500"
    while url:
        page = (await client.get(url)).json()
        for event in page["items"]:
            content.add(event["title"])
            content.update((event.get("venue") or {}).values())
        url = page["next_cursor"] and f"/api/v1/events?limit=500&cursor={page['next_cursor']}"
    return frozenset(content)


@pytest.mark.parametrize("lang", ["zh-Hant", "zh-Hans", "en"])
async def test_every_page_is_in_the_chosen_language(
    client: httpx.AsyncClient, app: Starlette, db: Database, lang: str
) -> None:
    partner = await make_partner(db, "香港人才服務辦公室")  # a name the checker need not skip
    console = await signed_in(app, db, partner)
    try:
        every_page = await pages(client, app, db, partner)
        content = await partners_content(client)
        for method, path, form in every_page:
            browser = console if method.startswith("CONSOLE") else client
            url = path + ("&" if "?" in path else "?") + f"lang={lang}"
            if form is None:
                page = await browser.get(url)
            else:
                await browser.get("/")  # any page sets this browser's CSRF cookie
                page = await browser.post(url, data={"csrf": browser.cookies["csrf"], **form})
            assert page.headers["content-type"].startswith("text/html"), path
            assert f'<html lang="{lang}">' in page.text, path
            if lang != "en":
                assert untranslated(page.text, content) == [], (path, page.status_code)
    finally:
        await console.aclose()


def test_the_checker_finds_english() -> None:
    assert untranslated("<p>登記</p><button>Register</button>") == ["Register"]
    assert untranslated("<a>Google Calendar</a><p>tm@example.org</p>") == []


def test_catalogues_are_complete() -> None:
    wanted = {m.id for m in i18n.extracted() if m.id}
    assert len(wanted) > 150
    for folder in i18n.CATALOGUES.values():
        path = i18n.LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as po:
            catalog = read_po(po)
        have = {m.id for m in catalog if m.id}
        assert wanted - have == set(), f"{folder}: run scripts/translations and translate"
        assert have - wanted == set(), f"{folder}: messages no longer used"
        for message in catalog:
            if message.id:
                assert message.string, f"{folder}: {message.id!r} is not translated"
                assert not message.fuzzy, f"{folder}: {message.id!r} is fuzzy"
        assert list(catalog.check()) == []  # placeholders like %(count)s kept


def test_translations_are_used() -> None:
    assert i18n.translations("zh-Hant").gettext("Register") == "登記"
    assert i18n.translations("zh-Hans").gettext("Register") == "报名"
    assert i18n.translations("en").gettext("Register") == "Register"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("fr-FR,en;q=0.5,zh-TW;q=0.4", "en"),
        ("fr-FR", "en"),
        ("de;q=0.9,zh-HK;q=0.8", "zh-Hant"),
        ("", "en"),
    ],
)
async def test_accept_language(client: httpx.AsyncClient, header: str, lang: str) -> None:
    page = await client.get("/", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in page.text


async def test_the_choice_is_remembered_in_a_cookie(client: httpx.AsyncClient) -> None:
    chosen = await client.get("/?lang=zh-Hans", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hans">' in chosen.text
    assert "lang=zh-Hans" in chosen.headers["set-cookie"]
    later = await client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hans">' in later.text and "即将举行的活动" in later.text
    back = await client.get("/?lang=en")
    assert '<html lang="en">' in back.text and "Upcoming events" in back.text
    ignored = await client.get("/?lang=xx")
    assert '<html lang="en">' in ignored.text


def test_dates_are_written_in_each_language() -> None:
    from datetime import UTC, datetime

    start = datetime(2027, 5, 20, 1, 0, tzinfo=UTC)  # 09:00 in Hong Kong
    end = datetime(2027, 5, 20, 10, 0, tzinfo=UTC)
    assert i18n.Formatter("en").span(start, end, "Asia/Hong_Kong") == (
        "Thursday, 20 May 2027 09:00–18:00"
    )
    assert i18n.Formatter("zh-Hant").span(start, end, "Asia/Hong_Kong").startswith("2027年5月20日")
    assert "星期四" in i18n.Formatter("zh-Hans").span(start, end, "Asia/Hong_Kong")
