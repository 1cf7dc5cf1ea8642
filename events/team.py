"""A partner's team: the people who sign in to its console. Any member may add another
(with a first password, at least 10 characters, to hand over) or disable one other than
themselves; a disabled member's sessions end at once and their email cannot sign in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from events import accounts
from events.errors import InvalidState, NotFound
from events.hosting import Actor, require_partner
from events.queries import Connection
from events.queries import team as q


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    email: str
    created_at: datetime
    disabled_at: datetime | None


async def members(conn: Connection, actor: Actor) -> list[Member]:
    partner = require_partner(actor)
    assert partner.partner_id is not None
    return [
        Member(str(r["id"]), r["email"], r["created_at"], r["disabled_at"])
        for r in await q.members(conn, partner.partner_id)
    ]


async def add(conn: Connection, actor: Actor, email: str, password: str) -> accounts.UserCreated:
    partner = require_partner(actor)
    assert partner.partner_slug is not None
    return await accounts.create_user(conn, partner.partner_slug, email, password)


async def disable(
    conn: Connection, actor: Actor, user_id: UUID, *, own_email: str, now: datetime
) -> None:
    partner = require_partner(actor)
    assert partner.partner_id is not None
    mine = {m.id: m for m in await members(conn, actor)}
    found = mine.get(str(user_id))
    if found is None:
        raise NotFound("No such member")
    if found.email.lower() == own_email.lower():
        raise InvalidState("You cannot disable yourself")
    await q.disable(conn, user_id, partner.partner_id, now)
