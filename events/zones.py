"""Time zones: names from the IANA database only (the tzdata package's list).

`localtime`, `posixrules`, `Factory` and the `posix/…`, `right/…` copies are files some
systems keep beside the zones, not zones: they are refused.
"""

from __future__ import annotations

import importlib.resources
from typing import TYPE_CHECKING

_NOT_ZONES = {"Factory", "localtime", "posixrules"}


def _names() -> tuple[str, ...]:
    text = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    found = {
        name
        for name in text.split()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    }
    return tuple(sorted(found))


ZONES: tuple[str, ...] = _names()
_ZONE_SET = frozenset(ZONES)

if TYPE_CHECKING:
    TimeZone = str
else:
    from enum import StrEnum

    #: A request field holding a zone: the OpenAPI document lists every name (`enum`).
    TimeZone = StrEnum("TimeZone", {name: name for name in ZONES})


def is_zone(name: str) -> bool:
    return name in _ZONE_SET
