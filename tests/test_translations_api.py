"""Event content in three languages through the API: `translations` on events, sessions and
questions, validated (an unknown language or field names itself), kept and read back."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Partner, assert_problem, create_event

EVENT_TR = {
    "zh-Hant": {
        "title": "環球人才高峰會",
        "description": "旗艦峰會",
        "venue": {"name": "香港會議展覽中心 3號展覽廳", "address": "灣仔港灣道1號"},
    },
    "zh-Hans": {"title": "环球人才高峰会"},
    "en": {"title": "Global Talent Summit (English)"},
}
QUESTION = {
    "id": "sector",
    "label": "Sector",
    "kind": "choice",
    "options": ["Finance", "Technology"],
    "translations": {"zh-Hant": {"label": "行業", "options": ["金融", "科技"]}},
}


def fields_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


async def test_event_translations_are_kept_and_read_back(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner, translations=EVENT_TR, questions=[QUESTION])
    assert event["translations"] == EVENT_TR
    assert event["questions"][0]["translations"] == QUESTION["translations"]
    read = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert read["translations"]["zh-Hant"]["venue"]["name"] == "香港會議展覽中心 3號展覽廳"
    listed = (await client.get("/api/v1/events?limit=500")).json()["items"]
    assert any(e["id"] == event["id"] and e["translations"] == EVENT_TR for e in listed)


async def test_event_without_translations_reads_empty(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    assert event["translations"] == {}
    assert event["questions"] == []


async def test_patch_replaces_translations(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, translations=EVENT_TR)
    patched = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"translations": {"zh-Hans": {"title": "新标题"}}},
        headers=partner.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["translations"] == {"zh-Hans": {"title": "新标题"}}
    assert patched.json()["title"] == "Global Talent Summit 2027"


async def test_unknown_language_is_named(client: httpx.AsyncClient, partner: Partner) -> None:
    response = await client.post(
        "/api/v1/events",
        json=_body(translations={"fr": {"title": "Sommet"}}),
        headers=partner.auth,
    )
    assert "translations.fr" in fields_of(assert_problem(response, 422, "invalid-input"))


async def test_unknown_field_is_named(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    response = await client.patch(
        f"/api/v1/events/{event['id']}",
        json={"translations": {"zh-Hant": {"colour": "紅"}}},
        headers=partner.auth,
    )
    body = assert_problem(response, 422, "invalid-input")
    assert "translations.zh-Hant.colour" in fields_of(body)


async def test_wrong_types_and_lengths_are_422(client: httpx.AsyncClient, partner: Partner) -> None:
    for bad in (
        {"zh-Hant": {"title": ""}},
        {"zh-Hant": {"title": 5}},
        {"zh-Hant": "環球"},
        {"zh-Hant": {"venue": {"city": "HK", "name": "x"}}},
        ["zh-Hant"],
    ):
        response = await client.post(
            "/api/v1/events", json=_body(translations=bad), headers=partner.auth
        )
        body = assert_problem(response, 422, "invalid-input")
        assert all(f.startswith("translations") for f in fields_of(body)), body


async def test_question_options_keep_count(client: httpx.AsyncClient, partner: Partner) -> None:
    question = {**QUESTION, "translations": {"zh-Hans": {"options": ["金融"]}}}
    response = await client.post(
        "/api/v1/events", json=_body(questions=[question]), headers=partner.auth
    )
    body = assert_problem(response, 422, "invalid-input")
    assert "questions.0.translations.zh-Hans.options" in fields_of(body)
    unknown = {**QUESTION, "translations": {"zh-Hans": {"hint": "x"}}}
    response = await client.post(
        "/api/v1/events", json=_body(questions=[unknown]), headers=partner.auth
    )
    body = assert_problem(response, 422, "invalid-input")
    assert "questions.0.translations.zh-Hans.hint" in fields_of(body)


async def test_session_translations(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/sessions"
    session = {
        "title": "Fintech",
        "starts_at": event["starts_at"],
        "ends_at": event["ends_at"],
        "room": "Room 1",
        "translations": {"zh-Hant": {"title": "金融科技", "room": "一號會議室"}},
    }
    created = await client.post(url, json=session, headers=partner.auth)
    assert created.status_code == 201, created.text
    assert created.json()["translations"] == session["translations"]
    sid = created.json()["id"]
    patched = await client.patch(
        f"{url}/{sid}",
        json={"translations": {"zh-Hans": {"title": "金融科技"}}},
        headers=partner.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["translations"] == {"zh-Hans": {"title": "金融科技"}}
    read = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert read["sessions"][0]["translations"] == {"zh-Hans": {"title": "金融科技"}}
    bad = await client.post(
        url, json={**session, "translations": {"jp": {"title": "x"}}}, headers=partner.auth
    )
    assert "translations.jp" in fields_of(assert_problem(bad, 422, "invalid-input"))
    bad = await client.patch(
        f"{url}/{sid}", json={"translations": {"en": {"speaker": "x"}}}, headers=partner.auth
    )
    assert "translations.en.speaker" in fields_of(assert_problem(bad, 422, "invalid-input"))


def _body(**changes: Any) -> dict[str, Any]:
    from tests.conftest import event_body

    return event_body(**changes)


async def test_duplicate_keeps_translations(client: httpx.AsyncClient, partner: Partner) -> None:
    event = await create_event(client, partner, translations=EVENT_TR, questions=[QUESTION])
    session = {
        "title": "Fintech",
        "starts_at": event["starts_at"],
        "ends_at": event["ends_at"],
        "translations": {"zh-Hant": {"title": "金融科技"}},
    }
    made = await client.post(
        f"/api/v1/events/{event['id']}/sessions", json=session, headers=partner.auth
    )
    assert made.status_code == 201, made.text
    copied = await client.post(f"/api/v1/events/{event['id']}/duplicate", headers=partner.auth)
    assert copied.status_code == 201, copied.text
    body = copied.json()
    assert body["translations"] == EVENT_TR
    assert body["questions"][0]["translations"] == QUESTION["translations"]
    assert body["sessions"][0]["translations"] == {"zh-Hant": {"title": "金融科技"}}
