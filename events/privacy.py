"""Personal data: an attendee's export, erasure, and the retention job (issue 19).

Export: every stored fact about one registration, as JSON (the registration with its answers
and consent, its sessions, check-ins, mails, calendar replies and audit entries). Reading it
is itself logged (`registration.exported`).

Erasure (`erase`): the registration is cancelled exactly as `registration.cancel` does (its
seat goes to the head of the waitlist), then, in the same transaction, its personal values
are overwritten in place (name, email, answers), and its traces elsewhere go too: rendered
files (QR images, invites) in the database and in this process, pending mail and mail
errors, calendar replies' raw messages, check-in replays, Idempotency-Key replays, and the
audit log's personal values (`audit.scrub`, the log's one narrow door). Counts, statuses and
check-in times stay. An erased registration's ticket, calendar and ticket-page URLs answer
410 `registration-erased`. Erasing again changes nothing.

Who may erase: the attendee (access token), the event's owner, the operator (CLI) and the
retention job. A co-host may read and export, but not erase: 403 (as for cancelling the
event, an owner's action; the registration's existence is no secret to a host).

Retention: `retention_days` after an event ends (default 180), the `erase-expired` job of
jobs.py erases its registrations, driven by its `now` argument.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from events import audit, ical, registration, rendered
from events.errors import FieldError, Forbidden, RegistrationErased
from events.hosting import Actor, role_of
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import privacy as q
from events.settings import Settings

#: How many registrations one run of the retention job erases (the next run goes on).
RETENTION_BATCH = 500
RETENTION_DEFAULT = 180
RETENTION_MAX = 3650
#: Event fields: personal data is erased this many days after the event ends; the line an
#: attendee consents to on the form, and the host's privacy statement (https).
RetentionDays = Annotated[int, Meta(ge=1, le=RETENTION_MAX)]
ConsentText = Annotated[str, Meta(max_length=2000)]
PrivacyUrl = Annotated[
    str,
    Meta(
        max_length=2000,
        pattern=r"^(https://[^ ]+)?$",
        description="The host's privacy statement (https), or empty",
    ),
]


def check_event_fields(e: dict[str, Any]) -> list[FieldError]:
    """The event's privacy fields: a retention in range, an https privacy statement."""
    errors = []
    days = e.get("retention_days", RETENTION_DEFAULT)
    if not 1 <= days <= RETENTION_MAX:
        errors.append(FieldError("retention_days", f"must be from 1 to {RETENTION_MAX} days"))
    url = e.get("privacy_url") or ""
    if url and (not url.startswith("https://") or len(url) <= len("https://") or " " in url):
        errors.append(FieldError("privacy_url", "must be an https:// URL"))
    return errors


def retention_date(event: Row) -> datetime:
    """When an event's registrations are erased (in the event's time zone)."""
    ends: datetime = event["ends_at"]
    days = int(event.get("retention_days") or RETENTION_DEFAULT)
    return (ends + timedelta(days=days)).astimezone(ZoneInfo(event["timezone"]))


def event_fields_out(event: Row) -> dict[str, Any]:
    """The event's privacy fields as the API gives them (EventOut)."""
    return {
        "retention_days": event["retention_days"],
        "retention_until": retention_date(event),
        "consent_text": event["consent_text"],
        "privacy_url": event["privacy_url"],
    }


def refuse_erased(found: Row) -> None:
    """Its ticket, calendar and ticket page are gone once its data is erased: 410."""
    if found.get("erased_at") is not None:
        raise RegistrationErased("This registration's personal data was erased")


# --- export --------------------------------------------------------------------------------


async def export(conn: Connection, found: Row, *, base_url: str) -> dict[str, Any]:
    """Every stored fact about one registration, as JSON-ready values."""
    event = await q.event_of(conn, found["event_id"])
    assert event is not None
    zone = ZoneInfo(event["timezone"])
    out = await registration.render(conn, found, base_url=base_url, with_secret=False)
    data = msgspec.to_builtins(out)
    data.pop("access_token", None)
    data.update(
        status=found["status"],
        confirmed_at=found["confirmed_at"],
        cancelled_by=found["cancelled_by"],
        updated_at=found["updated_at"],
        consent=found.get("consent"),
        consent_at=found.get("consent_at"),
        erased_at=found.get("erased_at"),
    )
    if found.get("erased_at") is not None:  # its links answer 410 now
        data.update(ticket=None, calendar=None, ticket_url=None)
    facts = {
        "registration": data,
        "event": {k: event[k] for k in ("id", "slug", "title", "starts_at", "ends_at")}
        | {"retention_until": retention_date(event), "privacy_url": event["privacy_url"]},
        "sessions": await q.sessions_of(conn, found["id"]),
        "checkins": await q.checkins_of(conn, found["id"]),
        "mails": await q.mails_of(conn, found["id"]),
        "calendar_replies": await q.inbound_of(conn, found["id"]),
        "audit": msgspec.to_builtins(await audit.subject_log(conn, str(found["id"]))),
    }
    local: dict[str, Any] = _local_times(msgspec.to_builtins(facts), zone)
    return local


def _local_times(value: Any, zone: ZoneInfo) -> Any:
    """Times with the event's UTC offset, as the API gives them."""
    if isinstance(value, dict):
        return {k: _local_times(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [_local_times(v, zone) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(zone).isoformat()
        except ValueError:
            return value
    return value


async def export_logged(
    conn: Connection, found: Row, who: Actor | audit.Who, now: datetime, *, base_url: str
) -> dict[str, Any]:
    """The export, and its reading in the audit log (`registration.exported`)."""
    facts = await export(conn, found, base_url=base_url)
    subject = ("registration", found["id"])
    await audit.record(
        conn, who, "registration.exported", subject, event_id=found["event_id"], now=now
    )
    return facts


# --- erasure -------------------------------------------------------------------------------


async def may_erase(conn: Connection, actor: Actor, found: Row, is_attendee: bool) -> None:
    """The attendee or the event's owner; a co-host is refused (403)."""
    if is_attendee:
        return
    event = await catalog_q.event(conn, found["event_id"])
    if event is None or role_of(event, actor) != "owner":
        raise Forbidden("Only the attendee or the event's owner may erase a registration")


async def erase(conn: Connection, found: Row, who: Actor | audit.Who, now: datetime) -> bool:
    """Cancel (seat to the waitlist) and erase the personal data; False if already erased."""
    async with conn.transaction():
        current = await q.lock(conn, found["id"])
        if current is None or current["erased_at"] is not None:
            return False
        if current["status"] not in ("cancelled", "rejected"):
            by = "attendee" if isinstance(who, audit.Who) and who.type == "attendee" else "host"
            if isinstance(who, audit.Who) and who.type in ("operator", "system"):
                by = who.type
            await registration.cancel(conn, current, by=by, now=now, actor=who)
        await q.erase_registration(conn, current["id"], now)
        await q.erase_traces(conn, current)
        await audit.record(
            conn,
            _without_name(who),
            "registration.erased",
            ("registration", current["id"]),
            {"erased": [False, True]},
            event_id=current["event_id"],
            now=now,
        )
        await audit.scrub(conn, str(current["id"]))
    forget_local(current["id"], current["email"], current["name"])
    return True


def _without_name(who: Actor | audit.Who) -> Actor | audit.Who:
    """An attendee erasing themselves is logged without their name."""
    if isinstance(who, audit.Who) and who.type == "attendee":
        return audit.Who("attendee", who.id, "")
    return who


def forget_local(registration_id: UUID, email: str, name: str) -> None:
    """This process's copies of its files (other processes' copies are keyed by versions
    that an erased registration never asks for again, and age out of their LRUs)."""
    rendered.forget_subject(registration_id)
    needles = [n.encode() for n in (email, name) if n]
    ical.cache.discard_where(lambda _, body: any(n in body for n in needles))


async def erase_by_email(conn: Connection, email: str, now: datetime) -> list[str]:
    """The operator erases every registration of an email (across events)."""
    done = []
    for registration_id in await q.registrations_of_email(conn, email):
        found = await registration_row(conn, registration_id)
        await erase(conn, found, audit.OPERATOR, now)
        done.append(str(registration_id))
    return done


async def export_by_email(
    conn: Connection, email: str, now: datetime, *, base_url: str
) -> list[dict[str, Any]]:
    out = []
    for registration_id in await q.registrations_of_email(conn, email):
        found = await registration_row(conn, registration_id)
        out.append(await export_logged(conn, found, audit.OPERATOR, now, base_url=base_url))
    return out


async def registration_row(conn: Connection, registration_id: UUID) -> Row:
    from events.queries import registration as registration_q

    found = await registration_q.registration(conn, registration_id)
    assert found is not None
    return found


# --- retention -----------------------------------------------------------------------------


async def erase_expired(conn: Connection, now: datetime, settings: Settings) -> int:
    """The retention job: erase registrations of events over for their retention_days."""
    done = 0
    for registration_id in await q.due_for_retention(conn, now, RETENTION_BATCH):
        found = await registration_row(conn, registration_id)
        done += await erase(conn, found, audit.system("retention"), now)
    return done
