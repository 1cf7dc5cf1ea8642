"""A registration as the API takes and gives it (registration.py works on them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from events import online, tickets
from events.answers import Answer

Locale = Literal["en", "zh-Hant", "zh-Hans"]


class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(min_length=3, max_length=254, extra_json_schema={"format": "email"})]
    sessions: Annotated[list[str], Meta(max_length=100)] = []
    answers: Annotated[
        dict[Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,40}$")], Answer], Meta(max_length=50)
    ] = {}
    locale: Locale = "en"
    #: the name in Chinese characters beside `name` in Latin script (陳大文 / Chan Tai Man)
    chinese_name: Annotated[str, Meta(max_length=50)] | None = None
    access_code: Annotated[str, Meta(max_length=100)] | None = None
    invitation: Annotated[str, Meta(max_length=200)] | None = None
    #: true: the attendee accepts the event's consent line (required when it has one)
    consent: bool = False
    #: in the room or online (hybrid events); default: in_person, or online for online events
    attendance: online.Attendance | None = None


class RegistrationOut(msgspec.Struct):
    id: str
    event_id: str
    status: Literal["confirmed", "waitlisted", "cancelled", "pending", "rejected"]
    waitlist_position: int | None
    name: str
    chinese_name: str | None
    email: str
    access_token: str | None
    ticket: tickets.TicketOut | None
    calendar: str
    ticket_url: str
    sessions: list[str]
    answers: dict[str, Answer]
    locale: Locale
    created_at: datetime
    cancelled_at: datetime | None
    rejection_reason: str | None = None
    #: the first time the attendee's calendar accepted the invite (replies.py)
    accepted_at: datetime | None = None
    #: the last answer the attendee's calendar sent: ACCEPTED, DECLINED or TENTATIVE
    calendar_reply: str | None = None
    #: the event's consent line the attendee accepted, and when
    consent: str | None = None
    consent_at: datetime | None = None
    attendance: online.Attendance = "in_person"
    #: online attendees' personal link (`/join/<secret>`); they get no QR ticket
    join_url: str | None = None
    #: the first use of `join_url` inside its window: the online check-in
    joined_at: datetime | None = None
