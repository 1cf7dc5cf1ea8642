"""Partner users: people who sign in to the web console with an email and a password.

Passwords are hashed with argon2id (argon2-cffi's defaults; verification runs in a thread
so a sign-in does not stall the event loop). A signed-in browser holds a random session
secret in a cookie; only its SHA-256 is stored, like API tokens. A signed-in user acts as
their partner: the console calls the same domain functions as the API with that `Actor`.
Sign-in is rate-limited by the caller (the page), per client address.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2
import msgspec

from events.addresses import NotAnAddress, canonical, is_address
from events.errors import AlreadyExists, InvalidInput, NotFound, Unauthenticated
from events.hosting import Actor, hash_secret
from events.queries import Connection
from events.queries import accounts as q
from events.queries import hosting as hosting_q

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD = 10
_hasher = argon2.PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class UserCreated(msgspec.Struct):
    id: str
    partner: str
    email: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who holds a console session."""

    actor: Actor
    email: str
    partner_name: str


def _check(email: str, password: str) -> None:
    errors = []
    if not is_address(email):
        errors.append(("email", "must be an email address"))
    if len(password) < MIN_PASSWORD:
        errors.append(("password", f"must be at least {MIN_PASSWORD} characters"))
    if errors:
        raise InvalidInput.one(*errors[0])


async def create_user(
    conn: Connection, partner_slug: str, email: str, password: str, *, replace: bool = False
) -> UserCreated:
    """A console user of the partner; `replace` sets a new password for an existing one."""
    email = email.strip()
    _check(email, password)
    email = canonical(email)
    partner = await hosting_q.partner_by_slug(conn, partner_slug)
    if partner is None:
        raise NotFound(f"No partner has the slug {partner_slug!r}")
    hashed = await asyncio.to_thread(_hasher.hash, password)
    created = await q.insert_user(conn, partner["id"], email, hashed)
    if created is None and replace:
        created = await q.set_password(conn, email, hashed)
    if created is None:
        raise AlreadyExists("A user with this email exists already")
    return UserCreated(str(created["id"]), partner_slug, created["email"])


def _canonical_or_as_given(email: str) -> str:
    try:
        return canonical(email)
    except NotAnAddress:
        return email.strip()


async def sign_in(conn: Connection, email: str, password: str, now: datetime) -> str:
    """A new session secret for the cookie; a wrong email or password is one and the same 401."""
    email = _canonical_or_as_given(email)
    user = await q.user_by_email(conn, email) if email else None
    stored = user["password_hash"] if user else _DUMMY_HASH  # same work for unknown emails
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        user = None
    if user is None:
        raise Unauthenticated("Wrong email or password")
    secret = secrets.token_urlsafe(32)
    await q.insert_session(conn, hash_secret(secret), user["id"], now, now + SESSION_LIFETIME)
    return secret


async def purge_expired_sessions(conn: Connection, now: datetime) -> int:
    """Console sessions past their lifetime (a periodic job; they are refused before that)."""
    return await q.delete_expired_sessions(conn, now)


async def session(conn: Connection, secret: str | None, now: datetime) -> SignedIn | None:
    if not secret:
        return None
    found = await q.session_user(conn, hash_secret(secret), now)
    if found is None:
        return None
    actor = Actor(
        "partner",
        partner_id=found["partner_id"],
        partner_slug=found["partner_slug"],
        label=found["email"],
    )
    return SignedIn(actor, found["email"], found["partner_name"])


async def sign_out(conn: Connection, secret: str | None) -> None:
    if secret:
        await q.delete_session(conn, hash_secret(secret))
