"""Languages of the pages: English, Traditional Chinese, Simplified Chinese.

The language is the user's choice (`?lang=`, then remembered in a cookie), else the best
match in Accept-Language, else English. Messages are English in the source (`_("Name")`
in templates, `N_("...")` in Python) and translated from Babel catalogues in
`locale/<lang>/LC_MESSAGES/messages.po`, compiled in memory on first use (no .mo files to
keep in step). `scripts/translations` re-extracts the messages and adds new ones to the
catalogues; a test fails while any message is missing or untranslated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# the catalogues and date formats are shared with the mails (events/l10n.py)
from events.l10n import BABEL_LOCALES as BABEL_LOCALES
from events.l10n import CATALOGUES as CATALOGUES
from events.l10n import LANGS as LANGS
from events.l10n import LOCALE_DIR as LOCALE_DIR
from events.l10n import N_ as N_
from events.l10n import Formatter as Formatter
from events.l10n import Lang as Lang
from events.l10n import translations as translations

LANG_NAMES = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
COOKIE = "lang"


def from_tag(tag: str) -> Lang | None:
    """A language tag (zh-TW, zh-Hant-HK, zh_CN, en-GB, zh) → one of ours, or None."""
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = set(parts[1:])
    if rest & {"hant", "tw", "hk", "mo"}:
        return "zh-Hant"
    return "zh-Hans"


def negotiate(chosen: str | None, cookie: str | None, accept_language: str | None) -> Lang:
    for explicit in (chosen, cookie):
        if explicit in LANGS:
            return explicit  # type: ignore[return-value]
    weighted: list[tuple[float, int, str]] = []
    for i, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = item.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, i, tag))
    for quality, _, tag in sorted(weighted):
        found = from_tag(tag)
        if found is not None and quality < 0:
            return found
    return "en"


def update_catalogues() -> None:  # pragma: no cover - a maintainer's tool (scripts/translations)
    """Extract the messages of templates and Python files; add new ones to each catalogue."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    template = extracted()
    for folder in CATALOGUES.values():
        path = LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po)
        else:
            catalog = Catalog(locale=folder)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, include_lineno=False, ignore_obsolete=True)


def extracted() -> Any:
    """The message template: every message of the templates and the web's Python files."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog()
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python"), ("static/**.js", "ignore")]
    options = {"templates/**.html": {"extensions": "", "trimmed": "true"}}
    folder = Path(__file__).parent
    for filename, lineno, message, comments, context in extract_from_dir(
        str(folder), method_map, options, keywords={"_": None, "N_": None}
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    # the mails' words (one set of words for pages and mails)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(folder.parent), [("mail_text.py", "python")], {}, keywords={"_": None, "N_": None}
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template
