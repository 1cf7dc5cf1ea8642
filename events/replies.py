"""Calendar replies: a reply address per registration, and what a reply does.

The address (events/reply_address.py) names the registration and proves it.

What a reply does (`receive`): the message must come to a valid reply address and hold an
iTIP REPLY (events/itip.py) whose VEVENT has the registration's invite UID and an ATTENDEE
equal to the registration's email. Then, by PARTSTAT:
  DECLINED  → the event's `calendar_replies`: cancel (exactly as the attendee's own
              cancellation: seat to the waitlist head, the same mails, a CANCEL invite),
              notify (recorded for the hosts; nothing changes) or ignore;
  ACCEPTED  → `accepted_at` (the first time);  TENTATIVE → recorded.
Anything else — an unknown address, a forged token, another UID, another attendee, no or
a malformed calendar — changes nothing. Every message is kept in `inbound_messages` with
its outcome for the operator; the same reply twice changes nothing more (`unchanged`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from uuid import UUID

from events import ical, itip, keys, partner_mail, registration
from events.db import Database
from events.queries import Connection, Row
from events.queries import registration as registration_q
from events.queries import replies as q
from events.reply_address import registration_of

MAX_KEPT_BYTES = 64 * 1024


# --- receiving ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str  # applied | unchanged | notified | ignored | rejected | invalid
    detail: str
    registration_id: UUID | None = None
    partstat: str | None = None


async def receive(
    db: Database,
    raw: bytes,
    *,
    recipients: list[str],
    base: str,
    via: str,
    now: datetime,
    mail_from: str = "",
    console_url: str = "",
) -> Outcome:
    """Handle one inbound message (to whichever of `recipients` is a reply address)."""
    message = itip.parse_message(raw)
    async with db.transaction() as conn:
        secret = await keys.server_secret(conn, "reply")
        found = next(
            (
                (address, rid)
                for address in recipients
                if (rid := registration_of(base, secret, address)) is not None
            ),
            None,
        )
        if found is None:
            outcome = Outcome("rejected", "not addressed to a valid reply address")
            recipient = recipients[0] if recipients else ""
        else:
            recipient, registration_id = found
            outcome = await _apply(conn, message, registration_id, now)
            if outcome.outcome == "notified":  # the hosts are told (partner_mail.py)
                await partner_mail.calendar_declined(
                    conn, registration_id, console_url=console_url, now=now
                )
        await q.insert_inbound(
            conn,
            {
                "received_at": now,
                "via": via,
                "message_id": _header(message, "Message-ID") or None,
                "mail_from": mail_from or _header(message, "From"),
                "recipient": recipient[:320],
                "subject": _header(message, "Subject")[:300],
                "registration_id": outcome.registration_id,
                "partstat": outcome.partstat,
                "outcome": outcome.outcome,
                "detail": outcome.detail[:500],
                "raw": raw[:MAX_KEPT_BYTES],
            },
        )
    return outcome


async def _apply(
    conn: Connection, message: EmailMessage, registration_id: UUID, now: datetime
) -> Outcome:
    parsed = itip.replies(message)
    if isinstance(parsed, itip.Unreadable):
        return Outcome("invalid", parsed.reason)
    await q.lock_registration(conn, registration_id)
    target = await q.reply_target(conn, registration_id)
    if target is None:  # a valid token of a registration since erased from the database
        return Outcome("rejected", "no such registration")
    main_uid = ical.invite_uid(registration_id)
    session_uids = {ical.invite_uid(registration_id, s) for s in target["session_ids"]}
    email = target["email"].lower()
    mine = [r for r in parsed if r.attendee == email and r.uid in {main_uid, *session_uids}]
    if not mine:
        uids = {r.uid for r in parsed}
        why = "another attendee" if uids & {main_uid, *session_uids} else "another UID"
        return Outcome("rejected", f"the reply names {why}")
    reply = next((r for r in mine if r.uid == main_uid), None)
    if reply is None:
        return Outcome(
            "ignored", "a reply to a session's entry only", registration_id, mine[0].partstat
        )
    if reply.partstat not in itip.PARTSTATS:
        return Outcome("ignored", f"PARTSTAT {reply.partstat}", registration_id, reply.partstat)
    return await _decide(conn, target, reply.partstat, now)


async def _decide(conn: Connection, target: Row, partstat: str, now: datetime) -> Outcome:
    rid = target["id"]
    changed = await q.record_reply(conn, rid, partstat, now)
    if partstat != "DECLINED":
        return Outcome("applied" if changed else "unchanged", partstat.lower(), rid, partstat)
    rule = target["calendar_replies"]
    if rule == "ignore":
        return Outcome("ignored", "the event ignores declines", rid, partstat)
    if rule == "notify":
        outcome = "notified" if changed else "unchanged"
        return Outcome(outcome, "the hosts are told; nothing changes", rid, partstat)
    if target["status"] == "cancelled":
        return Outcome("unchanged", "cancelled already", rid, partstat)
    current = await registration_q.registration(conn, rid)
    assert current is not None
    await registration.cancel(conn, current, by="attendee", now=now)
    return Outcome("applied", "declined in the calendar: cancelled", rid, partstat)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header so broken that the parser's policy refuses it
        return ""
    return " ".join(str(value).split()) if value is not None else ""


async def inbound(conn: Connection, *, limit: int = 50, outcome: str | None = None) -> list[Row]:
    return await q.inbound_messages(conn, limit=limit, outcome=outcome)
