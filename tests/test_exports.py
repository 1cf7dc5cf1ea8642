"""The hosts' exports (issue 23): CSV streamed from a server-side cursor and XLSX written in
constant memory, with the same columns: check-in time and door, sessions, one column per
question; Chinese kept, formulas defused."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any
from xml.etree import ElementTree

import httpx

from tests.conftest import Partner, assert_problem, create_event
from tests.test_checkin import door_for, register

NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
QUESTIONS = [
    {"id": "org", "label": "Organisation", "required": False},
    {"id": "diet", "label": "Diet", "kind": "choice", "options": ["素食", "Halal"]},
]


def read_xlsx(content: bytes) -> list[list[str]]:
    """The first sheet's cells as text (shared or inline strings, numbers)."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['x']}}}t")) for si in root]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    table = []
    for row in sheet.iter(f"{{{NS['x']}}}row"):
        values = []
        for cell in row.findall("x:c", NS):
            kind = cell.get("t")
            if kind == "s":
                values.append(shared[int(cell.findtext("x:v", "", NS))])
            elif kind == "inlineStr":
                values.append("".join(t.text or "" for t in cell.iter(f"{{{NS['x']}}}t")))
            else:
                values.append(cell.findtext("x:v", "", NS))
        table.append(values)
    return table


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
    csv_text = (await client.get(f"{url}.csv", headers=partner.auth)).content.decode()
    csv_rows = list(csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"))))
    response = await client.get(f"{url}.xlsx", headers=partner.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = read_xlsx(response.content)
    assert sheet[0] == csv_rows[0]  # the same columns
    assert [row[3] for row in sheet[1:]] == ["陳大文", "Wong Siu Ming"]
    org = sheet[0].index("answer:org")
    assert sheet[1][org] == '=HYPERLINK("x")'  # a string cell: never run as a formula
    assert sheet[1][sheet[0].index("door")] == "Hall 3 north door"
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


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
