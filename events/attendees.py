"""The hosts' view of who registered: the attendee list (searched, filtered, paged) and the
CSV export. Reading a registration, and what it shows, is registration.py's."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from events import audit
from events.errors import InvalidInput
from events.hosting import Actor
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
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


CSV_COLUMNS = [
    "id",
    "status",
    "waitlist_position",
    "name",
    "chinese_name",
    "email",
    "locale",
    "sessions",
    "created_at",
]


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


async def export_csv(
    conn: Connection,
    event: Row,
    *,
    actor: Actor | None = None,
    now: datetime | None = None,
    lang: str | None = None,
) -> str:
    """UTF-8 CSV (with a BOM, so spreadsheets show Chinese names), one row per registration.

    Cells that a spreadsheet would run as a formula are prefixed with a quote (OWASP).
    The export is logged (`export.csv`, with how many rows) when `actor` is given.
    """
    sessions = {
        s["id"]: s["title"]
        if lang is None
        else str(resolve(s["title"], s["translations"], "title", lang))
        for s in await catalog_q.sessions_of(conn, [event["id"]])
    }
    questions = [question["id"] for question in event["questions"]]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS + [f"answer:{qid}" for qid in questions])
    after = rows = 0
    while batch := await q.event_registrations(
        conn, event["id"], status=None, q=None, after_seq=after, limit=1000
    ):
        for r in batch:
            answers = [_answer_text(r["answers"].get(qid)) for qid in questions]
            cells = [
                r["id"],
                r["status"],
                r["waitlist_position"] or "",
                r["name"],
                r["chinese_name"] or "",
                r["email"],
                r["locale"],
                "; ".join(sessions.get(s, str(s)) for s in r["session_ids"]),
                r["created_at"].isoformat(),
            ]
            writer.writerow([_safe_cell(c) for c in cells + answers])
        after = batch[-1]["seq"]
        rows += len(batch)
    if actor is not None:
        await audit.record(
            conn,
            actor,
            "export.csv",
            ("event", event["id"]),
            {"rows": [None, rows]},
            event_id=event["id"],
            now=now,
        )
    return out.getvalue()


def _answer_text(value: Answer | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "; ".join(value) if isinstance(value, list) else value


def _safe_cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
