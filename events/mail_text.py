"""The words of every mail, in English, Traditional and Simplified Chinese, and their layout.

A mail is a `Letter` (what to say) rendered as plain text and as HTML; mail.py wraps both
with the invite and the QR code into one message. HTML is escaped here, in one place.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

LOCALES = ("en", "zh-Hant", "zh-Hans")
BABEL = {"en": "en", "zh-Hant": "zh_Hant_HK", "zh-Hans": "zh_Hans_CN"}

# kind → (subject, first paragraph); {name}, {title}, {position} are filled in.
# "cancellation" has two: the event was cancelled, or the registration was.
TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "pending": (
            "Under review: {title}",
            "Dear {name}, thank you for applying for {title}. Your registration is under"
            " review; we will write again as soon as the host has decided.",
        ),
        "approved": (
            "Approved: {title}",
            "Dear {name}, your registration for {title} is approved and confirmed."
            " Show the QR ticket below at the door.",
        ),
        "rejected": (
            "Not approved: {title}",
            "Dear {name}, we are sorry: your registration for {title} was not approved.",
        ),
        "guest-invitation": (
            "You are invited: {title}",
            "Dear {name}, you are invited to {title}. Register with your personal link below"
            " (it is for you alone).",
        ),
        "confirmation": (
            "Registered: {title}",
            "Dear {name}, you are registered for {title}. Show the QR ticket below at the door.",
        ),
        "waitlisted": (
            "On the waitlist: {title}",
            "Dear {name}, {title} is full for now. You are number {position} on the waitlist;"
            " we will write again as soon as a seat is yours.",
        ),
        "promotion": (
            "A seat is yours: {title}",
            "Good news, {name}: a seat became free and your registration for {title} is now"
            " confirmed. Show the QR ticket below at the door.",
        ),
        "update": (
            "Changed: {title}",
            "Dear {name}, the host has changed {title}. The details below are current.",
        ),
        "event-cancelled": (
            "Cancelled: {title}",
            "Dear {name}, we are sorry: {title} has been cancelled.",
        ),
        "registration-cancelled": (
            "Registration cancelled: {title}",
            "Dear {name}, your registration for {title} is cancelled.",
        ),
    },
    "zh-Hant": {
        "pending": (
            "審核中：{title}",
            "{name} 您好，感謝您報名「{title}」。您的報名正在審核中，主辦單位決定後我們會再通知您。",
        ),
        "approved": (
            "報名已獲批准：{title}",
            "{name} 您好，您報名的「{title}」已獲批准並確認。入場時請出示下方的 QR 門票。",
        ),
        "rejected": (
            "報名未獲批准：{title}",
            "{name} 您好，很抱歉，您報名的「{title}」未獲批准。",
        ),
        "guest-invitation": (
            "誠邀出席：{title}",
            "{name} 您好，誠邀您出席「{title}」。請使用下方您的專屬連結報名（僅供您本人使用）。",
        ),
        "confirmation": (
            "報名成功：{title}",
            "{name} 您好，您已成功報名「{title}」。入場時請出示下方的 QR 門票。",
        ),
        "waitlisted": (
            "候補名單：{title}",
            "{name} 您好，「{title}」名額已滿，您目前是候補第 {position} 位；"
            "一有名額，我們會立即通知您。",
        ),
        "promotion": (
            "已獲分配名額：{title}",
            "{name} 您好，好消息：有名額空出，您報名的「{title}」現已確認。入場時請出示下方的 QR 門票。",
        ),
        "update": (
            "活動更新：{title}",
            "{name} 您好，主辦單位已更改「{title}」的安排。以下為最新資料。",
        ),
        "event-cancelled": (
            "活動取消：{title}",
            "{name} 您好，很抱歉，「{title}」已取消。",
        ),
        "registration-cancelled": (
            "報名已取消：{title}",
            "{name} 您好，您報名的「{title}」已取消。",
        ),
    },
    "zh-Hans": {
        "pending": (
            "审核中：{title}",
            "{name} 您好，感谢您报名“{title}”。您的报名正在审核中，主办方决定后我们会再通知您。",
        ),
        "approved": (
            "报名已获批准：{title}",
            "{name} 您好，您报名的“{title}”已获批准并确认。入场时请出示下方的二维码门票。",
        ),
        "rejected": (
            "报名未获批准：{title}",
            "{name} 您好，很抱歉，您报名的“{title}”未获批准。",
        ),
        "guest-invitation": (
            "诚邀出席：{title}",
            "{name} 您好，诚邀您出席“{title}”。请使用下方您的专属链接报名（仅供您本人使用）。",
        ),
        "confirmation": (
            "报名成功：{title}",
            "{name} 您好，您已成功报名“{title}”。入场时请出示下方的二维码门票。",
        ),
        "waitlisted": (
            "候补名单：{title}",
            "{name} 您好，“{title}”名额已满，您目前是候补第 {position} 位；"
            "一有名额，我们会立即通知您。",
        ),
        "promotion": (
            "已获分配名额：{title}",
            "{name} 您好，好消息：有名额空出，您报名的“{title}”现已确认。入场时请出示下方的二维码门票。",
        ),
        "update": (
            "活动更新：{title}",
            "{name} 您好，主办方已更改“{title}”的安排。以下为最新信息。",
        ),
        "event-cancelled": (
            "活动取消：{title}",
            "{name} 您好，很抱歉，“{title}”已取消。",
        ),
        "registration-cancelled": (
            "报名已取消：{title}",
            "{name} 您好，您报名的“{title}”已取消。",
        ),
    },
}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "guest_footer": "This message was sent because the host invited you to this event.",
        "reason": "Reason",
        "invitation": "Your personal invitation: register here",
        "when": "When",
        "where": "Where",
        "sessions": "Your sessions",
        "ticket": "Your ticket",
        "join": "Join online (your personal link, do not share it)",
        "google": "Add to Google Calendar",
        "outlook": "Add to Outlook",
        "feed": "All your events, as a calendar to subscribe to",
        "qr": "QR ticket",
        "footer": "This message was sent because you registered for this event.",
        "REQUEST": "The attached invite puts it in your calendar and keeps it up to date.",
        "CANCEL": "The attached update removes it from your calendar.",
    },
    "zh-Hant": {
        "guest_footer": "您收到此郵件，是因為主辦單位邀請您出席此活動。",
        "reason": "原因",
        "invitation": "您的專屬邀請：在此報名",
        "when": "時間",
        "where": "地點",
        "sessions": "您的場次",
        "ticket": "您的門票",
        "join": "線上參加（您的個人連結，請勿分享）",
        "google": "加入 Google 日曆",
        "outlook": "加入 Outlook",
        "feed": "訂閱您的所有活動（行事曆）",
        "qr": "QR 門票",
        "footer": "您收到此郵件，是因為您報名了此活動。",
        "REQUEST": "附上的邀請會把活動加入您的行事曆，並保持更新。",
        "CANCEL": "附上的更新會從您的行事曆中移除此活動。",
    },
    "zh-Hans": {
        "guest_footer": "您收到此邮件，是因为主办方邀请您出席此活动。",
        "reason": "原因",
        "invitation": "您的专属邀请：在此报名",
        "when": "时间",
        "where": "地点",
        "sessions": "您的场次",
        "ticket": "您的门票",
        "join": "线上参加（您的个人链接，请勿分享）",
        "google": "添加到 Google 日历",
        "outlook": "添加到 Outlook",
        "feed": "订阅您的所有活动（日历）",
        "qr": "二维码门票",
        "footer": "您收到此邮件，是因为您报名了此活动。",
        "REQUEST": "附上的邀请会把活动添加到您的日历，并保持更新。",
        "CANCEL": "附上的更新会从您的日历中移除此活动。",
    },
}


@dataclass(slots=True)
class Letter:
    """What one mail says; `topic` is a key of TEXT (a mail kind, or which cancellation)."""

    topic: str
    locale: str
    name: str
    title: str
    when: str
    where: str
    ticket_url: str
    feed_url: str
    google_url: str | None = None
    outlook_url: str | None = None
    position: int | None = None
    sessions: list[str] = field(default_factory=list)
    qr_cid: str | None = None  # the inline QR image's Content-ID, without <>
    invite_method: str | None = None  # REQUEST or CANCEL when an invite is attached
    reason: str | None = None  # why a registration was not approved, when the host said
    join_url: str | None = None  # an online attendee's personal join link (never the host's)
    instructions: str = ""  # the host's instructions for joining online

    @property
    def footer(self) -> str:
        return self.words["guest_footer" if self.topic == "guest-invitation" else "footer"]

    @property
    def link_label(self) -> str:
        return self.words["invitation" if self.topic == "guest-invitation" else "ticket"]

    @property
    def words(self) -> dict[str, str]:
        return LABELS.get(self.locale, LABELS["en"])

    def _texts(self) -> tuple[str, str]:
        subject, intro = TEXT.get(self.locale, TEXT["en"])[self.topic]
        values = {"name": self.name, "title": self.title, "position": self.position or ""}
        intro = intro.format(**values)
        if self.invite_method:
            intro += (" " if self.locale == "en" else "") + self.words[self.invite_method]
        return subject.format(**values), intro

    @property
    def subject(self) -> str:
        return self._texts()[0]


def when(starts_at: datetime, ends_at: datetime, zone: str, locale: str) -> str:
    """'Thursday, May 20, 2027 9:00 AM – 6:00 PM (Asia/Hong_Kong)', in the reader's language."""
    tz = ZoneInfo(zone)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    lang = BABEL.get(locale, "en")
    if start.date() == end.date():
        text = (
            f"{format_date(start, 'full', locale=lang)} "
            f"{format_time(start, 'short', tzinfo=tz, locale=lang)} – "
            f"{format_time(end, 'short', tzinfo=tz, locale=lang)}"
        )
    else:
        text = (
            f"{format_datetime(start, 'medium', tzinfo=tz, locale=lang)} – "
            f"{format_datetime(end, 'medium', tzinfo=tz, locale=lang)}"
        )
    return f"{text} ({zone})"


def plain(letter: Letter) -> str:
    w = letter.words
    _, intro = letter._texts()
    lines = [intro, ""]
    if letter.reason:
        lines += [f"{w['reason']}: {letter.reason}", ""]
    lines.append(f"{w['when']}: {letter.when}")
    if letter.where:
        lines.append(f"{w['where']}: {letter.where}")
    if letter.sessions:
        lines += [f"{w['sessions']}:", *(f"  - {s}" for s in letter.sessions)]
    if letter.join_url:
        lines += ["", f"{w['join']}: {letter.join_url}"]
        lines += [letter.instructions] if letter.instructions else []
    lines += ["", f"{letter.link_label}: {letter.ticket_url}"]
    if letter.google_url and letter.outlook_url:
        lines += [f"{w['google']}: {letter.google_url}", f"{w['outlook']}: {letter.outlook_url}"]
    if letter.feed_url:
        lines.append(f"{w['feed']}: {letter.feed_url}")
    lines += ["", "-- ", letter.footer]
    return "\n".join(lines) + "\n"


def rich(letter: Letter) -> str:
    w = letter.words
    e = html.escape
    _, intro = letter._texts()
    rows = [f"<tr><th align='left'>{e(w['when'])}</th><td>{e(letter.when)}</td></tr>"]
    if letter.where:
        rows.append(f"<tr><th align='left'>{e(w['where'])}</th><td>{e(letter.where)}</td></tr>")
    if letter.sessions:
        items = "".join(f"<li>{e(s)}</li>" for s in letter.sessions)
        rows.append(f"<tr><th align='left'>{e(w['sessions'])}</th><td><ul>{items}</ul></td></tr>")
    parts = [
        f"<p>{e(intro)}</p>",
        *([f"<p>{e(w['reason'])}: {e(letter.reason)}</p>"] if letter.reason else []),
        f"<table cellpadding='4'>{''.join(rows)}</table>",
    ]
    if letter.qr_cid:
        parts.append(
            f"<p><img src='cid:{e(letter.qr_cid)}' alt='{e(w['qr'])}' width='240' height='240'></p>"
        )
    if letter.join_url:
        parts.append(f"<p><a href='{e(letter.join_url)}'>{e(w['join'])}</a></p>")
        parts += [f"<p>{e(letter.instructions)}</p>"] if letter.instructions else []
    parts.append(f"<p><a href='{e(letter.ticket_url)}'>{e(letter.link_label)}</a></p>")
    if letter.google_url and letter.outlook_url:
        parts.append(
            f"<p><a href='{e(letter.google_url)}'>{e(w['google'])}</a> · "
            f"<a href='{e(letter.outlook_url)}'>{e(w['outlook'])}</a></p>"
        )
    if letter.feed_url:
        parts.append(f"<p><a href='{e(letter.feed_url)}'>{e(w['feed'])}</a></p>")
    parts.append(f"<p style='color:#666;font-size:small'>{e(letter.footer)}</p>")
    lang = e(letter.locale)
    body = "\n".join(parts)
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{e(letter.subject)}</title></head><body>\n{body}\n</body></html>\n"
    )
