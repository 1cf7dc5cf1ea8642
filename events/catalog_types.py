"""The types of events and sessions as the API takes and gives them (catalog.py's domain
works on them): what is validated where input enters, and what is rendered back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from events import online, privacy
from events import translations as tr
from events.durations import Reminders
from events.slugs import Visibility
from events.zones import TimeZone

AwareDatetime = Annotated[datetime, Meta(tz=True)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=20_000)]
Capacity = Annotated[int, Meta(ge=0, le=1_000_000)]
Approval = Literal["none", "hold", "screen"]
#: What a DECLINED calendar reply does (replies.py): cancel the registration, tell the hosts,
#: or nothing.
CalendarReplies = Literal["cancel", "notify", "ignore"]
QuestionId = Annotated[str, Meta(pattern=r"^[a-z0-9_]{1,40}$")]


class Venue(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=200)]
    address: Annotated[str, Meta(max_length=500)] = ""


class Question(msgspec.Struct, forbid_unknown_fields=True):
    """A question the host asks at registration; `choice` offers `options`."""

    id: QuestionId
    label: Annotated[str, Meta(min_length=1, max_length=300)]
    kind: Literal["text", "choice", "checkbox"] = "text"
    required: bool = False
    options: list[Annotated[str, Meta(min_length=1, max_length=200)]] = []
    translations: tr.QuestionTranslations | UnsetType = UNSET  # left out when it has none


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    timezone: TimeZone
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: Capacity
    description: Text = ""
    venue: Venue | None = None
    waitlist: bool = False
    reentry: bool = False
    visibility: Visibility = "public"
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    questions: Annotated[list[Question], Meta(max_length=50)] = []
    approval: Approval = "none"
    invite_only: bool = False
    edits_close_at: AwareDatetime | None = None
    reminders: Reminders = msgspec.field(default_factory=lambda: ["P1D"])
    translations: tr.EventTranslations = msgspec.field(default_factory=tr.EventTranslations)
    calendar_replies: CalendarReplies = "cancel"
    retention_days: privacy.RetentionDays = 180
    consent_text: privacy.ConsentText = ""
    privacy_url: privacy.PrivacyUrl = ""
    format: online.Format = "in_person"
    online: online.OnlineIn | None = None
    online_capacity: Capacity | None = None


class EventPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    starts_at: AwareDatetime | UnsetType = UNSET
    ends_at: AwareDatetime | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    venue: Venue | UnsetType | None = UNSET
    waitlist: bool | UnsetType = UNSET
    reentry: bool | UnsetType = UNSET
    visibility: Visibility | UnsetType = UNSET
    registration_opens_at: AwareDatetime | UnsetType | None = UNSET
    registration_closes_at: AwareDatetime | UnsetType | None = UNSET
    questions: Annotated[list[Question], Meta(max_length=50)] | UnsetType = UNSET
    approval: Approval | UnsetType = UNSET
    invite_only: bool | UnsetType = UNSET
    edits_close_at: AwareDatetime | UnsetType | None = UNSET
    reminders: Reminders | UnsetType = UNSET
    translations: tr.EventTranslations | UnsetType = UNSET  # replaces every language's
    calendar_replies: CalendarReplies | UnsetType = UNSET
    retention_days: privacy.RetentionDays | UnsetType = UNSET
    consent_text: privacy.ConsentText | UnsetType = UNSET
    privacy_url: privacy.PrivacyUrl | UnsetType = UNSET
    format: online.Format | UnsetType = UNSET
    online: online.OnlineIn | UnsetType | None = UNSET
    online_capacity: Capacity | UnsetType | None = UNSET


class Host(msgspec.Struct):
    partner: str
    role: Literal["owner", "cohost"]


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room: Annotated[str, Meta(max_length=200)] | None = None
    capacity: Capacity | None = None
    translations: tr.SessionTranslations = msgspec.field(default_factory=tr.SessionTranslations)


class SessionPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    starts_at: AwareDatetime | UnsetType = UNSET
    ends_at: AwareDatetime | UnsetType = UNSET
    room: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    capacity: Capacity | UnsetType | None = UNSET
    translations: tr.SessionTranslations | UnsetType = UNSET


class SessionOut(msgspec.Struct):
    id: str
    event_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None
    capacity: int | None
    translations: tr.SessionTranslations


class EventOut(msgspec.Struct):
    id: str
    slug: str
    status: Literal["draft", "published", "cancelled"]
    title: str
    description: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    venue: Venue | None
    capacity: int
    waitlist: bool
    reentry: bool
    visibility: Visibility
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    questions: list[Question]
    approval: Approval
    invite_only: bool
    edits_close_at: datetime  # attendees may change their registration until then
    reminders: list[str]
    cancel_reason: str | None
    translations: tr.EventTranslations
    calendar_replies: CalendarReplies
    format: online.Format
    #: the host's meeting link is `online.url`, given to hosts only
    online: online.OnlineOut | None
    #: a hybrid event's online places (null: no limit); `capacity` is the seats in the room
    online_capacity: int | None
    hosts: list[Host]
    sessions: list[SessionOut]
    revision: int
    created_at: datetime
    updated_at: datetime
    retention_days: int = 180
    retention_until: datetime | None = None
    consent_text: str = ""
    privacy_url: str = ""
