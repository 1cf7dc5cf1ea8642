"""The audit log: who changed what, and who read whose personal data. Append-only.

Every change writes its entry with `record()` on the connection (and so in the transaction)
that makes the change, so an entry exists exactly when its change committed. The database
refuses to edit or delete entries (migration 0013); the one exception is `scrub()`, which a
personal-data erasure calls to blank the personal values of one registration's entries.

    from events import audit
    await audit.record(conn, actor, "registration.approved", ("registration", reg["id"]),
                       {"status": ["pending", "confirmed"]}, event_id=reg["event_id"], now=now)

`actor` is a `hosting.Actor` (a partner's token, a console user — its `label` is the user —
or a door token) or an `audit.Who` (`attendee(registration)`, `OPERATOR`, `system("job")`).
`changes` maps each field to `[old, new]`. Actions are dotted names (`event.updated`);
the ones written today are in ACTIONS (webhooks may subscribe to exactly these).

The registration hot path does not call `record()`: its entry is written by a CTE inside the
registration's one statement (queries/registration.py), so registering costs no extra round
trip. Webhooks are fed from here too: a trigger queues a message for every active webhook of
a partner hosting the event that asked for the action (webhooks.py).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from events.errors import InvalidInput
from events.hosting import Actor
from events.paging import Page, decode_cursor, encode_cursor, parse_limit
from events.queries import Connection, Row
from events.queries import audit as q

ActorType = Literal["partner", "door", "attendee", "operator", "system"]
ACTOR_TYPES = ("partner", "door", "attendee", "operator", "system")

#: Every action the service records (others' features add theirs here).
ACTIONS = (
    "event.created",
    "event.updated",
    "event.published",
    "event.cancelled",
    "session.created",
    "session.updated",
    "registration.created",
    "registration.cancelled",
    "registration.updated",
    "registration.promoted",
    "registration.approved",
    "registration.rejected",
    "registration.ticket_reissued",
    "registration.ticket_resent",
    "registration.read",
    "registration.exported",
    "registration.erased",
    "registration.walk_in",
    "registrations.listed",
    "checkin.created",
    "checkin.reentered",
    "checkin.exited",
    "checkin.undone",
    "export.csv",
    "export.xlsx",
    "door_token.created",
    "door_token.revoked",
    "cohost.invited",
    "cohost.added",
    "cohost.declined",
    "cohost.removed",
    "partner.created",
    "partner_user.created",
    "partner_user.reset",
    "webhook.created",
    "webhook.deleted",
    "webhook.secret_rotated",
    "webhook.disabled",
    "webhook.enabled",
    "webhook.test",
    "message.sent",
)


@dataclass(frozen=True, slots=True)
class Who:
    """An actor of the log: its type, an id and a label people read."""

    type: ActorType
    id: str | None
    label: str


def attendee(registration: Row) -> Who:
    return Who("attendee", str(registration["id"]), registration.get("name") or "")


OPERATOR = Who("operator", "cli", getpass.getuser() if hasattr(getpass, "getuser") else "")


def system(job: str) -> Who:
    return Who("system", job, job)


def who(actor: Actor | Who) -> Who:
    if isinstance(actor, Who):
        return actor
    if actor.kind == "door":
        return Who("door", str(actor.token_id), actor.label)
    if actor.kind == "partner":
        return Who("partner", str(actor.partner_id), actor.label or actor.partner_slug or "")
    return Who("system", None, "")


Subject = tuple[str, Any]


async def record(
    conn: Connection,
    actor: Actor | Who,
    action: str,
    subject: Subject,
    changes: dict[str, Any] | None = None,
    *,
    event_id: UUID | str | None = None,
    partner_id: UUID | str | None = None,
    now: datetime | None = None,
) -> int:
    """Append one entry (in the caller's transaction); returns its id. Without `now` the
    entry takes the statement's time."""
    by = who(actor)
    return await q.insert_entry(
        conn,
        {
            "at": now,
            "event_id": _uuid(event_id),
            "partner_id": _uuid(partner_id),
            "actor_type": by.type,
            "actor_id": by.id,
            "actor_label": by.label[:200],
            "action": action,
            "subject_type": subject[0],
            "subject_id": None if subject[1] is None else str(subject[1]),
            "changes": msgspec.to_builtins(changes or {}),
        },
    )


async def about_event(  # an entry's parts
    conn: Connection,
    actor: Actor | Who,
    action: str,
    event_id: UUID,
    changes: dict[str, Any],
    now: datetime,
    subject: Subject | None = None,
) -> int:
    """`record()` of an event's own change (its subject: the event, unless given)."""
    what = subject or ("event", event_id)
    return await record(conn, actor, action, what, changes, event_id=event_id, now=now)


def diff(
    before: Row, after: dict[str, Any], *, objects: tuple[str, ...] = ()
) -> dict[str, list[Any]]:
    """{field: [old, new]} of the fields of `after` whose value differs from `before`.
    Columns `<o>_<part>` of each name in `objects` are shown as one object `<o>`, as the API
    shows them (`venue_name`, `venue_address` → `venue: {"name", "address"}`)."""
    out = {
        k: [msgspec.to_builtins(before.get(k)), msgspec.to_builtins(v)]
        for k, v in after.items()
        if before.get(k) != v and k.split("_")[0] not in objects
    }
    for name in objects:
        parts = {
            k.removeprefix(name + "_"): v for k, v in after.items() if k.startswith(name + "_")
        }
        old = {k.removeprefix(name + "_"): v for k, v in before.items() if k.startswith(name + "_")}
        if any(old.get(k) != v for k, v in parts.items()):
            out[name] = [old, {**old, **parts}]
    return out


async def scrub(conn: Connection, subject_id: str) -> int:
    """Blank the personal values of the entries about `subject_id` (erasure's one door)."""
    return await q.scrub(conn, subject_id)


# --- reading -------------------------------------------------------------------------------


class ActorOut(msgspec.Struct):
    type: ActorType
    id: str | None
    label: str


class SubjectOut(msgspec.Struct):
    type: str
    id: str | None


class EntryOut(msgspec.Struct):
    at: datetime
    actor: ActorOut
    action: str
    subject: SubjectOut
    changes: dict[str, Any]


def entry_out(r: Row, zone: ZoneInfo | None = None) -> EntryOut:
    return EntryOut(
        at=r["at"].astimezone(zone) if zone else r["at"],
        actor=ActorOut(r["actor_type"], r["actor_id"], r["actor_label"]),
        action=r["action"],
        subject=SubjectOut(r["subject_type"], r["subject_id"]),
        changes=r["changes"],
    )


def filters(params: dict[str, str | None]) -> dict[str, Any]:
    """?action=, ?actor=, ?since=, ?until= checked (bad ones are a 422 naming the field)."""
    out: dict[str, Any] = {}
    action = params.get("action")
    if action:
        action = action.removesuffix("*")
        if len(action) > 100:
            raise InvalidInput.one("action", "is too long")
        out["action"] = action
    actor = params.get("actor")
    if actor:
        out["actor"] = actor[:200]
    for name in ("since", "until"):
        value = params.get(name)
        if value:
            out[name] = _time(name, value)
    return out


def _time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise InvalidInput.one(name, "must be an RFC 3339 time with an offset") from None
    if parsed.tzinfo is None:
        raise InvalidInput.one(name, "must have a UTC offset")
    return parsed


async def event_log(
    conn: Connection,
    event: Row,
    params: dict[str, str | None],
) -> Page[EntryOut]:
    """An event's log, newest first, filtered, a page at a time."""
    wanted = filters(params)
    limit = parse_limit(params.get("limit"))
    before = decode_cursor(params.get("cursor")) or None
    found = await q.event_entries(
        conn, event["id"], filters=wanted, before_id=before, limit=limit + 1
    )
    zone = ZoneInfo(event["timezone"])
    items = [entry_out(r, zone) for r in found[:limit]]
    more = len(found) > limit
    return Page(items=items, next_cursor=encode_cursor(found[limit - 1]["id"]) if more else None)


async def subject_log(conn: Connection, subject_id: str) -> list[EntryOut]:
    """Every entry about one subject, oldest first (e.g. for a registration's export)."""
    return [entry_out(r) for r in await q.subject_entries(conn, subject_id)]


def _uuid(value: UUID | str | None) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(value)
