"""The languages and their catalogues, for pages and mails alike (one set of words).

The catalogues live with the pages (`web/locale/<lang>/LC_MESSAGES/messages.po`) and are
compiled in memory on first use; web/i18n.py negotiates a page's language and extracts the
messages of the pages and of the mails (mail_text.py) into them.
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Lang = Literal["en", "zh-Hant", "zh-Hans"]
LANGS: tuple[Lang, ...] = ("en", "zh-Hant", "zh-Hans")
#: the catalogue folder and the Babel locale (for dates) of each language
CATALOGUES = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans"}
BABEL_LOCALES = {"en": "en_GB", "zh-Hant": "zh_Hant_HK", "zh-Hans": "zh_Hans_CN"}
LOCALE_DIR = Path(__file__).parent / "web" / "locale"


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


def lang_or_english(value: str | None) -> Lang:
    return value if value in LANGS else "en"  # type: ignore[return-value]


@cache
def translations(lang: Lang) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    path = LOCALE_DIR / CATALOGUES[lang] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class Formatter:
    """Dates and times of an event, in its own zone, written the way each language writes them."""

    def __init__(self, lang: Lang) -> None:
        self.locale = Locale.parse(BABEL_LOCALES[lang])

    def date(self, value: datetime, zone: str) -> str:
        return str(format_date(value.astimezone(ZoneInfo(zone)), "full", locale=self.locale))

    def short_date(self, value: datetime, zone: str) -> str:
        return str(format_date(value.astimezone(ZoneInfo(zone)), "medium", locale=self.locale))

    def time(self, value: datetime, zone: str) -> str:
        return str(format_time(value, "HH:mm", tzinfo=ZoneInfo(zone), locale=self.locale))

    def span(self, start: datetime, end: datetime, zone: str) -> str:
        """'Thursday, 20 May 2027, 09:00–18:00'; a second date when it ends on another day."""
        first = f"{self.date(start, zone)} {self.time(start, zone)}"
        if start.astimezone(ZoneInfo(zone)).date() == end.astimezone(ZoneInfo(zone)).date():
            return f"{first}–{self.time(end, zone)}"
        return f"{first} – {self.date(end, zone)} {self.time(end, zone)}"
