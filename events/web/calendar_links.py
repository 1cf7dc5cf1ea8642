"""'Add to calendar' links for Google Calendar and Outlook (their documented URL templates)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _location(event: Any) -> str:
    if event.venue is None:
        return ""
    return ", ".join(p for p in (event.venue.name, event.venue.address) if p)


def google(event: Any, page_url: str) -> str:
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc(event.starts_at)}/{_utc(event.ends_at)}",
        "details": f"{event.description}\n\n{page_url}".strip(),
        "location": _location(event),
        "ctz": event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook(event: Any, page_url: str) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": event.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": event.ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": f"{event.description}\n\n{page_url}".strip(),
        "location": _location(event),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)


def links(event: Any, base_url: str) -> dict[str, str]:
    page = f"{base_url}/events/{event.slug}"
    return {"google": google(event, page), "outlook": outlook(event, page)}
