"""The hosts' exports (issue 23): CSV and XLSX, both streamed from a server-side cursor, with
the same columns: check-in time and door, sessions, one column per
question; Chinese kept, formulas defused."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import httpx
import openpyxl

from tests.conftest import Partner, assert_problem, create_event
from tests.test_checkin import door_for, register

QUESTIONS = [
    {"id": "org", "label": "Organisation", "required": False},
    {"id": "diet", "label": "Diet", "kind": "choice", "options": ["素食", "Halal"]},
]


def read_xlsx(content: bytes) -> list[list[str]]:
    """The first sheet's cells as text (an empty cell as ""), read by openpyxl (a reader that
    is not ours)."""
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


async def _event_with_people(client: httpx.AsyncClient, partner: Partner) -> dict[str, Any]:
    event = await create_event(client, partner, questions=QUESTIONS)
    session = await client.post(
        f"/api/v1/events/{event['id']}/sessions",
        json={"title": "主題演講", "starts_at": event["starts_at"], "ends_at": event["ends_at"]},
        headers=partner.auth,
    )
    assert session.status_code == 201, session.text
    first = await register(
        client,
        event,
        "陳大文",
        sessions=[session.json()["id"]],
        answers={"org": '=HYPERLINK("x")', "diet": "素食"},
    )
    await register(client, event, "Wong Siu Ming")
    door = await door_for(client, partner, event)
    scanned = await client.post(
        door.scans, json={"code": first["ticket"]["code"], "device": "A"}, headers=door.auth
    )
    assert scanned.status_code == 200, scanned.text
    return {**event, "first": first, "checked_in_at": scanned.json()["checked_in_at"]}


async def test_csv_has_check_in_door_sessions_and_answers(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await _event_with_people(client, partner)
    response = await client.get(
        f"/api/v1/events/{event['id']}/registrations.csv", headers=partner.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["name"] for r in table] == ["陳大文", "Wong Siu Ming"]
    first, second = table
    assert first["sessions"] == "主題演講" and first["door"] == "Hall 3 north door"
    assert first["checked_in_at"] and first["checked_in_at"][:19] in event["checked_in_at"]
    assert first["answer:org"] == '\'=HYPERLINK("x")' and first["answer:diet"] == "素食"
    assert second["checked_in_at"] == "" and second["door"] == "" and second["sessions"] == ""


async def test_xlsx_has_the_csv_columns_and_chinese(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await _event_with_people(client, partner)
    url = f"/api/v1/events/{event['id']}/registrations"
    csv_text = (await client.get(f"{url}.csv?lang=en", headers=partner.auth)).content.decode()
    csv_rows = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    response = await client.get(f"{url}.xlsx?lang=en", headers=partner.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{event["slug"]}-registrations.xlsx"'
    )
    assert response.headers["cache-control"] == "no-store"
    sheet = read_xlsx(response.content)
    assert sheet[0] == csv_rows[0]  # the same columns
    assert len(sheet) == len(csv_rows) == 3
    org = sheet[0].index("answer:org")
    for got, written in zip(sheet[1:], csv_rows[1:], strict=True):
        # the same cells, but for the CSV's quote before a formula-like text
        assert got == [c.removeprefix("'") for c in written]
    assert [row[3] for row in sheet[1:]] == ["陳大文", "Wong Siu Ming"]
    assert sheet[1][org] == '=HYPERLINK("x")'  # a string cell: never run as a formula
    assert sheet[1][sheet[0].index("door")] == "Hall 3 north door"
    assert sheet[1][sheet[0].index("sessions")] == "主題演講"
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        assert book.testzip() is None  # every member's CRC holds
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


async def test_exports_are_logged_with_their_row_counts(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await _event_with_people(client, partner)
    url = f"/api/v1/events/{event['id']}/registrations"
    for suffix in ("csv", "xlsx"):
        assert (await client.get(f"{url}.{suffix}", headers=partner.auth)).status_code == 200
    log = await client.get(
        f"/api/v1/events/{event['id']}/audit?action=export.", headers=partner.auth
    )
    assert [(e["action"], e["changes"]) for e in log.json()["items"]] == [
        ("export.xlsx", {"rows": [None, 2]}),
        ("export.csv", {"rows": [None, 2]}),
    ]


async def test_the_xlsx_export_refuses_an_unknown_language(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    url = f"/api/v1/events/{event['id']}/registrations.xlsx?lang=fr"
    assert_problem(await client.get(url, headers=partner.auth), 422, "invalid-input")


async def test_exports_are_for_hosts_only(
    client: httpx.AsyncClient, partner: Partner, other_partner: Partner
) -> None:
    event = await create_event(client, partner)
    for suffix in ("csv", "xlsx"):
        url = f"/api/v1/events/{event['id']}/registrations.{suffix}"
        assert_problem(await client.get(url), 401, "unauthenticated")
        assert_problem(await client.get(url, headers=other_partner.auth), 404, "not-found")


async def test_the_check_in_kit_is_gzipped_and_cacheable(
    client: httpx.AsyncClient, partner: Partner
) -> None:
    event = await create_event(client, partner)
    for i in range(30):
        await register(client, event, f"Kit Person {i}")
    url = f"/api/v1/events/{event['id']}/checkin-kit"
    plain = await client.get(url, headers={**partner.auth, "Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    zipped = await client.get(url, headers={**partner.auth, "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.json() == plain.json()  # httpx undoes the gzip
    # ticket codes (random) make up much of a small kit: gzip takes a third off here, more with names
    assert int(zipped.headers["content-length"]) < len(plain.content) * 0.8
    assert zipped.headers["etag"] != plain.headers["etag"]
    for etag in (plain.headers["etag"], zipped.headers["etag"]):
        again = await client.get(url, headers={**partner.auth, "If-None-Match": etag})
        assert again.status_code == 304
    refused = await client.get(url, headers={**partner.auth, "Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
