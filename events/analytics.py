"""The numbers of an event's dashboard, for the API (`/analytics`) and the console alike.

One function, `analytics()`, reads them; the console's charts draw exactly what it returns.
Where they overlap with `/stats` they are the same numbers from the same rules: `confirmed`
counts checked-in registrations too, `checked_in` counts live check-ins at the event's door
of confirmed registrations.

- counts: registrations by status (every status, zeros included).
- show_up_rate: checked_in / confirmed (null while no one is confirmed).
- registrations_over_time: registrations made per hour (per day when they span more than
  three days), by the status each has now; buckets start at midnight in the event's zone,
  and empty buckets between the first and the last are listed with zeros.
- arrivals: check-ins per five minutes, by door (the door token's label, else the device
  name, else "" for a check-in by hand without one).
- sessions: each session's seats, confirmed holders, waitlisted holders and seats left.
- waitlist: who ever waited (promoted + still waiting + left the queue cancelled), and the
  conversion rate promoted / ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from events.queries import Connection, Row
from events.queries import analytics as q
from events.queries import checkin as checkin_q

STATUSES = ("confirmed", "waitlisted", "cancelled")
HOUR, DAY, FIVE_MINUTES = timedelta(hours=1), timedelta(days=1), timedelta(minutes=5)
MAX_FILLED = 2000  # buckets; beyond this, empty ones are left out


class TimeBucket(msgspec.Struct):
    start: datetime
    counts: dict[str, int]
    total: int


class OverTime(msgspec.Struct):
    step: str  # "hour" | "day"
    buckets: list[TimeBucket]


class Arrivals(msgspec.Struct):
    step: str  # "5min"
    doors: list[str]
    buckets: list[TimeBucket]  # counts by door
    total: int


class SessionFill(msgspec.Struct):
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str | None
    capacity: int | None
    confirmed: int
    waitlisted: int
    seats_left: int | None
    fill_rate: float | None


class Waitlist(msgspec.Struct):
    ever: int
    promoted: int
    waiting: int
    left: int
    conversion_rate: float | None


class AnalyticsOut(msgspec.Struct):
    event_id: str
    timezone: str
    capacity: int
    counts: dict[str, int]
    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int
    expected: int
    show_up_rate: float | None
    registrations_over_time: OverTime
    arrivals: Arrivals
    sessions: list[SessionFill]
    waitlist: Waitlist
    generated_at: datetime


async def analytics(conn: Connection, event: Row, now: datetime) -> AnalyticsOut:
    zone = ZoneInfo(event["timezone"])
    counts = {s: 0 for s in STATUSES} | await q.status_counts(conn, event["id"])
    checked_in = await checkin_q.checked_in_count(conn, event["id"])
    confirmed = counts["confirmed"]
    return AnalyticsOut(
        event_id=str(event["id"]),
        timezone=event["timezone"],
        capacity=int(event["capacity"]),
        counts=counts,
        confirmed=confirmed,
        waitlisted=counts["waitlisted"],
        cancelled=counts["cancelled"],
        checked_in=checked_in,
        expected=max(confirmed - checked_in, 0),
        show_up_rate=_rate(checked_in, confirmed),
        registrations_over_time=await _over_time(conn, event, zone),
        arrivals=await _arrivals(conn, event, zone),
        sessions=[_fill(s, zone) for s in await q.session_fill(conn, event["id"])],
        waitlist=_waitlist(await q.waitlist_flow(conn, event["id"])),
        generated_at=now.astimezone(zone),
    )


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def _midnight(when: datetime, zone: ZoneInfo) -> datetime:
    local = when.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def _over_time(conn: Connection, event: Row, zone: ZoneInfo) -> OverTime:
    span = await q.registration_span(conn, event["id"])
    if span["first"] is None:
        return OverTime("hour", [])
    step = HOUR if span["last"] - span["first"] <= timedelta(days=3) else DAY
    origin = _midnight(span["first"], zone)
    found = await q.registrations_over_time(conn, event["id"], step=step, origin=origin)
    buckets = _bucketed(found, "status", step, zone, STATUSES)
    return OverTime("hour" if step == HOUR else "day", buckets)


async def _arrivals(conn: Connection, event: Row, zone: ZoneInfo) -> Arrivals:
    found = await q.arrivals(conn, event["id"], origin=_midnight(event["starts_at"], zone))
    doors = sorted({r["door"] for r in found})
    buckets = _bucketed(found, "door", FIVE_MINUTES, zone, doors)
    return Arrivals("5min", doors, buckets, sum(int(r["n"]) for r in found))


def _bucketed(
    found: list[Row], key: str, step: timedelta, zone: ZoneInfo, names: tuple[str, ...] | list[str]
) -> list[TimeBucket]:
    """Rows of (bucket, key, n) → one TimeBucket per step from the first to the last."""
    by_start: dict[datetime, dict[str, int]] = {}
    for r in found:
        counts = by_start.setdefault(r["bucket"], {name: 0 for name in names})
        counts[r[key]] = counts.get(r[key], 0) + int(r["n"])
    if by_start:
        first, last = min(by_start), max(by_start)
        if (last - first) / step <= MAX_FILLED:
            at = first
            while at < last:
                by_start.setdefault(at, {name: 0 for name in names})
                at += step
    return [
        TimeBucket(start.astimezone(zone), counts, sum(counts.values()))
        for start, counts in sorted(by_start.items())
    ]


def _fill(s: Row, zone: ZoneInfo) -> SessionFill:
    confirmed, capacity = int(s["confirmed"]), s["capacity"]
    return SessionFill(
        id=str(s["id"]),
        title=s["title"],
        starts_at=s["starts_at"].astimezone(zone),
        ends_at=s["ends_at"].astimezone(zone),
        room=s["room"],
        capacity=capacity,
        confirmed=confirmed,
        waitlisted=int(s["waitlisted"]),
        seats_left=None if capacity is None else max(capacity - confirmed, 0),
        fill_rate=None if capacity is None else _rate(confirmed, capacity),
    )


def _waitlist(flow: Row) -> Waitlist:
    ever = flow["promoted"] + flow["waiting"] + flow["left_queue"]
    return Waitlist(
        ever=ever,
        promoted=flow["promoted"],
        waiting=flow["waiting"],
        left=flow["left_queue"],
        conversion_rate=_rate(flow["promoted"], ever),
    )


async def session_fills(conn: Connection, event: Row) -> dict[str, SessionFill]:
    """Each session's fill by id (the console's sessions list shows seats left)."""
    zone = ZoneInfo(event["timezone"])
    return {str(s["id"]): _fill(s, zone) for s in await q.session_fill(conn, event["id"])}
