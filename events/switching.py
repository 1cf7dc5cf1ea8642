"""An attendee of a hybrid event switches between the room and online.

The switch takes a place of the other kind first (the same conditional statement on that
kind's shards as registering, so it is exact under concurrency) and only then gives back the
old one, to the head of the old kind's waitlist, all in one transaction (the self-service
PATCH /api/v1/registrations/{id}, selfservice.py, calls it with `attendance`): when the other kind
has no room it is a 409 event-full and nothing changes.
"""

from __future__ import annotations

from datetime import datetime

from events import audit, online, seats
from events.errors import EventFull, InvalidInput, InvalidState, NotFound
from events.hosting import Actor
from events.queries import Connection, Row
from events.queries import catalog as catalog_q
from events.queries import online as q
from events.queries import registration as registration_q
from events.queries import seats as seats_q


async def switch(
    conn: Connection,
    registration: Row,
    attendance: str,
    now: datetime,
    *,
    by: Actor | audit.Who | None = None,
) -> str:
    """`by`: who switched, for the log (default: the attendee). Returns the registration's
    status after the switch (a waitlisted one may have moved up)."""
    event = await catalog_q.event(conn, registration["event_id"])
    if event is None:
        raise NotFound("No such event")
    if event["format"] != "hybrid":
        target = {"format": event["format"]}
        problem = online.attendance_for(target, attendance)
        assert not isinstance(problem, tuple)
        raise InvalidInput([problem])
    async with conn.transaction():
        current = await registration_q.registration(conn, registration["id"], lock=True)
        assert current is not None
        if current["status"] in ("cancelled", "rejected"):
            raise InvalidState("A cancelled registration cannot switch")
        if current["attendance"] == attendance:
            return str(current["status"])
        to_online = attendance == "online"
        free = await seats_q.free_shards(conn, event["id"], online=to_online)
        if current["shard"] is None and current["status"] == "pending":  # holds nothing
            if not free:
                raise EventFull()
            await q.set_attendance(conn, current["id"], attendance, to_online, now)
            return str(current["status"])
        for shard in free:
            moved = await q.move_place(
                conn, current["id"], event["id"], shard, attendance=attendance, now=now
            )
            if moved is not None:
                break
        else:
            raise EventFull("No place of the other kind is free")
        if current["status"] == "waitlisted" and moved["status"] == "confirmed":
            await seats.claim_sessions(conn, current["id"])
        if current["shard"] is not None:  # its old place goes to that kind's waitlist
            await seats.free_seat(
                conn, event["id"], current["shard"], now, by or audit.attendee(current)
            )
        return str(moved["status"])
