"""Rules of events and sessions that need nothing of catalog.py's types: the years a time
may lie in, time zones, slugs (catalog.py re-exports them)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from events.errors import FieldError

#: Times outside these years are refused: beyond them a time may not survive a conversion
#: between offsets (Python's datetime stops at years 1 and 9999).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
TIME_FIELDS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")


def _check_times(e: dict[str, Any]) -> list[FieldError]:
    return [
        FieldError(name, "must be between the years 1900 and 2999")
        for name in TIME_FIELDS
        if e.get(name) is not None and not EARLIEST <= e[name] <= LATEST
    ]


def valid_timezone(name: str) -> bool:
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return slug or f"event-{secrets.token_hex(3)}"
