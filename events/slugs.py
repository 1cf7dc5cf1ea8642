"""An event's visibility (who may find it by its URL) and an unlisted event's slug.

A public event's slug is its title's; an unlisted event's ends with 64 random bits, so its
page is found only by those given the link.
"""

from __future__ import annotations

import secrets
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


def unguessable(slug: str) -> str:
    """An unlisted event's slug: its title's, and 64 random bits."""
    return f"{slug[:40].strip('-')}-{secrets.token_hex(8)}"
