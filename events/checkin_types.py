"""The check-in API's types (checkin.py): scans in and out, offline batches, undo, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

AwareDatetime = Annotated[datetime, Meta(tz=True)]
Code = Annotated[str, Meta(max_length=1000)]
Device = Annotated[str, Meta(max_length=200)]
Direction = Literal["in", "out"]
ResultName = Literal[
    "accepted",
    "already_checked_in",
    "cancelled",
    "wrong_event",
    "wrong_session",
    "not_confirmed",
    "not_inside",
    "invalid",
]
MAX_BATCH = 1000


class ScanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    session_id: str | None = None
    scanned_at: AwareDatetime | None = None
    device: Device = ""
    direction: Direction = "in"


class BatchScanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    scanned_at: AwareDatetime
    nonce: Annotated[str, Meta(min_length=1, max_length=100)]
    device: Device = ""
    session_id: str | None = None
    direction: Direction = "in"


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[BatchScanIn], Meta(max_length=MAX_BATCH)]


class RegistrationRef(msgspec.Struct):
    id: str
    name: str


class ScanResult(msgspec.Struct, omit_defaults=True):
    """One scan's answer; `result` says what the door shows."""

    result: ResultName
    registration: RegistrationRef | None = None
    checked_in_at: datetime | None = None
    door: str | None = None
    direction: Direction | None = None
    checkin_id: str | None = None
    detail: str | None = None
    nonce: str | None = None


class BatchOut(msgspec.Struct):
    results: list[ScanResult]


class UndoIn(msgspec.Struct, forbid_unknown_fields=True):
    registration_id: str
    session_id: str | None = None


class CheckinOut(msgspec.Struct):
    id: str
    registration: RegistrationRef
    session_id: str | None
    checked_in_at: datetime
    recorded_at: datetime
    device: str
    door: str
    inside: bool
    undone_at: datetime | None
    undone_by: str | None
