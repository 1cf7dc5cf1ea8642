"""Online and hybrid events: the host's meeting link, online places, personal join links.

The host's `online.url` is read only by hosts (catalog.py hides it from everyone else).
Attendees get `/join/<secret>` instead: the secret is the registration id and an HMAC of it
under a server secret (keys.py), so nobody can make another's, and the link is rebuilt for
every mail without being stored. It redirects to the host's url from `reveal_before` before
the start until the end; its first use is the attendee's online check-in (`joined_at`).

Places: a hybrid event's online places are 16 shards of their own (numbered from
`ONLINE_SHARD`, see migration 0017), taken and given back by the same statements as seats in
the room, each kind with its own waitlist. An online event's places are its `capacity`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from events import durations, keys, seats
from events.errors import CapacityBelowConfirmed, FieldError, InvalidState
from events.queries import Connection, Row
from events.queries import online as q

Format = Literal["in_person", "online", "hybrid"]
Attendance = Literal["in_person", "online"]
ONLINE_SHARD = q.ONLINE_SHARD
#: online_capacity null: a capacity no event reaches (each of the 16 shards holds this much)
UNLIMITED_PER_SHARD = 100_000_000
MAX_REVEAL = timedelta(days=31)
#: An https URL as the contract publishes it (JSON Schema `pattern`): any case of the scheme,
#: no space or control character.
HTTPS = r"^[Hh][Tt][Tt][Pp][Ss]://[^\s\x00-\x1f\x7f]+$"


class OnlineIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[
        str,
        Meta(
            min_length=9,
            max_length=2000,
            pattern=HTTPS,
            description="The host's meeting link (https); only hosts ever read it back",
        ),
    ]
    instructions: Annotated[str, Meta(max_length=5000)] = ""
    reveal_before: durations.Duration = "PT1H"


class OnlineOut(msgspec.Struct):
    #: the host's meeting link: only hosts reading the event see it (null for everyone else)
    url: str | None
    instructions: str
    reveal_before: str


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (`PT1H`, `P1DT30M`);
    None when it is not one."""
    try:
        return durations.parse(text)
    except ValueError:
        return None


# --- the event's fields --------------------------------------------------------------------


def columns(fields: dict[str, Any]) -> dict[str, Any]:
    """The request's `online` object → its three columns (in place)."""
    if "online" in fields:
        online = fields.pop("online")
        fields["online_url"] = online.url if online else None
        fields["online_instructions"] = online.instructions if online else ""
        fields["online_reveal_before"] = online.reveal_before if online else "PT1H"
    return fields


def check(e: dict[str, Any]) -> list[FieldError]:
    """What must hold of an event's format, link and online places."""
    errors = []
    fmt = e.get("format", "in_person")
    url = e.get("online_url")
    if fmt != "in_person" and not url:
        errors.append(FieldError("online", "is required for online and hybrid events"))
    if url is not None and not _https(url):
        errors.append(FieldError("online.url", "must be an https:// URL"))
    reveal = parse_duration(e.get("online_reveal_before") or "PT1H")
    if reveal is None or reveal > MAX_REVEAL:
        errors.append(
            FieldError("online.reveal_before", "must be an ISO 8601 duration of at most 31 days")
        )
    if e.get("online_capacity") is not None and fmt != "hybrid":
        errors.append(FieldError("online_capacity", "is for hybrid events only"))
    return errors


def _https(url: str) -> bool:
    if not url.lower().startswith("https://") or len(url) <= 8:
        return False
    return not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url)


def out(e: Row, *, host: bool) -> OnlineOut | None:
    if e["format"] == "in_person" and not e["online_url"]:
        return None
    return OnlineOut(
        url=e["online_url"] if host else None,
        instructions=e["online_instructions"],
        reveal_before=e["online_reveal_before"],
    )


async def event_changed(
    conn: Connection, event: Row, changes: dict[str, Any], now: datetime
) -> None:
    """After the event's row took `changes`: a change of format only while nobody is
    registered; a hybrid event's online places follow `online_capacity`."""
    if "format" in changes and await q.live_registrations(conn, event["id"]):
        raise InvalidState("The format cannot change once people have registered")
    fmt = changes.get("format", event["format"])
    if fmt == "hybrid" and ({"format", "online_capacity"} & changes.keys()):
        await set_online_capacity(
            conn, event["id"], changes.get("online_capacity", event["online_capacity"]), now
        )


async def set_online_capacity(
    conn: Connection, event_id: UUID, capacity: int | None, now: datetime
) -> None:
    """Make or resize a hybrid event's online shards; freed places go to its online waitlist."""
    await q.insert_online_shards(conn, event_id)
    shards = await q.lock_online_shards(conn, event_id)
    confirmed = [s["confirmed"] for s in shards]
    if capacity is not None and capacity < sum(confirmed):
        raise CapacityBelowConfirmed(
            f"{sum(confirmed)} online registrations are confirmed", confirmed=sum(confirmed)
        )
    if capacity is None:
        sizes = [c + UNLIMITED_PER_SHARD for c in confirmed]
    else:
        free = seats.split(capacity - sum(confirmed), len(shards))
        sizes = [c + f for c, f in zip(confirmed, free, strict=True)]
    await q.set_online_capacities(conn, event_id, sizes)
    await seats.fill_free_seats(conn, event_id, now, online=True)


def attendance_for(target: Row, asked: str | None) -> tuple[str, bool] | FieldError:
    """(attendance, online_place) of a new registration of this event, or why not."""
    fmt = target["format"]
    attendance = asked or ("online" if fmt == "online" else "in_person")
    if fmt == "online" and attendance != "online":
        return FieldError("attendance", "this event is online only")
    if fmt == "in_person" and attendance != "in_person":
        return FieldError("attendance", "this event takes place in person only")
    return attendance, fmt == "hybrid" and attendance == "online"


# --- the personal join link ----------------------------------------------------------------


async def join_secret(conn: Connection, registration_id: UUID) -> str:
    """`/join/<this>`: the registration id and an HMAC of it (unguessable, never stored)."""
    return secret_of(await keys.server_secret(conn, "join"), registration_id)


def secret_of(key: bytes, registration_id: UUID) -> str:
    mac = _mac(key, registration_id)
    return base64.urlsafe_b64encode(registration_id.bytes + mac).decode().rstrip("=")


async def join_url(conn: Connection, r: Row, base_url: str) -> str | None:
    """An online attendee's personal link (None for everyone else)."""
    if r.get("attendance") != "online":
        return None
    return f"{base_url}/join/{await join_secret(conn, r['id'])}"


def _mac(secret: bytes, registration_id: UUID) -> bytes:
    return hmac.new(secret, b"join:" + registration_id.bytes, hashlib.sha256).digest()[:16]


async def _registration_of(conn: Connection, secret: str) -> UUID | None:
    if len(secret) != 43 or not re.fullmatch(r"[A-Za-z0-9_-]{43}", secret):
        return None
    raw = base64.urlsafe_b64decode(secret + "=")
    registration_id = UUID(bytes=raw[:16])
    expected = _mac(await keys.server_secret(conn, "join"), registration_id)
    if not hmac.compare_digest(expected, raw[16:]):
        return None
    # the canonical spelling only (the last character carries spare bits)
    return registration_id if await join_secret(conn, registration_id) == secret else None


@dataclass(frozen=True)
class Join:
    """What a join link does now: `open` (redirect to `url`), `not_yet` (opens at `opens_at`),
    `over`, `cancelled` (registration or event), `not_confirmed`, or `unknown`."""

    state: Literal["open", "not_yet", "over", "cancelled", "not_confirmed", "unknown"]
    event: Row | None = None
    url: str | None = None
    opens_at: datetime | None = None
    locale: str = "en"


async def join(conn: Connection, secret: str, now: datetime) -> Join:
    """Follow a join link at `now`; inside the window the first use is recorded as joined."""
    registration_id = await _registration_of(conn, secret)
    found = None if registration_id is None else await q.join_target(conn, registration_id)
    if found is None or found["attendance"] != "online":
        return Join("unknown")
    event, locale = found, found["locale"]
    if found["status"] in ("cancelled", "rejected") or found["event_status"] == "cancelled":
        return Join("cancelled", event, locale=locale)
    if found["status"] != "confirmed":
        return Join("not_confirmed", event, locale=locale)
    reveal = parse_duration(found["online_reveal_before"]) or timedelta(hours=1)
    opens_at = found["starts_at"] - reveal
    if now < opens_at:
        return Join("not_yet", event, opens_at=opens_at, locale=locale)
    if now >= found["ends_at"] or not found["online_url"]:
        return Join("over", event, locale=locale)
    await q.record_join(conn, found["id"], now)
    return Join("open", event, url=found["online_url"], locale=locale)
