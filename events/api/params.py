"""Query parameters as data: each endpoint declares the ones it reads (`query=` on its route),
and that one declaration both checks the value when the handler reads it (`Call.query`) and
writes the parameter into the OpenAPI document, so the document lists exactly what the code
reads, with the rules the code applies (tests/test_openapi.py holds them together).

A value that breaks its declaration is a 422 naming the parameter, before the handler's own
parsing (which may check more, e.g. that a cursor is one this server handed out). An empty
value (`?lang=`) is a value like any other: the empty text where the schema takes any text,
else refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from events import attendees
from events.api import contract
from events.errors import InvalidInput
from events.http import policy
from events.paging import DEFAULT_LIMIT, MAX_LIMIT
from events.translations import LANGS

_INTEGER = re.compile(r"-?[0-9]+")
#: RFC 3339; the offset's "+" may arrive as a space when a client does not encode it
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+ -][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str
    #: a list written `a,b` (OpenAPI's form style, not exploded); else one value
    items: tuple[str, ...] = field(default=())

    def check(self, raw: str) -> str:
        """`raw` if the declaration takes it, else a 422 naming the parameter."""
        fault = self._fault(raw)
        if fault is not None:
            raise InvalidInput.one(self.name, fault)
        return raw

    def _fault(self, raw: str) -> str | None:
        schema = self.schema
        kind = schema["type"]
        if kind == "array":
            parts = raw.split(",")
            if not raw or any(part not in self.items for part in parts):
                return "must be one or more of " + ", ".join(self.items) + ", separated by commas"
            return None
        if "enum" in schema:
            return None if raw in schema["enum"] else "must be one of " + ", ".join(schema["enum"])
        if kind == "integer":
            if not _INTEGER.fullmatch(raw) or len(raw) > 20:
                return "must be a whole number"
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and int(raw) < low) or (high is not None and int(raw) > high):
                return f"must be between {low} and {high}"
            return None
        if schema.get("format") == "date-time":
            return None if _DATE_TIME.fullmatch(raw) else "must be an RFC 3339 time with an offset"
        if len(raw) > schema["maxLength"]:
            return f"must be at most {schema['maxLength']} characters"
        if "pattern" in schema and not re.search(schema["pattern"], raw):
            return "is not in the form this server hands out"
        return None

    def document(self) -> dict[str, Any]:
        """The parameter's OpenAPI entry."""
        entry: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": False,
            "schema": self.schema,
            "description": self.description,
        }
        if self.items:
            entry["style"] = "form"
            entry["explode"] = False
        return entry


def _text(name: str, description: str, max_length: int = policy.MAX_LINE) -> QueryParam:
    schema = {"type": "string", "maxLength": max_length, "pattern": contract.ONE_LINE}
    return QueryParam(name, schema, description)


def _choice(name: str, options: tuple[str, ...], description: str) -> QueryParam:
    return QueryParam(name, {"type": "string", "enum": list(options)}, description)


def _flag(name: str, description: str) -> QueryParam:
    return _choice(name, ("1", "true", "0", "false"), description + " (1 or true; default false)")


STATUSES = attendees.STATUSES

LIMIT = QueryParam(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    f"Items per page (default {DEFAULT_LIMIT}).",
)
CURSOR = QueryParam(
    "cursor",
    {"type": "string", "maxLength": 32, "pattern": "^[A-Za-z0-9_-]*$"},
    "The previous page's `next_cursor` (any other value is a 422); empty or absent: the first"
    " page.",
)
PAGE = (LIMIT, CURSOR)
LANG = _choice("lang", LANGS, "Texts in this language (then its sibling script, then as written).")
Q = _text("q", "Search: names (Chinese or romanised, either script, any width) and email.")
REGISTRATION_STATUS = _choice("status", STATUSES, "Only registrations with this status.")
GUEST_STATUS = _choice(
    "status", ("invited", "registered", "declined", "revoked"), "Only guests with this status."
)
BADGE_STATUSES = QueryParam(
    "status",
    {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}, "minItems": 1},
    "Registrations with these statuses, separated by commas (default confirmed).",
    items=STATUSES,
)
SIZE = _choice("size", ("a6", "label"), "Badge size: A6 (default) or a label.")
AFTER = QueryParam(
    "after",
    {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    "The next document of badges: registrations numbered after this (from `Link: rel=next`).",
)
HOSTED = _flag("hosted", "Your own events (hosted or co-hosted), drafts too, instead of the public")
FORCE = _flag("force", "Take the session off the registrations that hold it")
DRY_RUN = _flag("dry_run", "Only report what the import would do")
AUDIT = (
    _text(
        "action", "An action (`event.updated`), or a prefix ending in `.` (`registration.`).", 100
    ),
    _text("actor", "An actor's type (`partner`, `door`, …), id or label.", policy.MAX_KEY),
    QueryParam(
        "since", {"type": "string", "format": "date-time"}, "Entries at or after this time."
    ),
    QueryParam("until", {"type": "string", "format": "date-time"}, "Entries before this time."),
    *PAGE,
)
#: attendee endpoints: the registration's access token, as links carry it
TOKEN = _text("token", "The registration's access token (instead of `Authorization: Bearer`).")
