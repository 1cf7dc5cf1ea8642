"""'Add to calendar' links for Google Calendar and Outlook on the web, from their documented
URL templates: the one place the ticket page and the mails make them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import msgspec


class CalendarLinks(msgspec.Struct):
    google: str
    outlook: str


def links(
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    details: str = "",
    location: str = "",
    zone: str | None = None,
) -> CalendarLinks:
    """Links that add one event; `zone`: the event's IANA zone, which Google shows it in."""
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc(starts_at, '%Y%m%dT%H%M%SZ')}/{_utc(ends_at, '%Y%m%dT%H%M%SZ')}",
        "details": details,
        "location": location,
    }
    if zone:
        google["ctz"] = zone
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": _utc(starts_at, "%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(ends_at, "%Y-%m-%dT%H:%M:%SZ"),
        "body": details,
        "location": location,
    }
    return CalendarLinks(
        google="https://calendar.google.com/calendar/render?" + urlencode(google),
        outlook="https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(outlook),
    )


def _utc(value: datetime, shape: str) -> str:
    return value.astimezone(UTC).strftime(shape)
