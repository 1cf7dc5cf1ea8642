"""An event's slug: its title in lower-case ASCII words joined by hyphens."""

from __future__ import annotations

import re
import secrets
import unicodedata


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return slug or f"event-{secrets.token_hex(3)}"
