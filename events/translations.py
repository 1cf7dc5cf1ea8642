"""Event content in three languages: the `translations` of events, sessions and questions,
and the one resolver every reader's view goes through.

A translation holds any of an object's text fields in one language:
  events     {"zh-Hant": {"title", "description", "venue": {"name", "address"}}, …}
  sessions   {"zh-Hans": {"title", "room"}, …}
  questions  {"en": {"label", "options": [same count and order as the question's]}, …}
The untranslated fields stay the object's own (written in whatever language the host wrote).

`resolve` picks the text a reader sees: the requested language, else its sibling script
(zh-Hant ↔ zh-Hans), else the untranslated field. The result is a `Shown` string that knows
the language it is in, so pages can mark text in another language than their own with
`lang` (the untranslated field's language is guessed from its script: no Han characters is
English; Han characters that OpenCC would change to Simplified are Traditional, and so on).

Pure: no I/O, no wire types beyond the msgspec structs the API declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from events import names
from events.errors import FieldError

Lang = Literal["en", "zh-Hant", "zh-Hans"]
LANGS: tuple[Lang, ...] = ("en", "zh-Hant", "zh-Hans")
SIBLING: dict[str, str] = {"zh-Hant": "zh-Hans", "zh-Hans": "zh-Hant"}
Short = Annotated[str, Meta(min_length=1, max_length=200)]


class VenueText(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=200)]
    address: Annotated[str, Meta(max_length=500)] = ""


class EventText(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Short | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=20_000)] | UnsetType = UNSET
    venue: VenueText | UnsetType = UNSET


class SessionText(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Short | UnsetType = UNSET
    room: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET


class QuestionText(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    label: Annotated[str, Meta(min_length=1, max_length=300)] | UnsetType = UNSET
    options: list[Annotated[str, Meta(min_length=1, max_length=200)]] | UnsetType = UNSET


class EventTranslations(
    msgspec.Struct,
    forbid_unknown_fields=True,
    omit_defaults=True,
    rename={"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"},
):
    """Per language (`en`, `zh-Hant`, `zh-Hans`); any other key is refused."""

    en: EventText | UnsetType = UNSET
    zh_Hant: EventText | UnsetType = UNSET
    zh_Hans: EventText | UnsetType = UNSET


class SessionTranslations(
    msgspec.Struct,
    forbid_unknown_fields=True,
    omit_defaults=True,
    rename={"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"},
):
    en: SessionText | UnsetType = UNSET
    zh_Hant: SessionText | UnsetType = UNSET
    zh_Hans: SessionText | UnsetType = UNSET


class QuestionTranslations(
    msgspec.Struct,
    forbid_unknown_fields=True,
    omit_defaults=True,
    rename={"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"},
):
    en: QuestionText | UnsetType = UNSET
    zh_Hant: QuestionText | UnsetType = UNSET
    zh_Hans: QuestionText | UnsetType = UNSET


Translations = Mapping[str, Mapping[str, Any]]


def stored(value: msgspec.Struct | UnsetType | None) -> dict[str, Any]:
    """Translations as kept in jsonb: {"zh-Hant": {...}} without empty languages."""
    if value is None or value is UNSET:
        return {}
    raw: dict[str, Any] = msgspec.to_builtins(value)
    return {lang: fields for lang, fields in raw.items() if fields}


def question_stored(question: dict[str, Any]) -> dict[str, Any]:
    """A question as kept in jsonb: its translations without empty languages, or none."""
    kept = {lang: fields for lang, fields in question.get("translations", {}).items() if fields}
    out = {k: v for k, v in question.items() if k != "translations"}
    return {**out, "translations": kept} if kept else out


def option_errors(question: Any, where: str) -> list[FieldError]:
    """Translated options whose count differs from the question's."""
    errors = []
    count = len(question.options)
    for lang, fields in stored(question.translations).items():
        translated = fields.get("options")
        if translated is not None and len(translated) != count:
            errors.append(
                FieldError(
                    f"{where}.translations.{lang}.options",
                    f"must have the question's {count} options, in the same order",
                )
            )
    return errors


# --- the resolver ----------------------------------------------------------------------------


class Shown(str):
    """A piece of content as a reader sees it, with the language it is written in
    (`lang`: en, zh-Hant, zh-Hans, or "zh" for Chinese that is the same in both scripts)."""

    lang: str

    def __new__(cls, text: str, lang: str) -> Shown:
        shown = super().__new__(cls, text)
        shown.lang = lang
        return shown


def order(lang: str) -> tuple[str, ...]:
    """The languages tried for a reader of `lang`, before the untranslated field."""
    sibling = SIBLING.get(lang)
    return (lang, sibling) if sibling else (lang,)


def pick(translations: Translations | None, field: str, lang: str) -> tuple[Any, str] | None:
    """The translated value of `field` for a reader of `lang` and its language, or None."""
    for candidate in order(lang):
        value = (translations or {}).get(candidate, {}).get(field)
        if value not in (None, "", []):
            return value, candidate
    return None


def resolve(untranslated: str, translations: Translations | None, field: str, lang: str) -> Shown:
    """The text of `field` for a reader of `lang`: requested language → sibling script →
    the untranslated field."""
    found = pick(translations, field, lang)
    if found is not None and isinstance(found[0], str):
        return Shown(found[0], found[1])
    return Shown(untranslated, guess_lang(untranslated, lang))


def guess_lang(text: str, reader: str) -> str:
    """The language of untranslated text, from its script. Text in no particular script
    (digits, a room number) is taken to be in the reader's language, and so is Chinese
    that is written the same in both scripts when the reader reads Chinese."""
    if not names.has_han(text):
        return "en" if any(c.isalpha() for c in text) else reader
    script = names.script(text)
    if script == "zh" and reader in SIBLING:
        return reader
    return script


def differs(shown: str, page_lang: str) -> bool:
    """Whether text shown on a page of `page_lang` needs its own `lang` attribute."""
    lang = getattr(shown, "lang", page_lang)
    return not (lang == page_lang or (lang == "zh" and page_lang in SIBLING))


# --- views of rows, in one language ----------------------------------------------------------


def event_fields(e: Mapping[str, Any], lang: str) -> dict[str, Shown]:
    """title, description, venue_name, venue_address of an event row for a reader of `lang`."""
    tr = e.get("translations") or {}
    venue = pick(tr, "venue", lang)
    if venue is not None:
        name = Shown(venue[0].get("name", ""), venue[1])
        address = Shown(venue[0].get("address", ""), venue[1])
    else:
        name = resolve(e["venue_name"] or "", None, "venue", lang)
        address = resolve(e["venue_address"] or "", None, "venue", lang)
    return {
        "title": resolve(e["title"], tr, "title", lang),
        "description": resolve(e["description"] or "", tr, "description", lang),
        "venue_name": name,
        "venue_address": address,
    }


def session_fields(s: Mapping[str, Any], lang: str) -> dict[str, Shown | None]:
    tr = s.get("translations") or {}
    room = s.get("room")
    return {
        "title": resolve(s["title"], tr, "title", lang),
        "room": None
        if room is None and pick(tr, "room", lang) is None
        else resolve(room or "", tr, "room", lang),
    }


def question_fields(q: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """label and options (the translated options, else the question's own)."""
    tr = q.get("translations") or {}
    options = q.get("options") or []
    found = pick(tr, "options", lang)
    shown = (
        [Shown(o, found[1]) for o in found[0]]
        if found is not None and len(found[0]) == len(options)
        else [resolve(o, None, "options", lang) for o in options]
    )
    return {"label": resolve(q["label"], tr, "label", lang), "options": shown}


def localize_row(r: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A row of queries.ical (event columns and its `sessions` JSON) in one language, for
    calendar files and mails."""
    out = dict(r)
    out.update(event_fields(r, lang))
    out["sessions"] = [{**s, **session_fields(s, lang)} for s in r.get("sessions") or []]
    return out
