"""The hosts' view of who registered: the attendee list (searched, filtered, paged) and the
exports (CSV and XLSX, both streamed from a server-side cursor). Reading a registration, and what it shows, is registration.py's."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events import audit, spreadsheet
from events.db import Database
from events.errors import InvalidInput
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import exports as q_exports
from events.queries import registration as q
from events.registration import Answer, RegistrationOut, render
from events.translations import resolve

STATUSES = ("confirmed", "waitlisted", "cancelled", "pending", "rejected")


async def list_registrations(
    conn: Connection,
    event: Row,
    *,
    status: str | None,
    q_text: str | None,
    page: PageRequest,
    base_url: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Page[RegistrationOut]:
    """A page of the list; reading it is logged (`registrations.listed`) when `actor` is given."""
    if status not in (None, *STATUSES):
        raise InvalidInput.one("status", "must be one of " + ", ".join(STATUSES))
    found = await q.event_registrations(
        conn,
        event["id"],
        status=status,
        q=q_text or None,
        after_seq=page.after_seq,
        limit=page.limit + 1,
    )
    items = [await render(conn, r, base_url=base_url, with_secret=False) for r in found]
    if actor is not None:
        query = {"status": status, "q": q_text, "count": len(items)}
        await audit.record(
            conn,
            actor,
            "registrations.listed",
            ("event", event["id"]),
            {k: [None, v] for k, v in query.items() if v is not None},
            event_id=event["id"],
            now=now,
        )
    return page_of(items, [r["seq"] for r in found], page.limit)


#: The columns of both exports, then one `answer:<question id>` column per question.
COLUMNS = [
    "id",
    "status",
    "waitlist_position",
    "name",
    "chinese_name",
    "email",
    "locale",
    "sessions",
    "created_at",
    "checked_in_at",
    "door",
    "attendance",  # in_person | online
    "joined_at",  # an online attendee's first use of their join link (their online check-in)
]
CSV_COLUMNS = COLUMNS  # the name the console knew
BATCH = 500  # rows per chunk sent


async def csv_chunks(
    db: Database,
    event: Row,
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
    lang: str | None = None,
) -> AsyncIterator[bytes]:
    """The CSV export as it is read: UTF-8 with a BOM (so spreadsheets show Chinese names),
    one row per registration, from a server-side cursor: the first bytes leave before the
    last row is read, and memory holds one batch. Cells a spreadsheet would run as a formula
    are prefixed with a quote (OWASP). Once sent whole it is logged (`export.csv`, with how
    many rows) when `actor` is given."""
    questions = [question["id"] for question in event["questions"]]
    zone = ZoneInfo(event["timezone"])  # times as the event's own clock shows them
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(COLUMNS + [f"answer:{qid}" for qid in questions])
    yield out.getvalue().encode()
    async with db.connection() as conn:
        titles = await _session_titles(conn, event, lang)
    rows = 0
    async for batch in _batches(db, event):
        out.seek(0)
        out.truncate()
        writer.writerows([_safe_cell(c) for c in _cells(r, questions, zone, titles)] for r in batch)
        rows += len(batch)
        yield out.getvalue().encode()
    if actor is not None:
        async with db.connection() as conn:
            await log_export(conn, actor, event, rows, now)


async def log_export(
    conn: Connection,
    actor: Actor,
    event: Row,
    rows: int,
    now: datetime | None,
    action: str = "export.csv",
) -> None:
    await audit.record(
        conn,
        actor,
        action,
        ("event", event["id"]),
        {"rows": [None, rows]},
        event_id=event["id"],
        now=now,
    )


async def log_read(conn: Connection, actor: Actor, registration: Row, now: datetime) -> None:
    """A host read one registration (personal data): `registration.read`."""
    await audit.record(
        conn,
        actor,
        "registration.read",
        ("registration", registration["id"]),
        event_id=registration["event_id"],
        now=now,
    )


async def _batches(db: Database, event: Row) -> AsyncIterator[list[Row]]:
    async with db.transaction() as conn:
        batch: list[Row] = []
        async for r in q_exports.registrations_for_export(conn, event["id"]):
            batch.append(r)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


async def _session_titles(conn: Connection, event: Row, lang: str | None) -> dict[Any, str]:
    """Session titles by id, in `lang` when given (else as written)."""
    return {
        s["id"]: s["title"]
        if lang is None
        else str(resolve(s["title"], s["translations"], "title", lang))
        for s in await catalog_q.sessions_of(conn, [event["id"]])
    }


def _cells(r: Row, questions: list[str], zone: ZoneInfo, titles: dict[Any, str]) -> list[Any]:
    checked_in = r["checked_in_at"]
    return [
        r["id"],
        r["status"],
        r["waitlist_position"] or "",
        r["name"],
        r["chinese_name"] or "",
        r["email"],
        r["locale"],
        "; ".join(titles.get(sid, str(sid)) for sid in r["session_ids"]),
        r["created_at"].astimezone(zone).isoformat(),
        checked_in.astimezone(zone).isoformat() if checked_in else "",
        r["door"],
        r["attendance"],
        r["joined_at"].astimezone(zone).isoformat() if r["joined_at"] else "",
        *(_answer_text(r["answers"].get(qid)) for qid in questions),
    ]


def xlsx_chunks(
    db: Database,
    event: Row,
    *,
    actor: Actor | None = None,
    now: datetime,
    lang: str | None = None,
) -> AsyncIterator[bytes]:
    """The same columns as an .xlsx workbook, streamed as it is read like the CSV (the rows
    from the same server-side cursor, a batch at a time; spreadsheet.py writes the package).
    Cells are text or numbers, never formulas, so they are written as they are (no quote
    prefix). Once sent whole it is logged (`export.xlsx`, with how many rows) when `actor` is
    given."""
    return spreadsheet.workbook(
        _xlsx_rows(db, event, actor=actor, now=now, lang=lang),
        sheet_name="Registrations",
        modified_at=now,
    )


async def _xlsx_rows(
    db: Database, event: Row, *, actor: Actor | None, now: datetime, lang: str | None
) -> AsyncGenerator[list[list[Any]], None]:
    questions = [question["id"] for question in event["questions"]]
    zone = ZoneInfo(event["timezone"])  # times as the event's own clock shows them
    yield [COLUMNS + [f"answer:{qid}" for qid in questions]]
    async with db.connection() as conn:
        titles = await _session_titles(conn, event, lang)
    rows = 0
    async for batch in _batches(db, event):
        rows += len(batch)
        yield [_cells(r, questions, zone, titles) for r in batch]
    if actor is not None:
        async with db.connection() as conn:
            await log_export(conn, actor, event, rows, now, "export.xlsx")


def _answer_text(value: Answer | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "; ".join(value) if isinstance(value, list) else value


def _safe_cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
