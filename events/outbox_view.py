"""What the outbox holds, for operators without SMTP: `python -m events mail list | show ID`.

Each mail is composed again from its row, as the worker composes it (mails are made from the
current state when they are sent, so the outbox keeps the row, not the text); a mail no
longer true is shown with the reason it was or would be superseded.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from events import letters
from events.queries import Connection
from events.queries import letters as q
from events.settings import Settings

HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID")


async def listing(
    conn: Connection, settings: Settings, now: datetime, *, status: str | None, limit: int
) -> list[str]:
    """One line per mail, newest first: id, queued at, status, kind, to, subject."""
    lines = ["id\tqueued\tstatus\tkind\tto\tsubject"]
    for job in await q.outbox_rows(conn, status=status, limit=limit):
        composed = await letters.compose(conn, job, settings, now, force=True)
        subject = composed.message["Subject"] if composed.message else ""
        when = job["created_at"].isoformat(timespec="seconds")
        lines.append(
            f"{job['id']}\t{when}\t{job['status']}\t{job['kind']}\t{job['email']}\t{subject}"
        )
    return lines


async def show(conn: Connection, settings: Settings, now: datetime, mail_id: int) -> str | None:
    """The mail as it is (or would be) sent: headers, its text, its attachments."""
    job = await q.outbox_row(conn, mail_id)
    if job is None:
        return None
    composed = await letters.compose(conn, job, settings, now, force=True)
    stale = await letters.compose(conn, job, settings, now)
    message = composed.message
    assert message is not None
    lines = [f"{name}: {message[name]}" for name in HEADERS if message[name] is not None]
    state = f"Status: {job['status']} (attempts {job['attempts']})"
    if job["last_error"]:
        state += f"; last error: {job['last_error']}"
    if stale.message is None and job["status"] == "pending":
        state += f"; would be superseded: {stale.reason}"
    lines += [state, "", _text(message)]
    attached = [
        f"  {part.get_filename() or '(inline)'} ({part.get_content_type()})"
        for part in message.walk()
        if part.get_content_type() in ("image/png", "application/ics", "text/calendar")
    ]
    if attached:
        lines += ["Attachments:", *attached]
    return "\n".join(lines)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""
