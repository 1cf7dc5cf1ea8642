"""Sessions a person cannot attend together: chosen sessions whose times overlap."""

from __future__ import annotations

from uuid import UUID

from events.errors import FieldError, InvalidInput
from events.queries import Connection, Row
from events.queries import selfservice as q


def overlapping(spans: list[Row]) -> list[tuple[Row, Row]]:
    """Pairs of sessions whose times overlap (one ending as the next starts does not)."""
    ordered = sorted(spans, key=lambda s: (s["starts_at"], s["ends_at"]))
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b["starts_at"] >= a["ends_at"]:
                break
            pairs.append((a, b))
    return pairs


async def check_no_overlap(conn: Connection, session_ids: list[UUID]) -> None:
    """422 on `sessions`, naming the sessions, when two chosen sessions overlap in time."""
    if len(session_ids) < 2:
        return
    pairs = overlapping(await q.session_spans(conn, session_ids))
    if pairs:
        names = "; ".join(f"“{a['title']}” and “{b['title']}”" for a, b in pairs)
        raise InvalidInput(
            [FieldError("sessions", f"these sessions overlap in time: {names}")],
            detail=f"sessions: these sessions overlap in time: {names}",
        ) from None
