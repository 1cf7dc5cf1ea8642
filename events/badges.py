"""Badges and the printable check-in list, as PDF (fpdf2).

A badge shows the attendee's names in every script they have (the `name`, and any other
name field a registration carries, e.g. a Chinese name), their organisation (a question
answer), a category, the event and the ticket's QR code (exactly the ticket code, drawn as
vector squares, so it prints sharp at any size). Chinese text uses AR PL UMing HK (Debian's
fonts-arphic-uming: Traditional Chinese with the Hong Kong characters of HKSCS), embedded as
a subset; Latin text DejaVu Sans when it is installed, falling back to the CJK font per
character. Sizes: A6 (105 x 148 mm, portrait) and `label` (101 x 76 mm, the common 4 x 3 in
badge label).

A whole event's badges are read from the database 200 rows at a time and drawn in a worker
thread (the event loop keeps serving); one document holds at most MAX_BADGES (about 1 MiB
and a few seconds: ~13 ms a badge, most of it the QR code); past that the answer's `Link:
<...?after=N>; rel="next"` gives the next part.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import qrcode
from fpdf import FPDF

from events import tickets
from events.errors import BadgeFontMissing, InvalidInput
from events.queries import Connection, Row
from events.queries import door as q

Size = Literal["a6", "label"]
SIZES: dict[str, tuple[float, float]] = {"a6": (105.0, 148.0), "label": (101.0, 76.0)}
MAX_BADGES = 500  # per document: ~13 ms each, so a few seconds; ?after= for the next
STATUSES = ("confirmed", "waitlisted", "cancelled", "pending", "rejected")
ORGANISATION_KEYS = ("organisation", "organization", "company", "org", "employer")
CATEGORY_KEYS = ("category", "ticket_category", "ticket_type", "role")

CJK_FONTS = (
    (os.environ.get("EVENTS_BADGE_FONT", ""), 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 1),  # AR PL UMing HK
)
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)


@dataclass(frozen=True, slots=True)
class Badge:
    names: list[str]
    organisation: str
    category: str
    code: str | None
    event_title: str
    checked_in_at: str = ""


@lru_cache(maxsize=1)
def fonts() -> tuple[tuple[str, int], str | None]:
    """The CJK font (path, index in its collection) and the Latin one, if installed."""
    cjk = next(((p, i) for p, i in CJK_FONTS if p and Path(p).is_file()), None)
    if cjk is None:
        raise BadgeFontMissing()
    latin = next((p for p in LATIN_FONTS if Path(p).is_file()), None)
    return cjk, latin


def parse_size(value: str | None) -> Size:
    if value in (None, "", "a6"):
        return "a6"
    if value == "label":
        return "label"
    raise InvalidInput.one("size", "must be a6 or label")


def parse_statuses(value: str | None) -> list[str]:
    wanted = [s.strip() for s in (value or "confirmed").split(",") if s.strip()]
    if not wanted or any(s not in STATUSES for s in wanted):
        raise InvalidInput.one("status", "must be one or more of " + ", ".join(STATUSES))
    return wanted


# --- what a badge shows --------------------------------------------------------------------


def names_of(r: Row) -> list[str]:
    """The registration's names: `name` first, then any other name field it carries
    (whatever name fields exist, e.g. a Chinese name), each once."""
    found = [r["name"]]
    everything: dict[str, Any] = r.get("everything") or {}
    for key, value in sorted(everything.items()):
        if key.startswith("name") and key != "name" and isinstance(value, str):
            found.append(value)
        elif key.startswith("name") and isinstance(value, dict):  # {"zh-Hant": ..., ...}
            found += [v for v in value.values() if isinstance(v, str)]
    out: list[str] = []
    for name in (" ".join(n.split()) for n in found):
        if name and name not in out:
            out.append(name)
    return out


def _answer(answers: dict[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


async def badge_of(conn: Connection, r: Row, event: Row, key: tickets.EventKey) -> Badge:
    answers = r.get("answers") or {}
    category = _answer(answers, CATEGORY_KEYS) or ("Walk-in" if r.get("walk_in") else "Attendee")
    confirmed = r["status"] == "confirmed"
    code = tickets.code_of(key, int(r["seq"]), int(r["ticket_version"])) if confirmed else None
    when = r.get("checked_in_at")
    shown = when.astimezone(ZoneInfo(event["timezone"])).strftime("%H:%M") if when else ""
    return Badge(
        names_of(r),
        _answer(answers, ORGANISATION_KEYS),
        category if confirmed else r["status"],
        code,
        event["title"],
        shown,
    )


async def registration_row(conn: Connection, registration_id: Any) -> Row:
    found = await q.badge_registration(conn, registration_id)
    assert found is not None
    return found


async def event_badges(
    conn: Connection,
    event: Row,
    statuses: list[str],
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[tuple[int, Badge]]:
    """The badges of registrations in `statuses` after registration number `after`, in
    creation order, `limit` at most (None: all)."""
    key = await tickets.event_key(conn, event["id"])
    out: list[tuple[int, Badge]] = []
    async for chunk in q.badge_registrations(conn, event["id"], statuses, after=after):
        for r in chunk:
            out.append((int(r["seq"]), await badge_of(conn, r, event, key)))
            if limit is not None and len(out) >= limit:
                return out
    return out


async def badges_document(
    conn: Connection, event: Row, statuses: list[str], size: Size, *, after: int = 0
) -> tuple[bytes, int | None]:
    """One PDF of at most MAX_BADGES badges after registration number `after`, and the
    `after` of the next part (None: this is the last)."""
    found = await event_badges(conn, event, statuses, after=after, limit=MAX_BADGES)
    drawn = await render_badges([b for _, b in found], size)
    return drawn, found[-1][0] if len(found) == MAX_BADGES else None


async def badge_parts(conn: Connection, event: Row, statuses: list[str]) -> list[int]:
    """The `after` of each part of the event's badges (one for up to MAX_BADGES)."""
    return await q.badge_part_starts(conn, event["id"], statuses, MAX_BADGES)


async def checkin_list_document(
    conn: Connection, event: Row, statuses: list[str], now: datetime
) -> bytes:
    """The printable check-in list of the registrations in `statuses`, sorted by name."""
    found = await event_badges(conn, event, statuses)
    printed = printed_line(now, event["timezone"])
    return await render_list(event["title"], list_rows(found), printed)


# --- drawing -------------------------------------------------------------------------------


def _document(size: tuple[float, float] = SIZES["a6"]) -> FPDF:
    (cjk_path, index), latin = fonts()
    pdf = FPDF(unit="mm", format=size)
    pdf.set_auto_page_break(False)
    pdf.set_margins(6, 6, 6)
    pdf.add_font("cjk", fname=cjk_path, collection_font_number=index)
    if latin:
        pdf.add_font("latin", fname=latin)
        pdf.set_fallback_fonts(["cjk"], exact_match=False)
    pdf.set_font("latin" if latin else "cjk")
    pdf.set_creator("events")
    return pdf


def _qr(pdf: FPDF, code: str, x: float, y: float, side: float) -> None:
    # one fixed mask: choosing the "best" of eight is most of the time and buys nothing a
    # printed badge needs (every mask gives a valid code)
    matrix = qrcode.QRCode(
        border=0, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0
    )
    matrix.add_data(code)
    cells = matrix.get_matrix()
    step = side / len(cells)
    pdf.set_fill_color(0, 0, 0)
    for left, top, width, height in qr_rectangles(cells):
        pdf.rect(x + left * step, y + top * step, width * step, height * step, "F")


def qr_rectangles(cells: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as few rectangles (left, top, width, height): each row's runs, a run
    merged with the same run in the rows below it."""
    runs: list[set[tuple[int, int]]] = []
    for row in cells:
        found, start = set(), None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                found.add((start, col))
                start = None
        runs.append(found)
    out = []
    for top, row_runs in enumerate(runs):
        for start, end in sorted(row_runs):
            height = 1
            while top + height < len(runs) and (start, end) in runs[top + height]:
                runs[top + height].discard((start, end))
                height += 1
            out.append((start, top, end - start, height))
    return out


def _fit(pdf: FPDF, text: str, width: float, largest: float, smallest: float = 7) -> None:
    size = largest
    pdf.set_font_size(size)
    while size > smallest and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font_size(size)


def _draw_badge(pdf: FPDF, badge: Badge, size: Size) -> None:
    w, h = SIZES[size]
    pdf.add_page()
    inner = w - 12
    pdf.set_text_color(90, 90, 90)
    _fit(pdf, badge.event_title, inner, 10)
    pdf.set_xy(6, 6)
    pdf.cell(inner, 6, badge.event_title, align="C")
    pdf.set_text_color(0, 0, 0)
    y = 16.0 if size == "a6" else 13.0
    for i, name in enumerate(badge.names[:3]):
        largest = (26 if size == "a6" else 20) if i == 0 else (18 if size == "a6" else 14)
        _fit(pdf, name, inner, largest)
        line = largest * 0.45
        pdf.set_xy(6, y)
        pdf.cell(inner, line, name, align="C")
        y += line + 2
    pdf.set_text_color(60, 60, 60)
    for text, largest in ((badge.organisation, 13), (badge.category, 10)):
        if text:
            _fit(pdf, text, inner, largest)
            pdf.set_xy(6, y)
            pdf.cell(inner, largest * 0.45, text, align="C")
            y += largest * 0.45 + 1.5
    pdf.set_text_color(0, 0, 0)
    if badge.code:
        side = min(w - 40, h - y - 8) if size == "a6" else min(h - y - 4, 36)
        if side > 12:
            _qr(pdf, badge.code, (w - side) / 2, h - side - 6 if size == "a6" else y + 1, side)


def badges_pdf(badges: list[Badge], size: Size) -> bytes:
    pdf = _document(SIZES[size])
    pdf.set_title("Badges")
    for badge in badges:
        _draw_badge(pdf, badge, size)
    if not badges:
        pdf.add_page()
    return bytes(pdf.output())


def checkin_list_pdf(title: str, rows: list[tuple[str, str, str, str]], printed: str) -> bytes:
    """A4 list: number, name, organisation, state, checked in at, and a box to tick; the
    heading repeats on every page."""
    pdf = _document((210.0, 297.0))
    pdf.set_auto_page_break(False)
    pdf.set_title("Check-in list")
    widths = (10.0, 72.0, 55.0, 24.0, 20.0, 10.0)
    line = 6.5

    def heading() -> None:
        pdf.add_page()
        pdf.set_font_size(14)
        pdf.set_xy(6, 8)
        pdf.cell(0, 8, title)
        pdf.set_font_size(8)
        pdf.set_xy(6, 16)
        pdf.cell(0, 5, f"{printed} · page {pdf.page_no()}")
        pdf.set_xy(6, 23)
        pdf.set_fill_color(230, 230, 230)
        for width, text in zip(
            widths, ("#", "Name", "Organisation", "State", "In at", ""), strict=True
        ):
            pdf.cell(width, line, text, border=1, fill=True)
        pdf.set_font_size(9)

    heading()
    y = 23 + line
    for number, (name, organisation, state, when) in enumerate(rows, start=1):
        if y + line > 297 - 10:
            heading()
            y = 23 + line
        pdf.set_xy(6, y)
        for width, text in zip(
            widths, (str(number), name, organisation, state, when, ""), strict=True
        ):
            _fit(pdf, text, width - 2, 9, 5)
            pdf.cell(width, line, text, border=1)
        y += line
    return bytes(pdf.output())


async def render_badges(badges: list[Badge], size: Size) -> bytes:
    return await asyncio.to_thread(badges_pdf, badges, size)


async def render_list(title: str, rows: list[tuple[str, str, str, str]], printed: str) -> bytes:
    return await asyncio.to_thread(checkin_list_pdf, title, rows, printed)


def list_rows(badges: list[tuple[int, Badge]]) -> list[tuple[str, str, str, str]]:
    """One row per person, sorted by name (how door staff look people up on paper)."""
    out = [(" / ".join(b.names), b.organisation, b.category, b.checked_in_at) for _, b in badges]
    return sorted(out, key=lambda r: r[0].casefold())


def printed_line(now: datetime, zone: str) -> str:
    return "Printed " + now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
