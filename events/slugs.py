"""An event's slug and visibility (who may find it by its URL).

A slug is the title in lower-case ASCII words joined by hyphens.

A public event's slug is its title's; an unlisted event's ends with 64 random bits, so its
page is found only by those given the link.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Annotated, Literal

from msgspec import Meta

Visibility = Annotated[
    Literal["public", "unlisted", "private"],
    Meta(
        description=(
            "`public`: listed (home page, GET /api/v1/events) and open to all."
            " `unlisted`: not listed; its slug ends with an unguessable part, so its page is"
            " found only by those given the link (the slug changes when an event becomes"
            " unlisted). `private`: its hosts only; to everyone else its page, calendar,"
            " public API and registration answer 404."
        )
    ),
]


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return slug or f"event-{secrets.token_hex(3)}"


def unguessable(slug: str) -> str:
    """An unlisted event's slug: its title's, and 64 random bits."""
    return f"{slug[:40].strip('-')}-{secrets.token_hex(8)}"
