"""The console's forms ↔ the API's request types (EventIn, EventPatch, SessionIn, Question).

Dates are typed as local date-times (`<input type="datetime-local">`) in the event's zone.
Field errors keep the API's field names, so one message table serves every form.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from starlette.datastructures import FormData

from events import catalog
from events import translations as tr
from events.catalog import EventIn, EventOut, Question, SessionIn, SessionOut
from events.errors import FieldError, InvalidInput
from events.web.i18n import N_

MESSAGES = {
    "title": N_("Please enter a title."),
    "timezone": N_("Please enter a time zone such as Asia/Hong_Kong."),
    "starts_at": N_("Please enter a date and time."),
    "ends_at": N_("The end must be a date and time after the start."),
    "capacity": N_("Please enter a whole number of seats (0 or more)."),
    "registration_opens_at": N_("Please enter a date and time, or leave it empty."),
    "registration_closes_at": N_("Registration must close after it opens."),
    "questions": N_("Each question needs a label; a choice needs options."),
    "partner": N_("No partner has this name: choose one from the list."),
    "session_id": N_("Choose a session of this event, or the whole event."),
    "label": N_("Please check this field."),
    "retention_days": N_("Enter a number of days from 1 to 3650."),
    "privacy_url": N_("Enter an address starting with https://."),
}


def messages(exc: InvalidInput) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.extra["errors"]:
        field = error["field"].split(".")[0]
        out.setdefault(field, MESSAGES.get(field, MESSAGES["label"]))
    return out


def local_input(value: datetime | None, zone: str) -> str:
    """An aware datetime → the value of a datetime-local input in the event's zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _when(form: FormData, name: str, zone: ZoneInfo | None, errors: list[FieldError]) -> Any:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, "is not a date and time"))
        return None
    if zone is None:
        return None  # the zone is wrong: reported on its own field
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def event_fields(form: FormData) -> dict[str, Any]:
    """The event form as API fields (EventIn's); raises InvalidInput listing every bad field."""
    errors: list[FieldError] = []
    timezone = _text(form, "timezone")
    zone = ZoneInfo(timezone) if catalog.valid_timezone(timezone) else None
    if zone is None:
        errors.append(FieldError("timezone", "not a zone"))
    title = _text(form, "title")
    if not title or len(title) > 200:
        errors.append(FieldError("title", "required"))
    starts_at = _when(form, "starts_at", zone, errors)
    ends_at = _when(form, "ends_at", zone, errors)
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None and zone is not None:
            errors.append(FieldError(name, "required"))
    capacity = _text(form, "capacity")
    if not capacity.isdigit() or int(capacity) > 1_000_000:
        errors.append(FieldError("capacity", "not a number"))
    opens = _when(form, "registration_opens_at", zone, errors)
    closes = _when(form, "registration_closes_at", zone, errors)
    privacy = _privacy_fields(form, errors)
    if errors:
        raise InvalidInput(errors)
    venue = {"name": _text(form, "venue_name"), "address": _text(form, "venue_address")}
    return {
        "title": title,
        "description": _text(form, "description"),
        "timezone": timezone,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "venue": venue if venue["name"] or venue["address"] else None,
        "capacity": int(capacity),
        "waitlist": bool(form.get("waitlist")),
        "visibility": _text(form, "visibility") or "public",
        "registration_opens_at": opens,
        "registration_closes_at": closes,
        "calendar_replies": _text(form, "calendar_replies") or "cancel",
        **privacy,
    }


def _privacy_fields(form: FormData, errors: list[FieldError]) -> dict[str, Any]:
    """Retention and the consent line, when the form has them (privacy.py checks them)."""
    out: dict[str, Any] = {}
    if "retention_days" in form:
        days = _text(form, "retention_days")
        if not days.isdigit() or not 1 <= int(days) <= 3650:
            errors.append(FieldError("retention_days", "not a number"))
        else:
            out["retention_days"] = int(days)
    for name in ("consent_text", "privacy_url"):
        if name in form:
            out[name] = _text(form, name)
    return out


def event_in(form: FormData) -> EventIn:
    converted: EventIn = _convert(event_fields(form), EventIn)
    return converted


def _convert(fields: dict[str, Any], kind: type[Any]) -> Any:
    try:
        return msgspec.convert(fields, kind)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition("$.")[2].rstrip("`").split(".")[0].split("[")[0]
        raise InvalidInput.one(where or "label", str(exc)) from None


def event_values(event: EventOut) -> dict[str, Any]:
    """An event → the values of its form."""
    zone = event.timezone
    return {
        "title": event.title,
        "description": event.description,
        "timezone": zone,
        "starts_at": local_input(event.starts_at, zone),
        "ends_at": local_input(event.ends_at, zone),
        "venue_name": event.venue.name if event.venue else "",
        "venue_address": event.venue.address if event.venue else "",
        "capacity": event.capacity,
        "waitlist": event.waitlist,
        "visibility": event.visibility,
        "registration_opens_at": local_input(event.registration_opens_at, zone),
        "registration_closes_at": local_input(event.registration_closes_at, zone),
        "calendar_replies": event.calendar_replies,
        "retention_days": event.retention_days,
        "consent_text": event.consent_text,
        "privacy_url": event.privacy_url,
    }


def session_in(form: FormData, zone_name: str) -> SessionIn:
    errors: list[FieldError] = []
    zone = ZoneInfo(zone_name)
    title = _text(form, "title")
    if not title or len(title) > 200:
        errors.append(FieldError("title", "required"))
    starts_at = _when(form, "starts_at", zone, errors)
    ends_at = _when(form, "ends_at", zone, errors)
    if starts_at is None:
        errors.append(FieldError("starts_at", "required"))
    if ends_at is None or (starts_at is not None and ends_at <= starts_at):
        errors.append(FieldError("ends_at", "required"))
    capacity = _text(form, "capacity")
    if capacity and not capacity.isdigit():
        errors.append(FieldError("capacity", "not a number"))
    if errors:
        raise InvalidInput(errors)
    fields = {
        "title": title,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "room": _text(form, "room") or None,
        "capacity": int(capacity) if capacity else None,
    }
    return _convert(fields, SessionIn)  # type: ignore[no-any-return]


def session_values(session: SessionOut, zone: str) -> dict[str, Any]:
    return {
        "title": session.title,
        "starts_at": local_input(session.starts_at, zone),
        "ends_at": local_input(session.ends_at, zone),
        "room": session.room or "",
        "capacity": "" if session.capacity is None else session.capacity,
    }


def questions(form: FormData) -> list[Question]:
    """Rows q-0…q-n of the questions editor; a row without a label (or ticked 'remove') goes."""
    out: list[Question] = []
    used = {v for k, v in form.items() if k.endswith("-id") and isinstance(v, str) and v}
    for i in range(60):
        label = _text(form, f"q-{i}-label")
        if f"q-{i}-label" not in form:
            break
        if not label or form.get(f"q-{i}-remove"):
            continue
        kind = _text(form, f"q-{i}-kind")
        options = [o.strip() for o in re.split(r"[\n,，、]", _text(form, f"q-{i}-options"))]
        qid = _text(form, f"q-{i}-id") or _question_id(label, used)
        used.add(qid)
        fields = {
            "id": qid,
            "label": label,
            "kind": kind if kind in ("text", "choice", "checkbox") else "text",
            "required": bool(form.get(f"q-{i}-required")),
            "options": [o for o in options if o] if kind == "choice" else [],
        }
        out.append(_convert(fields, Question))
    return out


def _question_id(label: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30] or "q"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def keep_translations(questions: list[Question], event: Any) -> list[Question]:
    """The edited questions with the translations they had (the editor shows none); options
    translated for a different number of options no longer fit, and are dropped."""
    before = {q.id: q for q in event.questions}
    out = []
    for q in questions:
        old = before.get(q.id)
        if old is None:
            out.append(q)
            continue
        kept = tr.stored(old.translations)
        for fields in kept.values():
            if len(fields.get("options", q.options)) != len(q.options):
                fields.pop("options")
        translations = msgspec.convert({k: v for k, v in kept.items() if v}, type(old.translations))
        out.append(msgspec.structs.replace(q, translations=translations))
    return out
