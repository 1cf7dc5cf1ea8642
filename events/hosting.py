"""Partners, their tokens, who hosts an event, and the one permission check `may`.

Tokens are random 256-bit secrets shown once; only their SHA-256 is stored (a slow hash
buys nothing for secrets of this size) and the stored hash is compared in constant time.

Who may do what to an event:

    action          owner  cohost  door token (of this event)  anyone
    read            yes    yes     yes                         published events only
    manage          yes    yes     no                          no
    checkin         yes    yes     yes                         no
    cancel          yes    no      no                          no
    change_hosts    yes    no      no                          no
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from events.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
    Unauthenticated,
)
from events.paging import Items
from events.queries import Connection, Row
from events.queries import hosting as q

Action = Literal["read", "manage", "checkin", "cancel", "change_hosts"]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a partner's token, a door token (bound to one event), or nobody."""

    kind: Literal["anonymous", "partner", "door"]
    partner_id: UUID | None = None
    partner_slug: str | None = None
    event_id: UUID | None = None
    token_id: UUID | None = None
    #: who it is, for the audit log: a console user's email, a door token's label (else "")
    label: str = ""
    session_id: UUID | None = None  # a session door token's session


ANONYMOUS = Actor("anonymous")


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def authenticate(conn: Connection, token: str | None) -> Actor:
    if token is None:
        return ANONYMOUS
    digest = hash_secret(token)
    found = await q.token_actor(conn, digest)
    if found is None or not hmac.compare_digest(found["token_hash"], digest):
        raise Unauthenticated("Unknown or revoked token")
    return Actor(
        kind=found["kind"],
        partner_id=found["partner_id"],
        partner_slug=found["partner_slug"],
        event_id=found["event_id"],
        token_id=found["token_id"],
        label=found["label"] if found["kind"] == "door" else "",
        session_id=found["session_id"],
    )


def role_of(event: Row, actor: Actor) -> str | None:
    if actor.kind != "partner":
        return None
    for partner_id, role in zip(event["host_ids"] or (), event["host_roles"] or (), strict=True):
        if partner_id == actor.partner_id:
            return str(role)
    return None


def may(actor: Actor, action: Action, event: Row) -> bool:
    if actor.kind == "door":
        return actor.event_id == event["id"] and action in ("read", "checkin")
    role = role_of(event, actor)
    if role == "owner":
        return True
    if role == "cohost":
        return action not in ("cancel", "change_hosts")
    return action == "read" and event["status"] != "draft" and event["visibility"] != "private"


def require(actor: Actor, action: Action, event: Row | None) -> Row:
    """The event, if `actor` may do `action` to it; else the error the API contract names.

    No token: 401. A door token (any event) on partner work: 403. A partner that does not
    host the event: 404 for anything but reading a published event (existence not leaked).
    A co-host asking for an owner's action: 403. Anything but reading without a token is a
    401 whether or not the event exists (the answer must not depend on it).
    """
    if actor.kind == "anonymous" and action != "read":
        raise Unauthenticated()
    if event is None:
        raise NotFound("No such event")
    if may(actor, action, event):
        return event
    if actor.kind == "anonymous":
        if event["status"] == "draft" or event["visibility"] == "private":
            raise NotFound("No such event")
        raise Unauthenticated()
    if actor.kind == "door":
        raise Forbidden("A door token may only do check-in work for its own event")
    if role_of(event, actor) is None:
        raise NotFound("No such event")
    raise Forbidden("Only the event's owner may do this")


def require_partner(actor: Actor) -> Actor:
    if actor.kind == "anonymous":
        raise Unauthenticated()
    if actor.kind != "partner":
        raise Forbidden("This needs a partner token")
    return actor


# --- partners and their tokens -------------------------------------------------------------


class PartnerCreated(msgspec.Struct):
    id: str
    slug: str
    name: str
    email: str | None
    token: str


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    label: str = ""


class DoorTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    """A door token; with `session_id` it checks in to that session only (a room door)."""

    label: str = ""
    session_id: str | None = None


class TokenOut(msgspec.Struct, omit_defaults=True):
    id: str
    kind: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    event_id: str | None = None
    session_id: str | None = None
    token: str | None = None


def token_out(record: Row, secret: str | None = None) -> TokenOut:
    return TokenOut(
        id=str(record["id"]),
        kind=record["kind"],
        label=record["label"],
        created_at=record["created_at"],
        revoked_at=record.get("revoked_at"),
        event_id=str(record["event_id"]) if record.get("event_id") else None,
        session_id=str(record["session_id"]) if record.get("session_id") else None,
        token=secret,
    )


async def create_partner(
    conn: Connection, slug: str, name: str, email: str | None
) -> PartnerCreated:
    if not SLUG.match(slug):
        raise InvalidInput.one("slug", "lowercase letters, digits and dashes, 1 to 63 characters")
    if not name.strip():
        raise InvalidInput.one("name", "must not be empty")
    partner = await q.insert_partner(conn, slug, name.strip(), email)
    if partner is None:
        raise AlreadyExists(f"A partner with the slug {slug!r} exists already")
    secret = new_secret("pt")
    await q.insert_token(
        conn, hash_secret(secret), "partner", partner["id"], event_id=None, label="initial"
    )
    return PartnerCreated(str(partner["id"]), slug, partner["name"], email, secret)


async def create_partner_token(conn: Connection, actor: Actor, data: TokenIn) -> TokenOut:
    partner_id = _partner_id(actor)
    secret = new_secret("pt")
    record = await q.insert_token(
        conn, hash_secret(secret), "partner", partner_id, event_id=None, label=data.label
    )
    return token_out(record, secret)


async def list_partner_tokens(conn: Connection, actor: Actor) -> list[TokenOut]:
    return [token_out(r) for r in await q.partner_tokens(conn, _partner_id(actor))]


async def revoke_partner_token(
    conn: Connection, actor: Actor, token_id: UUID, now: datetime
) -> TokenOut:
    record = await q.revoke_token(conn, token_id, _partner_id(actor), kind="partner", now=now)
    if record is None:
        raise NotFound("No such token")
    return token_out(record)


async def create_door_token(
    conn: Connection, event: Row, actor: Actor, data: DoorTokenIn
) -> TokenOut:
    """A token that can only check in, look up and fetch the kit for this one event (with
    `session_id`: check in to that session only)."""
    session_id = None
    if data.session_id is not None:
        session_id = await q.event_session(conn, event["id"], data.session_id)
        if session_id is None:
            raise InvalidInput.one("session_id", "is not a session of this event")
    secret = new_secret("dt")
    record = await q.insert_token(
        conn,
        hash_secret(secret),
        "door",
        _partner_id(actor),
        event_id=event["id"],
        label=data.label,
        session_id=session_id,
    )
    await _log(
        conn,
        actor,
        "door_token.created",
        event["id"],
        ("door_token", record["id"]),
        {"label": [None, data.label]}
        | ({"session_id": [None, str(session_id)]} if session_id else {}),
    )
    return token_out(record, secret)


async def list_door_tokens(conn: Connection, event: Row) -> Items[TokenOut]:
    return Items([token_out(r) for r in await q.event_door_tokens(conn, event["id"])])


async def revoke_door_token(
    conn: Connection, event: Row, token_id: UUID, now: datetime, actor: Actor | None = None
) -> TokenOut:
    record = await q.revoke_door_token(conn, token_id, event["id"], now)
    if record is None:
        raise NotFound("No such door token")
    if actor is not None:
        await _log(
            conn,
            actor,
            "door_token.revoked",
            event["id"],
            ("door_token", token_id),
            {"revoked_at": [None, now.isoformat()]},
        )
    return token_out(record)


def _partner_id(actor: Actor) -> UUID:
    require_partner(actor)
    assert actor.partner_id is not None
    return actor.partner_id


# --- co-hosting ----------------------------------------------------------------------------


class CohostIn(msgspec.Struct, forbid_unknown_fields=True):
    partner: str


class InvitationOut(msgspec.Struct):
    id: str
    event_id: str
    event_title: str
    partner: str
    invited_by: str
    status: str
    created_at: datetime
    answered_at: datetime | None


def invitation_out(record: Row) -> InvitationOut:
    return InvitationOut(
        id=str(record["id"]),
        event_id=str(record["event_id"]),
        event_title=record["event_title"],
        partner=record["partner"],
        invited_by=record["invited_by"],
        status=record["status"],
        created_at=record["created_at"],
        answered_at=record["answered_at"],
    )


async def invite_cohost(
    conn: Connection, event: Row, actor: Actor, data: CohostIn
) -> InvitationOut:
    if event["status"] == "cancelled":
        raise InvalidState("The event is cancelled")
    partner = await q.partner_by_slug(conn, data.partner)
    if partner is None:
        raise InvalidInput.one("partner", "no partner has this slug")
    if partner["id"] in (event["host_ids"] or ()):
        raise AlreadyExists("This partner hosts the event already")
    created = await q.insert_invitation(conn, event["id"], partner["id"], _partner_id(actor))
    if created is None:
        raise AlreadyExists("This partner has a pending invitation already")
    found = await q.invitation(conn, created["id"])
    assert found is not None
    await _log(
        conn,
        actor,
        "cohost.invited",
        event["id"],
        ("partner", partner["id"]),
        {"partner": [None, data.partner]},
    )
    return invitation_out(found)


async def list_invitations(conn: Connection, actor: Actor) -> list[InvitationOut]:
    return [invitation_out(r) for r in await q.pending_invitations(conn, _partner_id(actor))]


async def list_event_invitations(conn: Connection, event: Row) -> list[InvitationOut]:
    return [invitation_out(r) for r in await q.event_invitations(conn, event["id"])]


async def answer_invitation(
    conn: Connection, actor: Actor, invitation_id: UUID, *, accept: bool, now: datetime
) -> InvitationOut:
    partner_id = _partner_id(actor)
    found = await q.invitation(conn, invitation_id)
    if found is None or found["partner_id"] != partner_id:
        raise NotFound("No such invitation")
    if found["status"] != "pending":
        raise InvalidState(f"The invitation is {found['status']} already")
    status = "accepted" if accept else "declined"
    if not await q.answer_invitation(conn, invitation_id, partner_id, status=status, now=now):
        raise InvalidState("The invitation was answered already")
    if accept:
        await q.insert_host(conn, found["event_id"], partner_id, "cohost")
    slug = {"partner": [None, actor.partner_slug]}
    for action in ("cohost.accepted", "cohost.added") if accept else ("cohost.declined",):
        await _log(conn, actor, action, found["event_id"], ("partner", partner_id), slug)
    answered = await q.invitation(conn, invitation_id)
    assert answered is not None
    return invitation_out(answered)


async def remove_cohost(
    conn: Connection, event: Row, slug: str, actor: Actor | None = None
) -> None:
    partner = await q.partner_by_slug(conn, slug)
    if partner is None or not await q.delete_cohost(conn, event["id"], partner["id"]):
        raise NotFound("This partner is not a co-host of the event")
    if actor is not None:
        await _log(
            conn,
            actor,
            "cohost.removed",
            event["id"],
            ("partner", partner["id"]),
            {"partner": [slug, None]},
        )


async def _log(
    conn: Connection,
    actor: Actor,
    action: str,
    event_id: UUID,
    subject: tuple[str, Any],
    changes: dict[str, Any],
) -> None:
    from events import audit  # audit imports this module (Actor)

    await audit.record(conn, actor, action, subject, changes, event_id=event_id)
