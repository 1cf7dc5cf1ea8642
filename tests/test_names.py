"""Names as Hong Kong writes them (陳大文 / Chan Tai Man) through the API, and translated
content in mails: the Chinese name on registration, list, CSV, check-in kit and door search
(simplified, traditional, romanised, full-width); each mail in its registration's language."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from events.db import Database
from events.settings import Settings
from tests.conftest import Clock, Partner, assert_problem, create_event
from tests.test_checkin import door_for, register
from tests.test_mail import Inbox, calendar_of, drain, inbox, make_worker, parts

__all__ = ["inbox"]  # the SMTP server fixture


async def people(client: httpx.AsyncClient, partner: Partner) -> tuple[Any, list[dict[str, Any]]]:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    regs = [
        await register(client, event, "Chan Tai Man", chinese_name="陳大文"),
        await register(client, event, "Lee Siu Ming", chinese_name="李小明"),
        await register(client, event, "Wong Mei"),
    ]
    return door, regs


async def test_chinese_name_is_kept_and_returned(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, (chan, _, wong) = await people(client, partner)
    assert chan["chinese_name"] == "陳大文" and chan["name"] == "Chan Tai Man"
    assert wong["chinese_name"] is None
    read = await client.get(f"/api/v1/registrations/{chan['id']}?token={chan['access_token']}")
    assert read.json()["chinese_name"] == "陳大文"
    listed = await client.get(
        f"/api/v1/events/{door.event['id']}/registrations", headers=partner.auth
    )
    assert [r["chinese_name"] for r in listed.json()["items"]] == ["陳大文", "李小明", None]


@pytest.mark.parametrize("bad", ["Chan Tai Man", "陳1", "<陳>", "陳" * 51, 5])
async def test_chinese_name_is_validated(
    client: httpx.AsyncClient, partner: Partner, bad: Any
) -> None:
    event = await create_event(client, partner)
    answer = await client.post(
        f"/api/v1/events/{event['id']}/registrations",
        json={"name": "Chan", "email": "c@example.org", "chinese_name": bad},
    )
    body = assert_problem(answer, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["chinese_name"]


@pytest.mark.parametrize(
    "query",
    [
        "陳大文",
        "陈大文",
        "chan tai man",
        "CHAN TAI-MAN",
        "ｃｈａｎ　ｔａｉ　ｍａｎ",
        "大文",
        "tai man",
    ],
)
async def test_door_search_finds_every_way_of_writing_a_name(
    client: httpx.AsyncClient, partner: Partner, query: str
) -> None:
    door, regs = await people(client, partner)
    for url, auth in (
        (f"/api/v1/events/{door.event['id']}/attendees", door.auth),
        (f"/api/v1/events/{door.event['id']}/registrations", partner.auth),
    ):
        found = await client.get(url, params={"q": query}, headers=auth)
        assert found.status_code == 200, found.text
        assert [a["id"] for a in found.json()["items"]] == [regs[0]["id"]], (url, query)
        assert found.json()["items"][0]["chinese_name"] == "陳大文"


async def test_door_search_by_romanisation_of_a_chinese_only_name(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    door = await door_for(client, partner, event)
    made = await register(client, event, "陳大文")
    found = await client.get(
        f"/api/v1/events/{event['id']}/attendees", params={"q": "Chan Tai Man"}, headers=door.auth
    )
    assert [a["id"] for a in found.json()["items"]] == [made["id"]]
    nobody = await client.get(
        f"/api/v1/events/{event['id']}/attendees", params={"q": "陳小文"}, headers=door.auth
    )
    assert nobody.json()["items"] == []


async def test_kit_has_chinese_names_search_keys_and_the_fold_map(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    door, _ = await people(client, partner)
    kit = (
        await client.get(f"/api/v1/events/{door.event['id']}/checkin-kit", headers=door.auth)
    ).json()
    seqs = {kit["names"][s]: s for s in kit["names"]}
    chan = seqs["Chan Tai Man"]
    assert kit["chinese_names"][chan] == "陳大文" and seqs["Wong Mei"] not in kit["chinese_names"]
    assert "陈大文" in kit["search"][chan] and "chan tai man" in kit["search"][chan]
    assert kit["fold"]["陳"] == "陈"  # what a device needs to fold a Traditional query
    assert set(kit["titles"]) == {"en", "zh-Hant", "zh-Hans"}


async def test_csv_has_the_chinese_name_and_translated_sessions(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    session = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={
            "title": "Fintech",
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
            "translations": {"zh-Hant": {"title": "金融科技"}},
        },
        headers=partner.auth,
    )
    await register(
        client, event, "Chan Tai Man", chinese_name="陳大文", sessions=[session.json()["id"]]
    )
    url = f"/api/v1/events/{event['id']}/registrations.csv"
    for lang, title in ((None, "Fintech"), ("zh-Hans", "金融科技"), ("en", "Fintech")):
        answer = await client.get(
            url, params={"lang": lang} if lang else None, headers=partner.auth
        )
        [row] = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
        assert row["chinese_name"] == "陳大文" and row["name"] == "Chan Tai Man"
        assert row["sessions"] == title, lang
    assert (await client.get(url, params={"lang": "xx"}, headers=partner.auth)).status_code == 422


async def test_every_mail_speaks_the_content_in_its_locale(
    client: httpx.AsyncClient,
    partner: Partner,
    db: Database,
    settings: Settings,
    clock: Clock,
    inbox: Inbox,
) -> None:
    event = await create_event(
        client,
        partner,
        title="Global Talent Summit",
        venue={"name": "HKCEC", "address": "1 Expo Drive"},
        translations={
            "zh-Hant": {
                "title": "環球人才高峰會",
                "venue": {"name": "會展", "address": "博覽道1號"},
            },
            "en": {"title": "Global Talent Summit (EN)"},
        },
    )
    expected = {
        "zh-Hant": ("報名成功：環球人才高峰會", "會展, 博覽道1號"),
        "zh-Hans": ("报名成功：環球人才高峰會", "會展, 博覽道1號"),  # the sibling script
        "en": ("Registered: Global Talent Summit (EN)", "HKCEC, 1 Expo Drive"),
    }
    made = {}
    for locale in expected:
        answer = await client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": "Ho", "email": f"ho.{locale.lower()}@example.org", "locale": locale},
        )
        made[locale] = answer.json()
    await drain(make_worker(db, settings, clock, inbox))
    for locale, (subject, where) in expected.items():
        [message] = inbox.to(made[locale]["email"])
        assert message["Subject"] == subject, locale
        assert where in parts(message)["text/plain"], locale
        cal = calendar_of(message)
        assert cal is not None
        title = subject.split("：" if locale != "en" else ": ", 1)[1]
        assert str(cal.events[0]["summary"]) == title, locale
        assert str(cal.events[0]["location"]) == where
