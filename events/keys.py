"""Server secrets shared by every process: made once, kept in PostgreSQL, cached here.

Keeping them in the database (not in a file beside one process) is what lets several
worker processes, or several machines, derive the same attendee links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from events.queries import Connection
from events.queries import registration as q

_cache: dict[str, bytes] = {}


async def server_secret(conn: Connection, name: str) -> bytes:
    found = _cache.get(name)
    if found is None:
        found = _cache[name] = await q.secret(conn, name, secrets.token_bytes(32))
    return found


def derive(secret: bytes, purpose: str, subject: str, length: int = 24) -> str:
    """An unguessable, stable token for `subject` (e.g. a registration id), URL-safe."""
    digest = hmac.new(secret, f"{purpose}:{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:length]).decode().rstrip("=")


def matches(secret: bytes, purpose: str, subject: str, token: str) -> bool:
    return hmac.compare_digest(derive(secret, purpose, subject).encode(), token.encode())


def forget() -> None:
    """Tests that recreate the database call this."""
    _cache.clear()
