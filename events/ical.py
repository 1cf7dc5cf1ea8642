"""Calendar files: an event's calendar.ics, a registration's invite, and subscription feeds.

Wire format (version 1; golden-tested in tests/test_ical.py, never changed once published):

UIDs
    event-{event id}@events                          the event        calendar.ics, partner feed
    session-{session id}@events                      a session        calendar.ics, partner feed
    registration-{registration id}@events            the event        invite, attendee feed
    registration-{registration id}-session-{session id}@events
                                                     a chosen session invite, attendee feed
    An invite's UIDs name the registration, not only the event: someone who cancels and
    registers again gets a new registration, and so an invite that calendars accept (under
    the event's own UID the new invite's SEQUENCE would be lower than the CANCEL they hold).

SEQUENCE
    calendar.ics, partner feed    the event's `revision` (raised by catalog.py whenever time,
                                  place, title or sessions change, and on cancelling)
    invite, attendee feed         `revision`, plus 1 once the registration is cancelled: a
                                  cancellation always carries a higher SEQUENCE than the last
                                  invite, whichever of the two was cancelled.

METHOD: an invite is REQUEST, or CANCEL (every VEVENT STATUS:CANCELLED) once the event or
the registration is cancelled; its URL keeps working. Files meant for subscription (the
public calendar.ics and the feeds) carry no METHOD. Every local time has a TZID and the
file a matching VTIMEZONE (from the zoneinfo database, covering the years around its events).
DTSTAMP is the time of the last change (so a file is the same bytes until something changes).

Rendering costs milliseconds (icalendar is slow), so finished files are cached under a key of
everything they show (ids, revision, statuses, updated_at): a hit costs one read.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from events.lru import LruCache
from events.queries import Row

Lang = str | None  # en, zh-Hant, zh-Hans; None: the untranslated fields

UID_DOMAIN = "events"
PRODID = "-//Events//Calendar 1//EN"
FEED_LIMIT = 500
CONTENT_TYPE = "text/calendar; charset=utf-8"


def event_uid(event_id: UUID | str) -> str:
    return f"event-{event_id}@{UID_DOMAIN}"


def session_uid(session_id: UUID | str) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def invite_uid(registration_id: UUID | str, session_id: UUID | str | None = None) -> str:
    if session_id is None:
        return f"registration-{registration_id}@{UID_DOMAIN}"
    return f"registration-{registration_id}-session-{session_id}@{UID_DOMAIN}"


def invite_sequence(revision: int, registration_status: str, edits: int = 0) -> int:
    """The event's revision, plus the registration's own changes of sessions (`edits`), plus
    one once the registration has ended (cancelled or rejected)."""
    return revision + edits + (1 if registration_status in ENDED else 0)


# --- building files -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    partstat: str | None = None  # attendees only


@dataclass(slots=True)
class Entry:
    """One VEVENT."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    zone: str
    sequence: int
    stamp: datetime
    cancelled: bool
    location: str = ""
    description: str = ""
    url: str | None = None
    organizer: Person | None = None
    attendees: list[Person] = field(default_factory=list)


def build(entries: list[Entry], *, method: str | None = None, name: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-published-ttl", "PT1H")
    for tz in _zones(entries):
        cal.add_component(tz)
    for entry in entries:
        cal.add_component(_vevent(entry))
    return bytes(cal.to_ical())


def _vevent(e: Entry) -> Event:
    zone = ZoneInfo(e.zone)
    ev = Event()
    ev.add("uid", e.uid)
    ev.add("dtstamp", e.stamp.astimezone(ZoneInfo("UTC")))
    ev.add("dtstart", e.starts_at.astimezone(zone))
    ev.add("dtend", e.ends_at.astimezone(zone))
    ev.add("summary", e.summary)
    ev.add("sequence", e.sequence)
    ev.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
    if e.location:
        ev.add("location", e.location)
    if e.description:
        ev.add("description", e.description)
    if e.url:
        ev.add("url", e.url)
    if e.organizer is not None:
        ev.add("organizer", _address(e.organizer))
    for person in e.attendees:
        ev.add("attendee", _address(person))
    return ev


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    if person.partstat is not None:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = person.partstat
        address.params["RSVP"] = "FALSE"
    return address


def _zones(entries: list[Entry]) -> list[Timezone]:
    years: dict[str, tuple[int, int]] = {}
    for e in entries:
        low, high = years.get(e.zone, (e.starts_at.year, e.ends_at.year))
        years[e.zone] = (min(low, e.starts_at.year), max(high, e.ends_at.year))
    return [_vtimezone(zone, low - 1, high + 1) for zone, (low, high) in sorted(years.items())]


@lru_cache(maxsize=256)
def _vtimezone(zone: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE covering whole years around the events (building one costs ~0.5 ms)."""
    return Timezone.from_tzinfo(
        ZoneInfo(zone), zone, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )


#: Rendered files by a key of everything they show (mails and feeds; the API path shares
#: its files through rendered.py).
cache: LruCache[Hashable, bytes] = LruCache(4096)


# --- what the files show --------------------------------------------------------------------


def _location(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def _organizer(r: Row, mail_from: str, reply_to: str | None = None) -> Person:
    """The organiser's name; its address is the registration's reply address when there is
    one (replies.py), so a decline in the attendee's calendar comes back to the service."""
    email = reply_to or r["organizer_email"] or parseaddr(mail_from)[1] or "events@localhost"
    return Person(r["organizer_name"], email)


def _sessions(r: Row) -> list[dict[str, Any]]:
    return [
        {
            **s,
            "starts_at": datetime.fromisoformat(s["starts_at"]),
            "ends_at": datetime.fromisoformat(s["ends_at"]),
        }
        for s in r["sessions"]
    ]


def event_entries(r: Row, *, base_url: str, mail_from: str) -> list[Entry]:
    """The public copy of an event: its VEVENT and one per session."""
    common: dict[str, Any] = {
        "zone": r["timezone"],
        "sequence": r["revision"],
        "stamp": r["event_updated_at"],
        "cancelled": r["event_status"] == "cancelled",
        "url": f"{base_url}/events/{r['slug']}",
        "organizer": _organizer(r, mail_from),
    }
    venue = _location(r["venue_name"], r["venue_address"])
    entries = [
        Entry(
            event_uid(r["event_id"]),
            r["title"],
            r["starts_at"],
            r["ends_at"],
            location=venue,
            description=r["description"],
            **common,
        )
    ]
    for s in _sessions(r):
        entries.append(
            Entry(
                session_uid(s["id"]),
                f"{s['title']} · {r['title']}",
                s["starts_at"],
                s["ends_at"],
                location=_location(s["room"], venue),
                **common,
            )
        )
    return entries


PARTSTAT = {"confirmed": "ACCEPTED", "waitlisted": "TENTATIVE", "cancelled": "DECLINED"}
PARTSTAT |= {"pending": "NEEDS-ACTION", "rejected": "DECLINED"}  # rejected: over, as cancelled
ENDED = ("cancelled", "rejected")
TICKET_LABEL = {"en": "Your ticket", "zh-Hant": "您的門票", "zh-Hans": "您的门票"}


JOIN_LABEL = {"en": "Join online", "zh-Hant": "線上參加", "zh-Hans": "线上参加"}


def invite_entries(
    r: Row,
    *,
    ticket_url: str,
    mail_from: str,
    reply_to: str | None = None,
    join_url: str | None = None,
) -> list[Entry]:
    """A registration's copy: the event and each chosen session, organizer and attendee on each.

    PARTSTAT is ACCEPTED while confirmed, TENTATIVE while waitlisted (no seat yet). An online
    attendee's copy is at their personal join link (LOCATION and URL), with the host's
    instructions; never the host's own meeting link.
    """
    label = TICKET_LABEL.get(r["locale"], TICKET_LABEL["en"])
    parts = [r["description"], f"{label}: {ticket_url}"]
    if join_url:
        join_label = JOIN_LABEL.get(r["locale"], JOIN_LABEL["en"])
        parts = [r["description"], r.get("online_instructions"), f"{join_label}: {join_url}"]
    description = "\n\n".join(p for p in parts if p)
    attendee = Person(r["name"], r["email"], PARTSTAT[r["status"]])
    common: dict[str, Any] = {
        "zone": r["timezone"],
        "sequence": invite_sequence(r["revision"], r["status"], r.get("edits", 0)),
        "stamp": max(r["event_updated_at"], r["updated_at"]),
        "cancelled": r["event_status"] == "cancelled" or r["status"] in ENDED,
        "url": join_url or ticket_url,
        "description": description,
        "organizer": _organizer(r, mail_from, reply_to),
        "attendees": [attendee],
    }
    venue = join_url or _location(r["venue_name"], r["venue_address"])
    entries = [
        Entry(
            invite_uid(r["id"]), r["title"], r["starts_at"], r["ends_at"], location=venue, **common
        )
    ]
    for s in _sessions(r):
        entries.append(
            Entry(
                invite_uid(r["id"], s["id"]),
                f"{s['title']} · {r['title']}",
                s["starts_at"],
                s["ends_at"],
                location=join_url or _location(s["room"], venue),
                **common,
            )
        )
    return entries


def invite_method(r: Row) -> str:
    cancelled = r["event_status"] == "cancelled" or r["status"] in ENDED
    return "CANCEL" if cancelled else "REQUEST"


def invite_key(r: Row) -> tuple[Hashable, ...]:
    return (
        r["id"],
        r["locale"],
        r["revision"],
        r["event_status"],
        r["status"],
        r["event_updated_at"],
        r["updated_at"],
    )


def withdrawn(entries: list[Entry], *, sequence: int) -> bytes:
    """METHOD:CANCEL for the sessions of a registration's `invite_entries` whose `sessions` are
    the ones it no longer holds (queries.withdrawn), at the invite's SEQUENCE of the moment they
    were taken off: calendars drop those VEVENTs and keep the event's and the other sessions'."""
    cancelled = entries[1:]
    for entry in cancelled:
        entry.sequence, entry.cancelled = sequence, True
    return build(cancelled, method="CANCEL")


def render_invite(
    r: Row,
    *,
    ticket_url: str,
    mail_from: str,
    reply_to: str | None = None,
    join_url: str | None = None,
) -> bytes:
    """The invite of a row from `queries.ical.invite` (also attached to mails)."""
    return cache.get_or_make(
        ("invite", *invite_key(r), ticket_url, mail_from, reply_to, join_url),
        lambda: build(
            invite_entries(
                r, ticket_url=ticket_url, mail_from=mail_from, reply_to=reply_to, join_url=join_url
            ),
            method=invite_method(r),
        ),
    )
