"""What every mail says and its one layout, in the reader's language.

The words are English in the source, marked with N_() and translated from the same gettext
catalogues as the pages (`scripts/translations` extracts them from this file). A mail is a
`Letter`; its `topic` names a `Kind` in KINDS: the subject, the first paragraph, and what the
mail carries (the ticket link, the QR code). Adding a kind of mail is one entry here (and a
reason to queue it). `plain()` and `rich()` lay any letter out the same way: a text part
and one HTML layout. HTML is escaped here, in one place. Times are written as on the pages.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

from events.l10n import LANGS, N_, Formatter, Lang, translations

LOCALES = LANGS


@dataclass(frozen=True, slots=True)
class Kind:
    subject: str  # %(title)s, %(subject)s
    intro: str  # %(name)s, %(title)s, %(position)s, %(when)s, %(organizer)s
    ticket: bool = True  # the link to the ticket page
    qr: bool = False  # the QR code inline, while the registration is confirmed
    link: str = "ticket"  # the label (a key of LABELS) of the link to `ticket_url`
    sessions: str = "sessions"  # the label (a key of LABELS) of the list of sessions


KINDS: dict[str, Kind] = {
    "confirmation": Kind(
        N_("Registered: %(title)s"),
        N_(
            "Dear %(name)s, you are registered for %(title)s. Show the QR ticket below at the door."
        ),
        qr=True,
    ),
    "waitlisted": Kind(
        N_("On the waitlist: %(title)s"),
        N_(
            "Dear %(name)s, %(title)s is full for now. You are number %(position)s on the"
            " waitlist; we will write again as soon as a seat is yours."
        ),
    ),
    "promotion": Kind(
        N_("A seat is yours: %(title)s"),
        N_(
            "Good news, %(name)s: a seat became free and your registration for %(title)s is"
            " now confirmed. Show the QR ticket below at the door."
        ),
        qr=True,
    ),
    "update": Kind(
        N_("Changed: %(title)s"),
        N_("Dear %(name)s, the host has changed %(title)s. The details below are current."),
    ),
    "event-cancelled": Kind(
        N_("Cancelled: %(title)s"),
        N_("Dear %(name)s, we are sorry: %(title)s has been cancelled."),
        ticket=False,
    ),
    "registration-cancelled": Kind(
        N_("Registration cancelled: %(title)s"),
        N_("Dear %(name)s, your registration for %(title)s is cancelled."),
        ticket=False,
    ),
    "resend": Kind(
        N_("Your link: %(title)s"),
        N_("Dear %(name)s, here is the link to your registration for %(title)s, as asked."),
        qr=True,
    ),
    "reminder": Kind(
        N_("Reminder: %(title)s"),
        N_("Dear %(name)s, a reminder: %(title)s begins %(when)s."),
        qr=True,
    ),
    "message": Kind(
        N_("%(subject)s · %(title)s"),
        N_("Dear %(name)s, a message from %(organizer)s about %(title)s:"),
    ),
    "edited": Kind(
        N_("Your registration changed: %(title)s"),
        N_(
            "Dear %(name)s, your registration for %(title)s has changed."
            " The details below are current."
        ),
        qr=True,  # after switching into the room, the new ticket
    ),
    # approval and invitations (approval.py, guests.py)
    "pending": Kind(
        N_("Under review: %(title)s"),
        N_(
            "Dear %(name)s, thank you for applying for %(title)s. Your registration is under"
            " review; we will write again as soon as the host has decided."
        ),
    ),
    "approved": Kind(
        N_("Approved: %(title)s"),
        N_(
            "Dear %(name)s, your registration for %(title)s is approved and confirmed."
            " Show the QR ticket below at the door."
        ),
        qr=True,
    ),
    "sessions-withdrawn": Kind(
        N_("Sessions removed: %(title)s"),
        N_(
            "Dear %(name)s, the sessions below are no longer part of your registration for"
            " %(title)s. Your place at the event is unchanged."
        ),
        sessions="withdrawn",
    ),
    "rejected": Kind(
        N_("Not approved: %(title)s"),
        N_("Dear %(name)s, we are sorry: your registration for %(title)s was not approved."),
        ticket=False,
    ),
    "guest-invitation": Kind(
        N_("You are invited: %(title)s"),
        N_(
            "Dear %(name)s, you are invited to %(title)s. Register with your personal link"
            " below (it is for you alone)."
        ),
        link="invitation",
    ),
}

LABELS = {
    "when": N_("When"),
    "where": N_("Where"),
    "title": N_("Title"),
    "sessions": N_("Your sessions"),
    "withdrawn": N_("Removed sessions"),
    "ticket": N_("Your ticket"),
    "invitation": N_("Your personal invitation"),
    "join": N_("Join online (your personal link, do not share it)"),
    "google": N_("Add to Google Calendar"),
    "outlook": N_("Add to Outlook"),
    "feed": N_("All your events, as a calendar to subscribe to"),
    "qr": N_("QR ticket"),
    "changed": N_("What changed"),
    "reason": N_("The host says:"),
    "waitlist": N_("You are number %(position)s on the waitlist."),
    "footer": N_("This message was sent because you registered for this event."),
    "REQUEST": N_("The attached invite puts it in your calendar and keeps it up to date."),
    "CANCEL": N_("The attached update removes it from your calendar."),
    "CANCEL-SESSIONS": N_("The attached update removes them from your calendar."),
}


@dataclass(slots=True)
class Change:
    what: str  # a key of LABELS: title, when, where
    old: str
    new: str


@dataclass(slots=True)
class Letter:
    """What one mail says; `topic` is a key of KINDS."""

    topic: str
    locale: Lang
    name: str
    title: str
    when: str
    where: str
    ticket_url: str
    feed_url: str
    organizer: str = ""
    google_url: str | None = None
    outlook_url: str | None = None
    position: int | None = None
    sessions: list[str] = field(default_factory=list)
    qr_cid: str | None = None  # the inline QR image's Content-ID, without <>
    invite_method: str | None = None  # REQUEST or CANCEL when an invite is attached
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None  # the host's words (a cancelled event)
    subject_text: str = ""  # a host's message: its subject
    body: str = ""  # a host's message: its text
    join_url: str | None = None  # an online attendee's personal join link (never the host's)
    instructions: str = ""  # the host's instructions for joining online

    @property
    def kind(self) -> Kind:
        return KINDS[self.topic]

    def _(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def word(self, key: str) -> str:
        text = self._(LABELS[key])
        return text % {"position": self.position} if "%(" in text else text

    def _values(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "position": self.position or "",
            "when": self.when,
            "organizer": self.organizer,
            "subject": self.subject_text,
        }

    @property
    def subject(self) -> str:
        return self._(self.kind.subject) % self._values()

    @property
    def intro(self) -> str:
        text = self._(self.kind.intro) % self._values()
        if self.invite_method:
            text += (" " if self.locale == "en" else "") + self.word(self.invite_method)
        return text

    def facts(self) -> list[tuple[str, str]]:
        rows = [(self.word("when"), self.when)]
        if self.where:
            rows.append((self.word("where"), self.where))
        return rows

    def show_ticket(self) -> bool:
        return self.kind.ticket


def when(starts_at: datetime, ends_at: datetime, zone: str, locale: Lang) -> str:
    """The time as the pages write it: 'Thursday, 20 May 2027 09:00–18:00 (time in Asia/…)'."""
    span = Formatter(locale).span(starts_at, ends_at, zone)
    return f"{span} ({translations(locale).gettext('time in %(zone)s') % {'zone': zone}})"


def plain(letter: Letter) -> str:
    lines = [letter.intro, ""]
    if letter.body:
        lines += [letter.body, ""]
    if letter.reason:
        lines += [f"{letter.word('reason')} {letter.reason}", ""]
    if letter.changes:
        lines.append(letter.word("changed") + ":")
        for c in letter.changes:
            lines += [f"  {letter.word(c.what)}: {c.old}", f"    → {c.new}"]
        lines.append("")
    lines += [f"{label}: {value}" for label, value in letter.facts()]
    if letter.position and letter.topic != "waitlisted":
        lines.append(letter.word("waitlist"))
    if letter.sessions:
        lines += [f"{letter.word(letter.kind.sessions)}:", *(f"  - {s}" for s in letter.sessions)]
    if letter.join_url:
        lines += ["", f"{letter.word('join')}: {letter.join_url}"]
        lines += [letter.instructions] if letter.instructions else []
    if letter.show_ticket():
        lines += ["", f"{letter.word(letter.kind.link)}: {letter.ticket_url}"]
    if letter.google_url and letter.outlook_url:
        lines += [
            f"{letter.word('google')}: {letter.google_url}",
            f"{letter.word('outlook')}: {letter.outlook_url}",
        ]
    if letter.show_ticket() and letter.feed_url:
        lines.append(f"{letter.word('feed')}: {letter.feed_url}")
    lines += ["", "-- ", letter.word("footer")]
    return "\n".join(lines) + "\n"


def rich(letter: Letter) -> str:
    """The one HTML layout: a narrow card, the event's title on top, a button to the ticket."""
    e = html.escape
    w = letter.word
    parts = [f"<p>{e(letter.intro)}</p>"]
    if letter.body:
        parts += [f"<p>{e(p)}</p>".replace("\n", "<br>") for p in letter.body.split("\n\n")]
    if letter.reason:
        parts.append(f"<blockquote>{e(w('reason'))} {e(letter.reason)}</blockquote>")
    if letter.changes:
        changed = "".join(
            f"<tr><th align='left'>{e(w(c.what))}</th><td><del>{e(c.old)}</del>"
            f" → <ins>{e(c.new)}</ins></td></tr>"
            for c in letter.changes
        )
        parts.append(f"<h2>{e(w('changed'))}</h2><table cellpadding='4'>{changed}</table>")
    rows = [f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in letter.facts()]
    if letter.sessions:
        items = "".join(f"<li>{e(s)}</li>" for s in letter.sessions)
        label = e(w(letter.kind.sessions))
        rows.append(f"<tr><th align='left'>{label}</th><td><ul>{items}</ul></td></tr>")
    parts.append(f"<table cellpadding='4'>{''.join(rows)}</table>")
    if letter.position and letter.topic != "waitlisted":
        parts.append(f"<p>{e(w('waitlist'))}</p>")
    if letter.qr_cid:
        parts.append(
            f"<p><img src='cid:{e(letter.qr_cid)}' alt='{e(w('qr'))}' width='240' height='240'></p>"
        )
    if letter.join_url:
        parts.append(f"<p><a href='{e(letter.join_url)}'>{e(w('join'))}</a></p>")
        parts += [f"<p>{e(letter.instructions)}</p>"] if letter.instructions else []
    if letter.show_ticket():
        parts.append(
            f"<p><a href='{e(letter.ticket_url)}' style='display:inline-block;padding:10px 16px;"
            f"background:#0b5fff;color:#fff;text-decoration:none;border-radius:6px'>"
            f"{e(w(letter.kind.link))}</a></p>"
        )
    if letter.google_url and letter.outlook_url:
        parts.append(
            f"<p><a href='{e(letter.google_url)}'>{e(w('google'))}</a> · "
            f"<a href='{e(letter.outlook_url)}'>{e(w('outlook'))}</a></p>"
        )
    if letter.show_ticket() and letter.feed_url:
        parts.append(f"<p><a href='{e(letter.feed_url)}'>{e(w('feed'))}</a></p>")
    body = "\n".join(parts)
    return (
        f"<!doctype html><html lang='{e(letter.locale)}'><head><meta charset='utf-8'>"
        f"<title>{e(letter.subject)}</title></head>"
        "<body style='margin:0;background:#f4f4f5;font-family:system-ui,sans-serif'>\n"
        "<div style='max-width:560px;margin:0 auto;background:#fff;padding:24px'>\n"
        f"<h1 style='font-size:20px'>{e(letter.title)}</h1>\n{body}\n"
        f"<p style='color:#666;font-size:small'>{e(w('footer'))}</p>\n"
        "</div></body></html>\n"
    )
