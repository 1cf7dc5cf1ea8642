"""iTIP REPLY messages (RFC 5546 over iMIP, RFC 6047), as calendar programs really send them.

What is read of a mail: every part that is a calendar — `text/calendar` (with or without
`method=REPLY` in its content type), `application/ics`, or any part whose file name ends
in `.ics` (Apple Calendar and some gateways send `application/octet-stream`). Where they put
it differs:

- Outlook: `multipart/alternative` of text, html and `text/calendar; method=REPLY`
  (often base64), the subject "Declined: …";
- Gmail: `multipart/mixed` holding `multipart/alternative` (text, html,
  `text/calendar; method=REPLY`) and the same calendar again as an `invite.ics` attachment;
- Apple Calendar: a `text/calendar` attachment (`iCal-….ics`), sometimes without a method
  parameter, the METHOD only inside the file.

Outlook's TNEF wrapper (`winmail.dat`) carries the answer as MAPI properties, not as a
calendar, so it is not read: such a message is kept as `invalid` for the operator.

The METHOD is the file's own (`METHOD:REPLY`), else the content type's parameter. Each
VEVENT gives one `Reply`: its UID and each ATTENDEE with its PARTSTAT. Parsing never raises:
what cannot be read is an `Unreadable` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

from icalendar import Calendar

CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar")
PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE")
MAX_PARTS = 50
MAX_CALENDAR_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    uid: str
    attendee: str  # the email address, lower case, without mailto:
    partstat: str  # ACCEPTED | DECLINED | TENTATIVE | anything else the program sent


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str


def parse_message(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_parts(message: Message) -> list[tuple[bytes, str | None]]:
    """(calendar bytes, the content type's method parameter) of each calendar part."""
    found: list[tuple[bytes, str | None]] = []
    for n, part in enumerate(message.walk()):
        if n >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        name = (part.get_filename() or "").lower()
        if kind not in CALENDAR_TYPES and not name.endswith(".ics"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and 0 < len(payload) <= MAX_CALENDAR_BYTES:
            method = part.get_param("method")
            found.append((payload, str(method).upper() if isinstance(method, str) else None))
    return found


def replies(message: Message) -> list[Reply] | Unreadable:
    """Every REPLY VEVENT's attendees in the message, or why there are none."""
    parts = calendar_parts(message)
    if not parts:
        return Unreadable("no calendar part")
    out: list[Reply] = []
    reasons: list[str] = []
    for data, content_method in parts:
        read = _read(data, content_method)
        if isinstance(read, Unreadable):
            reasons.append(read.reason)
        else:
            out.extend(r for r in read if r not in out)  # Gmail sends the same file twice
    if out:
        return out
    return Unreadable("; ".join(dict.fromkeys(reasons)))


def _read(data: bytes, content_method: str | None) -> list[Reply] | Unreadable:
    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on malformed input
        return Unreadable(f"unreadable calendar: {exc.__class__.__name__}")
    method = str(calendar.get("METHOD") or content_method or "").upper()
    if method != "REPLY":
        return Unreadable(f"not a reply (METHOD {method or 'missing'})")
    found: list[Reply] = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID") or "").strip()
        attendees = event.get("ATTENDEE")
        if not uid or attendees is None:
            continue
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            address = _address(str(attendee))
            partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            if address:
                found.append(Reply(uid, address, partstat))
    return found or Unreadable("a reply without UID or ATTENDEE")


def _address(value: str) -> str:
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().lower()


def recipients(message: Message) -> list[str]:
    """Where a message fetched from a mailbox was sent (no envelope there): the delivery
    headers first, then To and Cc."""
    found: list[str] = []
    for header in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
        for value in message.get_all(header) or []:
            for address in getattr(value, "addresses", ()):
                spec = str(address.addr_spec).lower()
                if spec and spec not in found:
                    found.append(spec)
            if not hasattr(value, "addresses") and "@" in str(value):
                spec = str(value).strip().strip("<>").lower()
                if spec not in found:
                    found.append(spec)
    return found
