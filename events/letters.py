"""Composing a mail from an outbox row, from the current state, in the attendee's language.

Every kind goes through the same steps: read the registration with its event (one read),
decide whether the mail is still true (else it is `superseded`), fill a `mail_text.Letter`,
lay it out (text and HTML), and attach the QR code and the calendar invite where the kind
carries them. The organiser's name is the From's display name and their address Reply-To.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from events import calendar_links, feeds, ical, mail_text, registration, reply_address, tickets
from events.l10n import lang_or_english
from events.queries import Connection, Row
from events.queries import ical as ical_q
from events.queries import letters as q
from events.queries import mail as mail_q
from events.queries import registration as registration_q
from events.queries import withdrawn as withdrawn_q
from events.settings import Settings
from events.translations import localize_row

#: Kinds that tell about the event as it stands, with a calendar invite attached.
WITH_INVITE = {"confirmation", "promotion", "update", "cancellation", "edited", "approved"}
#: Kinds that offer "Add to Google Calendar / Outlook" while the registration has a seat.
CALENDAR_LINKS = {
    "confirmation",
    "promotion",
    "update",
    "reminder",
    "resend",
    "edited",
    "approved",
}
#: The kind that cancels, in calendars, sessions a registration no longer holds (METHOD:CANCEL
#: for their VEVENTs; queries/withdrawn.py keeps what it needs, the outbox revision is the
#: invite's SEQUENCE when they were taken off).
WITHDRAWN = "sessions-withdrawn"
#: The status a mail about an approval decision is true of.
_STATUS_OF = {"pending": "pending", "approved": "confirmed", "rejected": "rejected"}


@dataclass(slots=True)
class Composed:
    message: EmailMessage | None  # None: superseded, nothing to send
    reason: str = ""


async def compose(
    conn: Connection, job: Row, settings: Settings, now: datetime, *, force: bool = False
) -> Composed:
    """The message for an outbox row; with `force`, also one that is no longer true."""
    if job["registration_id"] is None:
        return await _guest_invitation(conn, job, settings, now)
    found_row = await ical_q.invite(conn, job["registration_id"])
    assert found_row is not None  # rows reference registrations, which are never deleted
    withdrawn = job["kind"] == WITHDRAWN
    if withdrawn:  # the sessions it cancels, not the ones held
        taken_off = await withdrawn_q.sessions(conn, found_row["id"], job["revision"])
        found_row = {**found_row, "sessions": taken_off}
    r = localize_row(found_row, found_row["locale"])  # the content in the reader's language
    stale = await _superseded(conn, job, r, now)
    if stale and not force:
        return Composed(None, stale)
    full = await registration_q.registration(conn, r["id"])
    assert full is not None
    out = await registration.render(conn, full, base_url=settings.base_url, with_secret=False)
    feed = await feeds.attendee_feed_url(conn, r["id"], r["email"], settings.base_url)
    joins = out.join_url is not None and job["kind"] not in ("cancellation", "rejected", WITHDRAWN)
    letter = await _letter(conn, job, r, out.ticket_url, feed, out.join_url if joins else None)
    invite, method = None, ical.invite_method(r)
    if r["confirmed_at"] is not None and (job["kind"] in WITH_INVITE or withdrawn):
        reply_to = await reply_address.address_for(conn, settings.reply_address, r["id"])
        links: dict[str, Any] = {"ticket_url": out.ticket_url, "mail_from": settings.mail_from}
        links |= {"reply_to": reply_to, "join_url": out.join_url}
        if withdrawn:
            invite = ical.withdrawn(ical.invite_entries(r, **links), sequence=job["revision"])
            method, letter.invite_method = "CANCEL", "CANCEL-SESSIONS"
        else:
            invite = ical.render_invite(r, **links)
            letter.invite_method = method
    qr = None
    if out.ticket and letter.kind.qr and r["event_status"] != "cancelled":
        qr = tickets.qr_png(out.ticket.code)
        letter.qr_cid = f"qr.{r['id']}@events"
    message = _message(letter, job, settings, now, r)
    message["To"] = _address(r["name"], r["email"])
    _attach(message, letter, qr=qr, invite=invite, method=method)
    return Composed(message)


async def _superseded(conn: Connection, job: Row, r: Row, now: datetime) -> str:
    kind = job["kind"]
    if kind in ("cancellation", "message", WITHDRAWN):  # true whatever happened since
        return ""
    if r["status"] == "cancelled" or r["event_status"] == "cancelled":
        return "cancelled since"
    if kind == "waitlisted" and r["status"] != "waitlisted":
        return "has a seat since"
    if kind in _STATUS_OF and r["status"] != _STATUS_OF[kind]:
        return f"is {r['status']} since"
    if kind == "update" and await mail_q.newer_update(conn, r["id"], job["revision"]):
        return "a newer update follows"
    if kind == "reminder" and now >= r["starts_at"]:
        return "the event has begun"
    return ""


async def _guest_invitation(
    conn: Connection, job: Row, settings: Settings, now: datetime
) -> Composed:
    """A guest's invitation: the event and their personal link to register (guests.py)."""
    from events import guests

    g = await guests.invitation(conn, job["guest_id"])
    if g["status"] != "invited" or g["event_status"] == "cancelled":
        return Composed(None, f"guest is {g['status']}, event {g['event_status']}")
    fields = {"organizer_name": None, "organizer_email": g["organizer_email"]}
    message = _message(guests.letter(g, settings.base_url), job, settings, now, fields)
    message["To"] = _address(g["name"], g["email"])
    return Composed(message)


def topic(kind: str, r: Row) -> str:
    if kind != "cancellation":
        return kind
    return "registration-cancelled" if r["status"] == "cancelled" else "event-cancelled"


async def _letter(
    conn: Connection, job: Row, r: Row, ticket_url: str, feed_url: str, join_url: str | None
) -> mail_text.Letter:
    """`join_url`: an online attendee's personal link, which is where they go (never the venue)."""
    locale = lang_or_english(r["locale"])
    where = join_url or ", ".join(p for p in (r["venue_name"], r["venue_address"]) if p)
    sessions = [
        f"{s['title']} · "
        + mail_text.when(
            datetime.fromisoformat(s["starts_at"]),
            datetime.fromisoformat(s["ends_at"]),
            r["timezone"],
            locale,
        )
        for s in r["sessions"]
    ]
    letter = mail_text.Letter(
        topic=topic(job["kind"], r),
        locale=locale,
        name=r["name"],
        title=r["title"],
        when=mail_text.when(r["starts_at"], r["ends_at"], r["timezone"], locale),
        where=where,
        ticket_url=ticket_url,
        feed_url=feed_url,
        organizer=r["organizer_name"],
        position=r["waitlist_position"],
        sessions=sessions,
    )
    if join_url is not None:
        letter.join_url, letter.instructions = join_url, r["online_instructions"]
    if letter.topic == "event-cancelled":
        letter.reason = r["cancel_reason"]
    if letter.topic == "rejected":
        letter.reason = r.get("rejection_reason")
    if letter.topic == "update":
        letter.changes = await _changes(conn, job, r, letter)
    if letter.topic == "message":
        found = await q.message(conn, job["revision"])
        assert found is not None
        letter.subject_text, letter.body = found["subject"], found["body"]
    if letter.topic in CALENDAR_LINKS and r["status"] == "confirmed":
        links = calendar_links.links(
            r["title"],
            r["starts_at"],
            r["ends_at"],
            details=join_url or ticket_url,
            location=where,
            zone=r["timezone"],
        )
        letter.google_url, letter.outlook_url = links.google, links.outlook
    return letter


async def _changes(
    conn: Connection, job: Row, r: Row, letter: mail_text.Letter
) -> list[mail_text.Change]:
    """What differs between the event as this attendee last heard of it and now (old → new)."""
    heard = await q.last_heard(conn, r["id"], job["id"])
    before = await q.event_revision(
        conn, r["event_id"], heard if heard is not None else job["revision"] - 1
    )
    if before is None:
        return []
    old_when = mail_text.when(
        before["starts_at"], before["ends_at"], before["timezone"], letter.locale
    )
    old_where = ", ".join(p for p in (before["venue_name"], before["venue_address"]) if p)
    pairs = [("title", before["title"], r["title"]), ("when", old_when, letter.when)]
    if letter.join_url is None:  # an online attendee's place is their link, which stays
        pairs.append(("where", old_where, letter.where))
    return [mail_text.Change(what, old, new) for what, old, new in pairs if old != new]


def _address(name: str, email: str) -> Address:
    """The display name and the address kept apart: a comma or quote in a name stays in the
    name; an address the header model cannot take fails this mail (marked failed), not others."""
    if any(c in email for c in '\r\n,;<>"') or email.count("@") != 1:
        raise Unbuildable(f"not a single address: {email!r}")
    return Address(display_name=" ".join(name.split()), addr_spec=email)


class Unbuildable(ValueError):
    """The mail cannot be built from what is stored (an address or header it cannot carry)."""


def message_id(job: Row, domain: str) -> str:
    about = job["registration_id"] or f"guest.{job.get('guest_id')}"
    return f"<{job['kind']}.{job['revision']}.{about}@{domain}>"


def _sender(settings: Settings, organizer: str | None) -> Address:
    """From: the organiser's name on the service's address (the mail is sent for them)."""
    name, address = parseaddr(settings.mail_from)
    address = address or "events@localhost"
    if not organizer:
        return _address(name, address)
    return _address(f"{organizer} ({name})" if name else organizer, address)


def _message(
    letter: mail_text.Letter,
    job: Row,
    settings: Settings,
    now: datetime,
    r: Row | dict[str, str | None],
) -> EmailMessage:
    sender = parseaddr(settings.mail_from)[1] or "events@localhost"
    msg = EmailMessage()
    msg["From"] = _sender(settings, r["organizer_name"])
    if r["organizer_email"]:
        msg["Reply-To"] = _address("", r["organizer_email"])
    msg["Subject"] = " ".join(letter.subject.split())  # one line, whatever was stored
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(job, sender.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = letter.locale
    msg["X-Events-Mail"] = f"{job['kind']}; revision={job['revision']}"
    msg.set_content(mail_text.plain(letter))
    msg.add_alternative(mail_text.rich(letter), subtype="html")
    return msg


def _attach(
    msg: EmailMessage,
    letter: mail_text.Letter,
    *,
    qr: bytes | None,
    invite: bytes | None,
    method: str,
) -> None:
    """multipart/mixed[ alternative[ plain, related[ html, qr.png ], calendar ], invite.ics ]."""
    if qr is not None and letter.qr_cid:
        html_part = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(qr, "image", "png", cid=f"<{letter.qr_cid}>", filename="ticket.png")
    if invite is not None:
        text = invite.decode()
        msg.add_alternative(text, subtype="calendar", params={"method": method})
        msg.add_attachment(invite, maintype="application", subtype="ics", filename="invite.ics")
