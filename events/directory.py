"""The directory of partners, so a host invites a co-host by its organisation's name."""

from __future__ import annotations

import msgspec

from events.errors import InvalidInput
from events.queries import Connection
from events.queries import directory as q

LIMIT = 1000


class Listed(msgspec.Struct):
    slug: str
    name: str


async def partners(conn: Connection) -> list[Listed]:
    return [Listed(r["slug"], r["name"]) for r in await q.partners(conn, LIMIT)]


async def resolve(conn: Connection, text: str) -> str:
    """The slug of the partner named `text` (its name, any case, or its slug)."""
    cleaned = " ".join(text.split())[:200]
    found = await q.by_name_or_slug(conn, cleaned) if cleaned else []
    if not found:
        raise InvalidInput.one("partner", "no partner has this name")
    return str(found[0]["slug"])
