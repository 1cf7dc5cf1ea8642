"""ISO 8601 durations of the kind reminders use: weeks, days, hours, minutes, seconds.

`P1D`, `PT2H`, `P1DT12H`, `P2W`, `PT90M`. Years and months are refused: their length depends
on the date, and a reminder is a fixed time before the start. PostgreSQL reads the same text
as an interval, so the reminders job computes due times in SQL from the current start.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from msgspec import Meta

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d{1,4})W)?(?:(?P<days>\d{1,5})D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,7})M)?(?:(?P<seconds>\d{1,9})S)?)?$"
)
LONGEST = timedelta(days=366)
#: The same form as the published contract checks it (JSON Schema `pattern`, ECMA-262: no
#: named groups): at least one number, and a `T` only before a number.
PATTERN = (
    r"^P(?=\d|T\d)(?:\d{1,4}W)?(?:\d{1,5}D)?"
    r"(?:T(?=\d)(?:\d{1,6}H)?(?:\d{1,7}M)?(?:\d{1,9}S)?)?$"
)
#: A duration as the API takes it (reminders, an online event's `reveal_before`).
Duration = Annotated[
    str,
    Meta(
        max_length=40,
        pattern=PATTERN,
        description="ISO 8601 duration of weeks, days, hours, minutes, seconds: P1D, PT2H",
    ),
]
#: An event's `reminders`: at most ten durations before its start.
Reminders = Annotated[list[Duration], Meta(max_length=10)]


def parse(text: str) -> timedelta:
    """The duration `text` names; ValueError when it is not one of the accepted forms."""
    found = _DURATION.match(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration of weeks, days, hours, minutes: {text!r}")
    parts = {k: int(v) for k, v in found.groupdict().items() if v is not None}
    if not parts:
        raise ValueError(f"an empty duration: {text!r}")
    return timedelta(**parts)


def reminder_errors(values: list[str]) -> list[tuple[int, str]]:
    """(index, message) for each reminder that cannot be used."""
    errors: list[tuple[int, str]] = []
    seen: set[timedelta] = set()
    for i, value in enumerate(values):
        try:
            offset = parse(value)
        except ValueError:
            errors.append((i, "must be an ISO 8601 duration such as P1D or PT2H"))
            continue
        if not timedelta(minutes=1) <= offset <= LONGEST:
            errors.append((i, "must be between one minute and a year before the start"))
        elif offset in seen:
            errors.append((i, "is given twice"))
        seen.add(offset)
    return errors
