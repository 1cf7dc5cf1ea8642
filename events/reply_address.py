"""A reply address per registration, for the ORGANIZER of its calendar invites.

`EVENTS_REPLY_ADDRESS` plus-addressed with a token that names the registration and proves it:
`events-reply+<token>@example.org`, where the token is the registration id (16 bytes) and an
HMAC of it under the server secret "reply" (80 bits), both base32 in lower case: 42
characters (relays may fold the case of a local part; 13 + 1 + 42 stays under the 64 a local
part may have). Nobody can make the address of another registration, and nothing is stored
to find one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID

from events import keys
from events.queries import Connection

TOKEN_LENGTH = 42


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _mac(secret: bytes, registration_id: UUID) -> bytes:
    return hmac.new(secret, b"reply:" + registration_id.bytes, hashlib.sha256).digest()[:10]


def make_address(base: str, secret: bytes, registration_id: UUID) -> str:
    local, _, domain = base.rpartition("@")
    token = _b32(registration_id.bytes) + _b32(_mac(secret, registration_id))
    return f"{local}+{token}@{domain}"


def registration_of(base: str, secret: bytes, address: str) -> UUID | None:
    """The registration whose reply address this is, or None (not ours, or forged)."""
    local, _, domain = address.strip().lower().rpartition("@")
    base_local, _, base_domain = base.lower().rpartition("@")
    prefix = base_local + "+"
    if domain != base_domain or not local.startswith(prefix):
        return None
    token = local[len(prefix) :]
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw_id = base64.b32decode(token[:26].upper() + "======")
        raw_mac = base64.b32decode(token[26:].upper())
    except ValueError:
        return None
    if _b32(raw_id) + _b32(raw_mac) != token:  # one canonical spelling: no spare bits altered
        return None
    registration_id = UUID(bytes=raw_id)
    if not hmac.compare_digest(raw_mac, _mac(secret, registration_id)):
        return None
    return registration_id


async def address_for(conn: Connection, base: str | None, registration_id: UUID) -> str | None:
    """The reply address to put in this registration's invites (None: no EVENTS_REPLY_ADDRESS)."""
    if not base:
        return None
    return make_address(base, await keys.server_secret(conn, "reply"), registration_id)
