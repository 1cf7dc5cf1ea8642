"""The input policy written into the published contract, so partners' generated clients
check what the service checks (issue 23).

msgspec's schemas carry the types, lengths and required fields of the request types; this
adds what the policy in events/http/policy.py enforces on every request: a pattern on each
text (no control characters; line breaks only in multi-line fields), the policy's length and
size bounds where a type sets none, `minProperties: 1` on PATCH bodies, and for responses the
problem types (stable codes) each status may carry.
"""

from __future__ import annotations

from typing import Any

from events import errors
from events.http import policy
from events.ids import UUID_PATTERN

#: One-line text: no C0/C1 control characters, DEL, line or paragraph separators (lone
#: surrogates, refused too, cannot be written in a pattern that every validator takes).
#: Multi-line text may hold tab, LF and CR (and U+2028/2029).
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTI_LINE = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
#: Times are taken from 1901 to 2998 (in any offset: catalog.py keeps them within 1900–2999)
YEARS = "^(190[1-9]|19[1-9][0-9]|2[0-8][0-9]{2}|29[0-8][0-9]|299[0-8])-"
#: what an Idempotency-Key may be
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"}

UUID_PARAMETERS = {"event_id", "session_id", "token_id", "registration_id", "invitation_id"}


def path_parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}
    if name in UUID_PARAMETERS:
        schema = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def constrain(components: dict[str, Any], roots: set[str], patches: set[str]) -> None:
    """Write the policy into the request types named (and every type they refer to)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        todo += _refs(components[name])
    for name in sorted(seen):
        _constrain_object(components[name])
    for name in patches:
        if name in components:
            components[name]["minProperties"] = 1


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else []
        return found + [r for value in schema.values() for r in _refs(value)]
    if isinstance(schema, list):
        return [r for item in schema for r in _refs(item)]
    return []


def _constrain_object(schema: dict[str, Any]) -> None:
    for field, prop in schema.get("properties", {}).items():
        _constrain(prop, policy.is_multiline(field))


def _constrain(schema: dict[str, Any], multiline: bool) -> None:
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date-time":
        schema.setdefault("pattern", YEARS)
    elif kind == "string" and "format" not in schema and "enum" not in schema:
        schema.setdefault("pattern", MULTI_LINE if multiline else ONE_LINE)
        schema.setdefault("maxLength", policy.MAX_TEXT if multiline else policy.MAX_LINE)
    elif kind == "array":
        schema.setdefault("maxItems", policy.MAX_ITEMS)
        if isinstance(schema.get("items"), dict):
            _constrain(schema["items"], multiline=False)
    elif kind == "object" and "additionalProperties" in schema:
        schema.setdefault("maxProperties", policy.MAX_ITEMS)
        schema.setdefault("propertyNames", {"maxLength": policy.MAX_KEY, "pattern": ONE_LINE})
        if isinstance(schema["additionalProperties"], dict):
            _constrain(schema["additionalProperties"], multiline=False)
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, ()):
            _constrain(option, multiline)


def problem_types() -> dict[int, list[str]]:
    """The stable codes (the last part of a problem's `type`) by HTTP status."""
    found: dict[int, set[str]] = {}
    todo: list[type[errors.DomainError]] = [errors.DomainError]
    while todo:
        kind = todo.pop()
        todo += kind.__subclasses__()
        if kind.code not in ("bad-request", "conflict") and kind.status >= 400:
            found.setdefault(kind.status, set()).add(kind.code)
    found.setdefault(404, set()).add("not-found")
    return {status: sorted(codes) for status, codes in found.items()}


#: Rules between fields that a JSON Schema cannot say, by request type: the service answers
#: 422 (`invalid-input`, naming the field) when they are broken.
RULES = {
    "EventIn": "ends_at after starts_at; registration_closes_at after registration_opens_at;"
    " question ids unique within the event; a `choice` question has options; `online` is"
    " required when `format` is online or hybrid, `online_capacity` is for hybrid events only;"
    " `online.url` and a non-empty `privacy_url` are https:// URLs without spaces;"
    " `online.reveal_before` is an ISO 8601 duration of at most 31 days; each of `reminders` is"
    " an ISO 8601 duration of weeks, days, hours, minutes or seconds (P1D, PT2H; no years or"
    " months) from a minute to a year, none twice.",
    "EventPatch": "The event after the change keeps EventIn's rules (ends_at after starts_at,"
    " …) and its sessions inside it; a capacity below the confirmed registrations is a 409.",
    "SessionIn": "ends_at after starts_at; the session lies inside its event.",
    "SessionPatch": "ends_at after starts_at and inside the event (after the change).",
    "RegistrationIn": "`email` is one address (no display name, no list); `sessions` are ids"
    " of this event's sessions; `answers` answer this event's questions (required ones"
    " present; a choice one of its options; a checkbox true or false).",
}


def rules_of(type_name: str) -> str:
    rule = RULES.get(type_name)
    return f" Rules the schema cannot carry (else 422): {rule}" if rule else ""
