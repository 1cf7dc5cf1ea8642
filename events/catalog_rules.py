"""Rules of events and sessions that need nothing of catalog.py's types: the years a time
may lie in, time zones, slugs (catalog.py re-exports them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events.errors import FieldError
from events.slugs import slugify as slugify  # one definition, in slugs.py
from events.zones import is_zone

#: Times outside these years are refused: beyond them a time may not survive a conversion
#: between offsets (Python's datetime stops at years 1 and 9999).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
WINDOW = ("registration_opens_at", "registration_closes_at")
TIME_FIELDS = ("starts_at", "ends_at", *WINDOW, "edits_close_at")


def _check_times(e: dict[str, Any]) -> list[FieldError]:
    return [
        FieldError(name, "must be between the years 1900 and 2999")
        for name in TIME_FIELDS
        if e.get(name) is not None and not EARLIEST <= e[name] <= LATEST
    ]


def valid_timezone(name: str) -> bool:
    """A name of the IANA list (events/zones.py), nothing else the system keeps."""
    return is_zone(name)
