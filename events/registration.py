"""Register, cancel, and the waitlist, with capacity exact under any concurrency.

Seats: an event's capacity is split over `SHARDS` counter rows. A registration takes a seat
from a random shard with one statement (claim + insert together, no transaction held across
round trips); only when that shard is full does it look for another, and only when every
shard is full is it waitlisted (or refused). A cancellation frees its seat and, in the same
transaction, gives that very seat to the head of the waitlist. Capacity changes lock all
shards of the event and redistribute. Database CHECKs on every counter back the invariant.

Access tokens are derived (HMAC of the registration id under a server secret), not stored,
so every link to a registration can be rebuilt for later mails.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta

from events import keys, tickets
from events.errors import (
    AlreadyRegistered,
    CapacityBelowConfirmed,
    EventFull,
    FieldError,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
    RegistrationClosed,
    SessionFull,
    Unauthenticated,
)
from events.hosting import Actor, may
from events.paging import Page, PageRequest, page_of
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import registration as q

SHARDS = q.SHARDS
Locale = Literal["en", "zh-Hant", "zh-Hans"]
Answer = str | bool | list[str]
EMAIL = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(min_length=3, max_length=254)]
    sessions: Annotated[list[str], Meta(max_length=100)] = []
    answers: dict[str, Answer] = {}
    locale: Locale = "en"


class RegistrationOut(msgspec.Struct):
    id: str
    event_id: str
    status: Literal["confirmed", "waitlisted", "cancelled"]
    waitlist_position: int | None
    name: str
    email: str
    access_token: str | None
    ticket: tickets.TicketOut | None
    calendar: str
    ticket_url: str
    sessions: list[str]
    answers: dict[str, Answer]
    locale: Locale
    created_at: datetime
    cancelled_at: datetime | None


# --- registering ---------------------------------------------------------------------------


async def register(
    conn: Connection, event_id: str, data: RegistrationIn, *, now: datetime, base_url: str
) -> RegistrationOut:
    target = await _open_event(conn, event_id, now)
    fields = _validated(data, target)
    sessions = fields.pop("session_ids")
    try:
        if sessions:
            async with conn.transaction():
                created = await _insert(conn, target, fields, now)
                await _attach_sessions(conn, created, sessions)
        else:
            created = await _insert(conn, target, fields, now)
    except asyncpg.UniqueViolationError:
        raise AlreadyRegistered() from None
    if created["status"] == "confirmed" and not sessions:
        # the hot path: the insert returned every column, and the rest is known
        found: Row | None = {**created, "waitlist_position": None, "session_ids": []}
    else:
        if created["status"] == "waitlisted" and await q.has_free_seat(conn, target["id"]):
            await fill_free_seats(conn, target["id"], now)  # a seat freed while we were queued
        found = await q.registration(conn, created["id"])  # the live position, sessions in order
    assert found is not None
    return await render(conn, found, base_url=base_url, with_secret=True)


async def _open_event(conn: Connection, event_id: str, now: datetime) -> Row:
    parsed = _uuid(event_id)
    target = None if parsed is None else await q.registration_target(conn, parsed)
    if target is None or target["status"] == "draft":
        raise NotFound("No such event")
    if target["status"] == "cancelled":
        raise RegistrationClosed("The event is cancelled")
    opens, closes = target["registration_opens_at"], target["registration_closes_at"]
    if opens is not None and now < opens:
        raise RegistrationClosed(
            "Registration opens at " + opens.isoformat(), opens_at=opens.isoformat()
        )
    if now >= (closes or target["starts_at"]):
        raise RegistrationClosed("Registration has closed")
    return target


async def _insert(conn: Connection, target: Row, fields: dict[str, Any], now: datetime) -> Row:
    event_id = target["id"]
    created = await q.insert_confirmed(conn, event_id, random.randrange(SHARDS), fields, now)
    if created is None:
        for shard in await q.shards_with_space(conn, event_id):
            created = await q.insert_confirmed(conn, event_id, shard, fields, now)
            if created is not None:
                break
    if created is None:
        if not target["waitlist"]:
            raise EventFull()
        created = await q.insert_waitlisted(conn, event_id, fields, now)
    return created


async def _attach_sessions(conn: Connection, created: Row, sessions: list[UUID]) -> None:
    await q.insert_sessions(conn, created["id"], sessions)
    if created["status"] == "confirmed":
        claimed = await q.claim_session_seats(conn, sessions)
        if len(claimed) != len(sessions):
            raise SessionFull(full=[str(s) for s in sessions if s not in claimed])


def _validated(data: RegistrationIn, target: Row) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = " ".join(data.name.split())
    if not name or CONTROL.search(data.name):
        errors.append(FieldError("name", "must be a name without control characters"))
    email = data.email.strip()
    if not EMAIL.match(email):
        errors.append(FieldError("email", "must be an email address"))
    session_ids: list[UUID] = []
    known = set(target["session_ids"])
    for i, raw in enumerate(data.sessions):
        sid = _uuid(raw)
        if sid is None or sid not in known:
            errors.append(FieldError(f"sessions.{i}", "is not a session of this event"))
        elif sid not in session_ids:
            session_ids.append(sid)
    errors += _answer_errors(data.answers, target["questions"])
    if errors:
        raise InvalidInput(errors)
    return {
        "name": name,
        "email": email,
        "locale": data.locale,
        "answers": data.answers,
        "session_ids": session_ids,
    }


def _answer_errors(answers: dict[str, Answer], questions: list[dict[str, Any]]) -> list[FieldError]:
    errors = []
    by_id = {question["id"]: question for question in questions}
    for key in answers:
        if key not in by_id:
            errors.append(FieldError(f"answers.{key}", "is not a question of this event"))
    for qid, question in by_id.items():
        value, field = answers.get(qid), f"answers.{qid}"
        kind = question.get("kind", "text")
        missing = value is None or value in ("", []) or (kind == "checkbox" and value is False)
        if missing:
            if question.get("required"):
                errors.append(FieldError(field, "is required"))
            continue
        if kind == "checkbox" and not isinstance(value, bool):
            errors.append(FieldError(field, "must be true or false"))
        elif kind == "choice" and value not in question.get("options", []):
            errors.append(FieldError(field, "must be one of the options"))
        elif kind == "text" and (not isinstance(value, str) or len(value) > 2000):
            errors.append(FieldError(field, "must be text of at most 2000 characters"))
    return errors


# --- reading -------------------------------------------------------------------------------


async def access_token(conn: Connection, registration_id: UUID | str) -> str:
    return keys.derive(
        await keys.server_secret(conn, "access"), "registration", str(registration_id)
    )


async def authorize(
    conn: Connection, actor: Actor, secret: str | None, registration_id: str
) -> tuple[Row, bool]:
    """The registration, if `secret` is its access token or `actor` hosts its event.

    Returns (registration, is_attendee). No credentials at all: 401; a door token: 403;
    anything else that does not fit: 404, so no one learns which ids exist.
    """
    parsed = _uuid(registration_id)
    found = None if parsed is None else await q.registration(conn, parsed)
    if (
        found is not None
        and secret
        and keys.matches(
            await keys.server_secret(conn, "access"), "registration", str(found["id"]), secret
        )
    ):
        return found, True
    if actor.kind == "door":
        raise Forbidden("A door token may only do check-in work")
    if found is not None and actor.kind == "partner":
        event = await catalog_q.event(conn, found["event_id"])
        if event is not None and may(actor, "manage", event):
            return found, False
    if actor.kind == "anonymous" and not secret:
        raise Unauthenticated("Give the registration's access token, or a host's token")
    raise NotFound("No such registration")


async def render(conn: Connection, r: Row, *, base_url: str, with_secret: bool) -> RegistrationOut:
    token = await access_token(conn, r["id"])
    ticket = await tickets.ticket_for(conn, r, token) if r["status"] == "confirmed" else None
    return RegistrationOut(
        id=str(r["id"]),
        event_id=str(r["event_id"]),
        status=r["status"],
        waitlist_position=r["waitlist_position"],
        name=r["name"],
        email=r["email"],
        access_token=token if with_secret else None,
        ticket=ticket,
        calendar=f"/api/v1/registrations/{r['id']}/invite.ics?token={token}",
        ticket_url=f"{base_url}/tickets/{r['id']}?token={token}",
        sessions=[str(s) for s in r["session_ids"]],
        answers=r["answers"],
        locale=r["locale"],
        created_at=r["created_at"],
        cancelled_at=r["cancelled_at"],
    )


async def list_registrations(
    conn: Connection,
    event: Row,
    *,
    status: str | None,
    q_text: str | None,
    page: PageRequest,
    base_url: str,
) -> Page[RegistrationOut]:
    if status not in (None, "confirmed", "waitlisted", "cancelled"):
        raise InvalidInput.one("status", "must be confirmed, waitlisted or cancelled")
    found = await q.event_registrations(
        conn,
        event["id"],
        status=status,
        q=q_text or None,
        after_seq=page.after_seq,
        limit=page.limit + 1,
    )
    items = [await render(conn, r, base_url=base_url, with_secret=False) for r in found]
    return page_of(items, [r["seq"] for r in found], page.limit)


CSV_COLUMNS = [
    "id",
    "status",
    "waitlist_position",
    "name",
    "email",
    "locale",
    "sessions",
    "created_at",
]


async def export_csv(conn: Connection, event: Row) -> str:
    """UTF-8 CSV (with a BOM, so spreadsheets show Chinese names), one row per registration.

    Cells that a spreadsheet would run as a formula are prefixed with a quote (OWASP).
    """
    sessions = {s["id"]: s["title"] for s in await catalog_q.sessions_of(conn, [event["id"]])}
    questions = [question["id"] for question in event["questions"]]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS + [f"answer:{qid}" for qid in questions])
    after = 0
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
                r["email"],
                r["locale"],
                "; ".join(sessions.get(s, str(s)) for s in r["session_ids"]),
                r["created_at"].isoformat(),
            ]
            writer.writerow([_safe_cell(c) for c in cells + answers])
        after = batch[-1]["seq"]
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


# --- cancelling and the waitlist -----------------------------------------------------------


async def cancel(conn: Connection, registration: Row, *, by: str, now: datetime) -> Row:
    """Cancel; a confirmed seat goes, in the same transaction, to the head of the waitlist."""
    async with conn.transaction():
        current = await q.registration(conn, registration["id"], lock=True)
        assert current is not None
        if current["status"] == "cancelled":
            return current
        await q.set_cancelled(conn, current["id"], now, by)
        if current["status"] == "confirmed":
            await q.release_session_seats(conn, current["id"])
            await q.release_seat(conn, current["event_id"], current["shard"])
            for head in await q.waitlist_head(conn, current["event_id"], 1):
                await _confirm(conn, head, current["event_id"], current["shard"], now)
    found = await q.registration(conn, registration["id"])
    assert found is not None
    return found


async def promote(conn: Connection, registration: Row, now: datetime) -> Row:
    """A host moves a waitlisted registration up: confirmed if a seat is free, else first in line."""
    if registration["status"] != "waitlisted":
        raise InvalidState("Only a waitlisted registration can be moved up")
    async with conn.transaction():
        shards = await q.lock_shards(conn, registration["event_id"])
        free = [s["shard"] for s in shards if s["confirmed"] < s["capacity"]]
        if free:
            await _confirm(conn, registration["id"], registration["event_id"], free[0], now)
        else:
            await q.move_to_front(conn, registration["id"], registration["event_id"])
    found = await q.registration(conn, registration["id"])
    assert found is not None
    return found


async def _confirm(
    conn: Connection, registration_id: UUID, event_id: UUID, shard: int, now: datetime
) -> None:
    await q.confirm_waitlisted(conn, registration_id, event_id, shard, now)
    found = await q.registration(conn, registration_id)
    assert found is not None
    wanted = list(found["session_ids"])
    if wanted:
        claimed = await q.claim_session_seats(conn, wanted)
        await q.drop_sessions(conn, registration_id, [s for s in wanted if s not in claimed])


async def fill_free_seats(conn: Connection, event_id: UUID, now: datetime) -> int:
    """Give every free seat to the waitlist, in order; returns how many were promoted."""
    async with conn.transaction():
        shards = await q.lock_shards(conn, event_id)
        free = [s["shard"] for s in shards for _ in range(s["capacity"] - s["confirmed"])]
        heads = await q.waitlist_head(conn, event_id, len(free)) if free else []
        for head, shard in zip(heads, free, strict=False):
            await _confirm(conn, head, event_id, shard, now)
    return len(heads)


# --- capacity ------------------------------------------------------------------------------


def split(capacity: int, shards: int = SHARDS) -> list[int]:
    base, extra = divmod(capacity, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


async def open_capacity(conn: Connection, event_id: UUID, capacity: int) -> None:
    await q.insert_shards(conn, event_id, split(capacity))


async def change_capacity(conn: Connection, event: Row, capacity: int, now: datetime) -> None:
    shards = await q.lock_shards(conn, event["id"])
    confirmed = [s["confirmed"] for s in shards]
    if capacity < sum(confirmed):
        raise CapacityBelowConfirmed(
            f"{sum(confirmed)} registrations are confirmed", confirmed=sum(confirmed)
        )
    free = split(capacity - sum(confirmed), len(shards))
    await q.set_shard_capacities(
        conn, event["id"], [c + f for c, f in zip(confirmed, free, strict=True)]
    )
    await fill_free_seats(conn, event["id"], now)


async def change_session_capacity(conn: Connection, session: Row, capacity: int | None) -> None:
    confirmed = await q.session_confirmed(conn, session["id"])
    if capacity is not None and capacity < confirmed:
        raise CapacityBelowConfirmed(
            f"{confirmed} registrations hold this session", confirmed=confirmed
        )


async def event_cancelled(conn: Connection, event: Row, now: datetime) -> None:
    """The event was cancelled: registrations keep their status (their invites turn into
    cancellations because the event's status and revision changed)."""


async def counts(conn: Connection, event: Row) -> dict[str, int]:
    return {k: int(v) for k, v in (await q.counts(conn, event["id"])).items()}


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
