"""Mail to partners and their console users: co-host invitations and password-reset links.

Queued in the transaction of the change (table `partner_mail`), sent after commit by the
periodic job `send-partner-mail` (events/jobs.py: one process at a time holds its lock),
through the same SMTP sender as attendees' mail (or the log, without SMTP_URL). A failed
try is retried with the attendee mail's backoff; a permanent refusal, or ten tries, marks
the row failed. Rows are kept for the operator.

Password reset: asking for a link never says whether the email has an account (the page
answers the same either way); the link holds a random secret (only its hash is stored),
works once and for an hour, and setting the new password ends the user's other sessions.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import argon2

from events import accounts, mail
from events.errors import InvalidInput, NotFound
from events.hosting import InvitationOut, hash_secret
from events.queries import Connection
from events.queries import accounts as accounts_q
from events.queries import hosting as hosting_q
from events.queries import partner_mail as q
from events.settings import Settings

RESET_LIFETIME = timedelta(hours=1)
MAX_ATTEMPTS = 10
_hasher = argon2.PasswordHasher()


async def cohost_invited(
    conn: Connection, invitation: InvitationOut, *, console_url: str, now: datetime
) -> int:
    """Tell the invited partner (its address and its console users); returns how many."""
    partner = await hosting_q.partner_by_slug(conn, invitation.partner)
    if partner is None:
        return 0
    subject = f"Invitation to co-host / 合辦邀請 / 合办邀请: {invitation.event_title}"
    body = (
        f"{invitation.invited_by} invites your organisation to co-host “{invitation.event_title}”.\n"
        f"Accept or decline in the console: {console_url}\n\n"
        f"{invitation.invited_by} 邀請貴機構合辦「{invitation.event_title}」。"
        f"請在管理平台接受或拒絕：{console_url}\n\n"
        f"{invitation.invited_by} 邀请贵机构合办“{invitation.event_title}”。"
        f"请在管理平台接受或拒绝：{console_url}\n"
    )
    recipients = await q.partner_recipients(conn, partner["id"])
    for to in recipients:
        await q.insert(conn, "cohost-invitation", to, subject, body, now)
    return len(recipients)


async def request_reset(
    conn: Connection, email: str, *, subject: str, body: str, base_url: str, now: datetime
) -> None:
    """Mail a reset link to the console user of `email`, if there is one (`body` holds
    `{link}`); the same outcome, to the caller, either way."""
    user = await accounts_q.user_by_email(conn, email.strip()) if email.strip() else None
    if user is None:
        return
    secret = secrets.token_urlsafe(32)
    await q.insert_reset(conn, hash_secret(secret), user["id"], now, now + RESET_LIFETIME)
    link = f"{base_url}/console/password-reset/{secret}"
    await q.insert(conn, "password-reset", user["email"], subject, body.format(link=link), now)


async def reset_is_live(conn: Connection, secret: str, now: datetime) -> bool:
    return await q.reset_is_live(conn, hash_secret(secret), now)


async def reset_password(conn: Connection, secret: str, password: str, now: datetime) -> str:
    """Set the new password of the link's user (ending their sessions); returns their email."""
    if len(password) < accounts.MIN_PASSWORD:
        raise InvalidInput.one("password", f"must be at least {accounts.MIN_PASSWORD} characters")
    user = await q.use_reset(conn, hash_secret(secret), now)
    if user is None:
        raise NotFound("This link is not valid any more")
    hashed = await asyncio.to_thread(_hasher.hash, password)
    await q.set_password_of(conn, user["id"], hashed)
    return str(user["email"])


async def send_due(conn: Connection, now: datetime, settings: Settings) -> int:
    """The job: send what is due; returns how many were sent (or logged)."""
    send = mail.smtp_sender(settings.smtp_url) if settings.smtp_url else mail.log_sender
    done = 0
    for row in await q.due(conn, now, 50):
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = row["to_email"]
        message["Subject"] = row["subject"]
        message["Message-ID"] = make_msgid(f"partner-mail.{row['id']}")
        message.set_content(row["body"])
        try:
            await send(message)
        except Exception as exc:  # any failure is recorded and retried
            final = isinstance(exc, mail.Permanent) or row["attempts"] + 1 >= MAX_ATTEMPTS
            await q.retry(
                conn,
                row["id"],
                failed=final,
                error=f"{exc.__class__.__name__}: {exc}",
                next_at=now + mail.backoff(row["attempts"] + 1),
            )
            continue
        await q.finish(conn, row["id"], "sent" if settings.smtp_url else "logged", now)
        done += 1
    return done
