"""Guest lists: a host invites people one by one or imports a spreadsheet (CSV); each guest
is mailed a personal link (the event page with their invitation token), and registering
through it is locked to the guest's email (access.py). A guest's status follows:
invited → registered (→ declined when that registration is cancelled), or revoked.

The CSV import reads UTF-8 with or without a BOM, a header row naming at least `name` and
`email` (any order, any case, more columns ignored; `locale` is used when present), and
reports every row: ok, duplicate (in the file already, or a guest already), or error.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from events import mail_text
from events.addresses import NotAnAddress, canonical, is_address
from events.errors import AlreadyExists, InvalidInput, InvalidState, NotFound
from events.l10n import lang_or_english
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import guests as q
from events.registration import CONTROL, Locale

GuestStatus = Literal["invited", "registered", "declined", "revoked"]
LOCALES = {"en": "en", "zh-hant": "zh-Hant", "zh-hans": "zh-Hans"}
MAX_ROWS = 10_000


class GuestIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(min_length=3, max_length=254)]
    locale: Locale = "en"


class GuestOut(msgspec.Struct):
    id: str
    name: str
    email: str
    status: GuestStatus
    url: str
    locale: str
    registration_id: str | None
    created_at: datetime


class ImportRow(msgspec.Struct, omit_defaults=True):
    line: int
    status: Literal["ok", "duplicate", "error"]
    email: str
    error: str | None = None


class ImportOut(msgspec.Struct):
    rows: list[ImportRow]
    created: int
    dry_run: bool


@dataclass(slots=True)
class Parsed:
    """One data row of a guest CSV: what it says, and what is wrong with it (if anything)."""

    line: int
    name: str
    email: str
    locale: str
    error: str | None = None


def url_of(base_url: str, slug: str, token: str) -> str:
    return f"{base_url}/events/{slug}?invitation={token}"


def guest_out(g: Row, *, base_url: str, event: Row) -> GuestOut:
    return GuestOut(
        id=str(g["id"]),
        name=g["name"],
        email=g["email"],
        status=g["status"],
        url=url_of(base_url, event["slug"], g["token"]),
        locale=g["locale"],
        registration_id=str(g["registration_id"]) if g["registration_id"] else None,
        created_at=g["created_at"].astimezone(ZoneInfo(event["timezone"])),
    )


def check_guest(name: str, email: str) -> str | None:
    """Why a guest's name and email cannot be used, or None."""
    if not " ".join(name.split()) or CONTROL.search(name) or len(name) > 200:
        return "name must be a name of at most 200 characters without control characters"
    if not is_address(email):
        return "email must be an email address"
    return None


def _canonical_or_given(email: str) -> str:
    """The canonical form of a valid address (the form registrations use), else as given."""
    try:
        return canonical(email)
    except NotAnAddress:
        return email


async def add_guest(
    conn: Connection, event: Row, data: GuestIn, *, now: datetime, base_url: str
) -> GuestOut:
    name, email = " ".join(data.name.split()), _canonical_or_given(data.email)
    problem = check_guest(name, email)
    if problem is not None:
        field, _, message = problem.partition(" ")
        raise InvalidInput.one(field, message)
    added = await q.insert_guests(
        conn, event["id"], ([name], [email], [data.locale], [secrets.token_urlsafe(24)]), now
    )
    if not added:
        raise AlreadyExists("This email is on the guest list already")
    return guest_out(added[0], base_url=base_url, event=event)


async def list_guests(
    conn: Connection, event: Row, *, status: str | None, page: PageRequest, base_url: str
) -> Page[GuestOut]:
    if status not in (None, "invited", "registered", "declined", "revoked"):
        raise InvalidInput.one("status", "must be invited, registered, declined or revoked")
    found = await q.guests_of(
        conn, event["id"], status=status, after_seq=page.after_seq, limit=page.limit + 1
    )
    items = [guest_out(g, base_url=base_url, event=event) for g in found]
    return page_of(items, [g["seq"] for g in found], page.limit)


async def revoke_guest(
    conn: Connection, event: Row, guest_id: str, *, now: datetime, base_url: str
) -> GuestOut:
    from events.catalog import parse_id

    parsed = parse_id(guest_id)
    current = None if parsed is None else await q.guest(conn, parsed, event["id"])
    if current is None:
        raise NotFound("No such guest")
    revoked = await q.revoke(conn, current["id"], event["id"], now) or current
    return guest_out(revoked, base_url=base_url, event=event)


async def by_token(conn: Connection, token: str) -> Row | None:
    """The guest whose personal link carries `token` (any status), if any."""
    return await q.guest_for_page(conn, token) if len(token) <= 200 else None


async def decline(conn: Connection, token: str, *, now: datetime, base_url: str) -> GuestOut:
    """The guest says they will not come (before registering; after, they cancel)."""
    found = await by_token(conn, token)
    if found is None or found["status"] == "revoked":
        raise NotFound("No such invitation")
    event = await q.event_of(conn, found["event_id"])
    if found["status"] == "invited":
        found = await q.set_declined(conn, found["id"], now) or found
    if found["status"] != "declined":
        raise InvalidState("This invitation has been used to register; cancel the registration")
    return guest_out(found, base_url=base_url, event=event)


async def invitation(conn: Connection, guest_id: UUID) -> Row:
    """What a guest's invitation mail says: the guest and the event."""
    found = await q.invitation_mail(conn, guest_id)
    assert found is not None  # mail rows reference guests, which are never deleted
    return found


def letter(g: Row, base_url: str) -> mail_text.Letter:
    locale = lang_or_english(g["locale"])
    return mail_text.Letter(
        topic="guest-invitation",
        locale=locale,
        name=g["name"],
        title=g["title"],
        when=mail_text.when(g["starts_at"], g["ends_at"], g["timezone"], locale),
        where=", ".join(p for p in (g["venue_name"], g["venue_address"]) if p),
        ticket_url=url_of(base_url, g["slug"], g["token"]),
        feed_url="",
    )


# --- import --------------------------------------------------------------------------------


def parse_csv(raw: bytes) -> list[Parsed]:
    """The data rows of a guest CSV, each checked on its own; a file that cannot be read as
    such (not UTF-8, no header with name and email) is an InvalidInput."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.one("body", "must be UTF-8 text") from None
    if "\x00" in text:
        raise InvalidInput.one("body", "must not contain NUL characters")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise InvalidInput.one("body", f"is not readable CSV: {exc}") from None
    missing = [c for c in ("name", "email") if c not in header]
    if missing:
        raise InvalidInput.one("body", "the header row must name the columns name and email")
    where: dict[str, int] = {c: header.index(c) for c in ("name", "email", "locale") if c in header}
    parsed: list[Parsed] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(parsed) >= MAX_ROWS:
                raise InvalidInput.one("body", f"at most {MAX_ROWS} rows at a time")
            parsed.append(_row(reader.line_num, cells, where))
    except csv.Error as exc:
        raise InvalidInput.one("body", f"is not readable CSV: {exc}") from None
    return parsed


def _row(line: int, cells: list[str], where: dict[str, int]) -> Parsed:
    def cell(column: str) -> str:
        at = where.get(column)
        return cells[at].strip() if at is not None and at < len(cells) else ""

    name, locale = " ".join(cell("name").split()), cell("locale")
    email = _canonical_or_given(cell("email"))
    row = Parsed(line, name, email, LOCALES.get(locale.lower(), "en"))
    if locale and locale.lower() not in LOCALES:
        row.error = "locale must be en, zh-Hant or zh-Hans"
    row.error = check_guest(name, email) or row.error
    return row


async def import_guests(
    conn: Connection, event: Row, raw: bytes, *, dry_run: bool, now: datetime
) -> ImportOut:
    parsed = parse_csv(raw)
    known = await q.known_emails(conn, event["id"], [p.email.lower() for p in parsed])
    report: list[ImportRow] = []
    fresh: list[Parsed] = []
    for p in parsed:
        if p.error is not None:
            report.append(ImportRow(p.line, "error", p.email, p.error))
        elif p.email.lower() in known:
            report.append(ImportRow(p.line, "duplicate", p.email))
        else:
            known.add(p.email.lower())
            fresh.append(p)
            report.append(ImportRow(p.line, "ok", p.email))
    created = 0
    if fresh and not dry_run:
        columns = (
            [p.name for p in fresh],
            [p.email for p in fresh],
            [p.locale for p in fresh],
            [secrets.token_urlsafe(24) for _ in fresh],
        )
        added = {g["email"].lower() for g in await q.insert_guests(conn, event["id"], columns, now)}
        created = len(added)
        for entry in report:  # added by someone else meanwhile: a duplicate after all
            if entry.status == "ok" and entry.email.lower() not in added:
                entry.status = "duplicate"
    return ImportOut(report, created, dry_run)
