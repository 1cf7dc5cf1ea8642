"""Events as a reader of one language sees them on a page.

`localize(event, lang)` wraps an EventOut: title, description, venue, sessions and questions
come through the resolver (events/translations.py), everything else is the event's own.
Each text is a `Shown` string that knows its language; the `lang_attr` filter writes
` lang="…"` on an element whose text is in another language than the page's.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from events import names
from events import translations as tr
from events.catalog import EventOut, Question, SessionOut


class View:
    """An object with some attributes replaced (the rest read through to the original)."""

    def __init__(self, original: Any, **replaced: Any) -> None:
        self._original = original
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def _raw(value: Any) -> dict[str, Any]:
    return tr.stored(value)


def localize_session(s: SessionOut, lang: str) -> View:
    shown = tr.session_fields(
        {"title": s.title, "room": s.room, "translations": _raw(s.translations)}, lang
    )
    return View(s, title=shown["title"], room=shown["room"])


def localize_question(q: Question, lang: str) -> View:
    shown = tr.question_fields(
        {"label": q.label, "options": q.options, "translations": _raw(q.translations)}, lang
    )
    # the value sent (and stored) stays the question's own option; the text is the reader's
    choices = list(zip(q.options, shown["options"], strict=True))
    return View(q, label=shown["label"], choices=choices)


def localize(event: EventOut, lang: str) -> View:
    row = {
        "title": event.title,
        "description": event.description,
        "venue_name": event.venue.name if event.venue else "",
        "venue_address": event.venue.address if event.venue else "",
        "translations": _raw(event.translations),
    }
    shown = tr.event_fields(row, lang)
    venue = None
    if event.venue is not None or shown["venue_name"]:
        venue = View(event.venue, name=shown["venue_name"], address=shown["venue_address"])
    return View(
        event,
        title=shown["title"],
        description=shown["description"],
        venue=venue,
        sessions=[localize_session(s, lang) for s in event.sessions],
        questions=[localize_question(q, lang) for q in event.questions],
    )


def matches(event: EventOut, query: str) -> bool:
    """The home page's `?q=`: a piece of the title in any language, or of the venue, with
    full-width/half-width and Traditional/Simplified differences ignored."""
    needle = names.fold(query)
    if not needle:
        return True
    texts = [event.title, event.venue.name if event.venue else ""]
    for fields in _raw(event.translations).values():
        texts += [fields.get("title", ""), (fields.get("venue") or {}).get("name", "")]
    return any(needle in names.fold(text) for text in texts if text)


@pass_context
def lang_attr(context: Context, text: Any) -> Markup:
    """` lang="zh-Hant"` when `text` is in another language than the page's, else nothing."""
    page = context.get("lang", "en")
    if not tr.differs(text, page):
        return Markup("")
    return Markup(' lang="%s"') % escape(getattr(text, "lang", page))
