"""The console's translations editor: the event, its sessions and its questions side by side
in English, Traditional and Simplified Chinese (en / 繁 / 简), saved through the same domain
calls as the API's PATCHes.

Form fields are named `<object>.<lang>.<field>`: `event.zh-Hant.title`,
`session.<id>.zh-Hans.room`, `question.<id>.en.options` (one option a line). An empty box
means "not translated": the reader then sees the sibling script or the original.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from events import catalog
from events import translations as tr
from events.catalog import EventOut, EventPatch, Question, SessionPatch
from events.errors import InvalidInput
from events.queries import Connection
from events.web.i18n import N_
from events.web.render import connection, form_of, now, redirect, render

#: the columns of the editor: (language, its heading)
COLUMNS = (("en", "English"), ("zh-Hant", "繁體中文"), ("zh-Hans", "简体中文"))
EVENT_FIELDS = ("title", "description", "venue.name", "venue.address")
SESSION_FIELDS = ("title", "room")
QUESTION_FIELDS = ("label", "options")
LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "venue.name": N_("Venue"),
    "venue.address": N_("Address"),
    "room": N_("Room"),
    "label": N_("Question"),
    "options": N_("Options (one per line)"),
}


OPTIONS_ERROR = N_(
    "Translated options must be as many as the question's options, one per line, in the same order."
)
OTHER_ERROR = N_("A translation is too long, or a venue address has no venue name.")


def routes() -> list[BaseRoute]:
    path = "/console/events/{event_id}/translations"
    return [Route(path, page), Route(path, save, methods=["POST"])]


async def _load(request: Request, conn: Connection) -> tuple[Any, EventOut]:
    from events.web.console import _who

    who = await _who(request, conn)
    event = await catalog.get_event(conn, who.actor, request.path_params["event_id"])
    await catalog.load_for(conn, who.actor, event.id, "manage")
    return who, event


def _values(event: EventOut) -> dict[str, str]:
    """Every box of the editor, filled from the stored translations."""
    values: dict[str, str] = {}

    def put(prefix: str, translations: Any, fields: tuple[str, ...]) -> None:
        raw = tr.stored(translations)
        for lang, _ in COLUMNS:
            for field in fields:
                head, _, tail = field.partition(".")
                value = raw.get(lang, {}).get(head)
                if tail:
                    value = (value or {}).get(tail)
                if isinstance(value, list):
                    value = "\n".join(value)
                values[f"{prefix}.{lang}.{field}"] = value or ""

    put("event", event.translations, EVENT_FIELDS)
    for s in event.sessions:
        put(f"session.{s.id}", s.translations, SESSION_FIELDS)
    for q in event.questions:
        put(f"question.{q.id}", q.translations, QUESTION_FIELDS)
    return values


def _show(
    request: Request, who: Any, event: EventOut, values: dict[str, str], **extra: Any
) -> Response:
    context = {
        "who": who,
        "event": event,
        "values": values,
        "columns": COLUMNS,
        "labels": LABELS,
        "event_fields": EVENT_FIELDS,
        "session_fields": SESSION_FIELDS,
        "question_fields": QUESTION_FIELDS,
        "errors": extra.get("errors", []),
        "saved": request.query_params.get("saved") == "1",
    }
    status = 422 if context["errors"] else 200
    return render(request, "console/translations.html", context, status=status, private=True)


async def page(request: Request) -> Response:
    async with connection(request) as conn:
        who, event = await _load(request, conn)
    return _show(request, who, event, _values(event))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else ""


def _collect(form: FormData, prefix: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """The translations of one object from its boxes (empty boxes left out)."""
    out: dict[str, Any] = {}
    for lang, _ in COLUMNS:
        one: dict[str, Any] = {}
        for field in fields:
            text = _text(form, f"{prefix}.{lang}.{field}")
            if not text:
                continue
            head, _, tail = field.partition(".")
            if tail:
                one.setdefault(head, {"name": ""})[tail] = text
            elif field == "options":
                one[field] = [line.strip() for line in text.split("\n") if line.strip()]
            else:
                one[field] = text
        if one:
            out[lang] = one
    return out


def _questions(event: EventOut, form: FormData) -> list[Question]:
    out = []
    for q in event.questions:
        raw = _collect(form, f"question.{q.id}", QUESTION_FIELDS)
        translations = msgspec.convert(raw, tr.QuestionTranslations)
        out.append(msgspec.structs.replace(q, translations=translations))
    return out


async def save(request: Request) -> Response:
    form = await form_of(request)
    try:
        async with connection(request, write=True) as conn:
            who, event = await _load(request, conn)
            await _save(conn, who, event, form, request)
    except (InvalidInput, msgspec.ValidationError) as exc:
        async with connection(request) as conn:
            who, event = await _load(request, conn)
        fields = [e["field"] for e in exc.extra["errors"]] if isinstance(exc, InvalidInput) else []
        errors = sorted(
            {OPTIONS_ERROR if f.endswith(".options") else OTHER_ERROR for f in fields}
            or {OTHER_ERROR}
        )
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return _show(request, who, event, values, errors=errors)
    return redirect(request, f"/console/events/{event.id}/translations?saved=1")


async def _save(
    conn: Connection, who: Any, event: EventOut, form: FormData, request: Request
) -> None:
    when = now(request)
    translations = msgspec.convert(_collect(form, "event", EVENT_FIELDS), tr.EventTranslations)
    patch = EventPatch(translations=translations, questions=_questions(event, form))
    await catalog.patch_event(conn, who.actor, event.id, patch, when)
    for s in event.sessions:
        raw = _collect(form, f"session.{s.id}", SESSION_FIELDS)
        if raw != tr.stored(s.translations):
            session_patch = SessionPatch(translations=msgspec.convert(raw, tr.SessionTranslations))
            await catalog.patch_session(conn, who.actor, event.id, s.id, session_patch, when)
