"""Calendar replies as real programs send them, built from the invite the service sent.

Each builder takes the invite (icalendar.Calendar, METHOD:REQUEST) and answers it the way that
program's documented iMIP replies look (RFC 6047, and the programs' own mails):
- `outlook`: multipart/alternative (text, html, `text/calendar; method=REPLY` in base64),
  the attendee's address in capitals after MAILTO:, subject "Declined: …";
- `gmail`: multipart/mixed of multipart/alternative (text, html, `text/calendar;
  method=REPLY`) and the same file again as an `invite.ics` attachment;
- `apple`: a `text/calendar` attachment named `iCal-….ics` with no method parameter
  (METHOD:REPLY only inside the file).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

import icalendar

PRODIDS = {
    "outlook": "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
    "gmail": "-//Google Inc//Google Calendar 70.9054//EN",
    "apple": "-//Apple Inc.//macOS 14.4//EN",
}
VERBS = {"DECLINED": "Declined", "ACCEPTED": "Accepted", "TENTATIVE": "Tentative"}


def reply_calendar(
    invite: icalendar.Calendar,
    *,
    attendee: str,
    partstat: str,
    program: str,
    uid: str | None = None,
    method: str = "REPLY",
) -> bytes:
    """The REPLY to the invite's first VEVENT (or `uid`), one ATTENDEE with `partstat`."""
    source = invite.events[0]
    cal = icalendar.Calendar()
    cal.add("prodid", PRODIDS[program])
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid or str(source["uid"]))
    event.add("sequence", int(source.get("sequence", 0)))
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", source.decoded("dtstart"))
    event.add("summary", str(source["summary"]))
    event["organizer"] = source["organizer"]
    who = f"MAILTO:{attendee.upper()}" if program == "outlook" else f"mailto:{attendee}"
    person = icalendar.vCalAddress(who)
    person.params["PARTSTAT"] = partstat
    person.params["CN"] = "Chan Tai Man"
    if program == "gmail":
        person.params["CUTYPE"] = "INDIVIDUAL"
        person.params["ROLE"] = "REQ-PARTICIPANT"
        person.params["X-NUM-GUESTS"] = "0"
    event.add("attendee", person)
    cal.add_component(event)
    return bytes(cal.to_ical())


def _headers(msg: EmailMessage, *, to: str, sender: str, summary: str, partstat: str) -> None:
    msg["From"] = f"Chan Tai Man <{sender}>"
    msg["To"] = to
    msg["Subject"] = f"{VERBS.get(partstat, partstat)}: {summary}"
    msg["Message-ID"] = f"<reply.{datetime.now(UTC).timestamp()}@mail.example.org>"


def outlook(ics: bytes, *, to: str, sender: str, summary: str, partstat: str) -> bytes:
    msg = EmailMessage()
    _headers(msg, to=to, sender=sender, summary=summary, partstat=partstat)
    msg.set_content(f"{VERBS.get(partstat, partstat)}.")
    msg.add_alternative("<html><body><p>Declined.</p></body></html>", subtype="html")
    msg.add_alternative(
        ics, maintype="text", subtype="calendar", cte="base64", params={"method": "REPLY"}
    )
    return bytes(msg)


def gmail(ics: bytes, *, to: str, sender: str, summary: str, partstat: str) -> bytes:
    msg = EmailMessage()
    _headers(msg, to=to, sender=sender, summary=summary, partstat=partstat)
    msg.set_content(f"Chan Tai Man has {VERBS.get(partstat, partstat).lower()} this invitation.")
    msg.add_alternative("<p>Chan Tai Man has responded.</p>", subtype="html")
    msg.add_alternative(ics.decode(), subtype="calendar", params={"method": "REPLY"})
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return bytes(msg)


def apple(ics: bytes, *, to: str, sender: str, summary: str, partstat: str) -> bytes:
    msg = EmailMessage()
    _headers(msg, to=to, sender=sender, summary=summary, partstat=partstat)
    msg.set_content("")
    msg.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="iCal-20270520-093000.ics",
    )
    return bytes(msg)


PROGRAMS: dict[str, Callable[..., bytes]] = {"outlook": outlook, "gmail": gmail, "apple": apple}


def reply_mail(
    invite: icalendar.Calendar,
    *,
    to: str,
    attendee: str,
    partstat: str = "DECLINED",
    program: str = "gmail",
    uid: str | None = None,
    method: str = "REPLY",
) -> bytes:
    ics = reply_calendar(
        invite, attendee=attendee, partstat=partstat, program=program, uid=uid, method=method
    )
    summary = str(invite.events[0]["summary"])
    return PROGRAMS[program](ics, to=to, sender=attendee, summary=summary, partstat=partstat)
